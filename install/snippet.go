package install

import (
	"context"
	"crypto/rand"
	"fmt"
	"html"
	"math/big"
	"strings"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/campaign"
	"github.com/tandemhq/tandem/fault"
)

// InstallSnippet is the ready-to-paste tag that puts Tandem's tracking on a
// brand's site, with what went into it.
type InstallSnippet struct {
	CampaignID   string   `json:"campaignId"`
	CampaignName string   `json:"campaignName"`
	HTML         string   `json:"html"`      // paste verbatim into the site's <head>
	ScriptURL    string   `json:"scriptUrl"` // where t.js is served
	Params       []string `json:"params"`    // the attribution parameters, in the order tried
	PixelKey     *string  `json:"pixelKey"`  // embedded only when the pixel was asked for
	Instructions string   `json:"instructions"`
}

// SnippetScriptPath is the path the tracking script is served at.
const SnippetScriptPath = "/t.js"

// PixelKeyPrefix starts every pixel public key.
const PixelKeyPrefix = "pk_"

// pixelKeyBodyLen is the number of base62 characters after the prefix: 24
// of them carry about 143 bits.
const pixelKeyBodyLen = 24

const snippetBase62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// PixelKeyNew returns a fresh pixel public key, pk_ followed by 24 random
// base62 characters. It is public by design (it sits in the brand's page
// source) and only ties conversion and lead calls to the organization, so it
// is stored as it is.
func PixelKeyNew() (string, error) {
	var b strings.Builder
	b.WriteString(PixelKeyPrefix)
	limit := big.NewInt(int64(len(snippetBase62)))
	for range pixelKeyBodyLen {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return "", fmt.Errorf("install: generating a pixel key: %w", err)
		}
		b.WriteByte(snippetBase62[n.Int64()])
	}
	return b.String(), nil
}

// PixelKeyCreate gives the organization orgID a new pixel public key,
// replacing the one it has: a page still carrying the old key stops
// recording conversions and leads until its snippet is updated. The change
// is an organization update, which the audit hook logs.
func PixelKeyCreate(ctx context.Context, client *ent.Client, orgID string) (*ent.Organization, error) {
	key, err := PixelKeyNew()
	if err != nil {
		return nil, err
	}
	return client.Organization.UpdateOneID(orgID).SetPixelPublicKey(key).Save(ctx)
}

// SnippetFor builds the install snippet of the organization orgID for the
// campaign campaignID, or, when it is nil or empty, for the organization's
// newest active campaign. withPixel embeds the organization's pixel public
// key and an example conversion call; it is refused (pixel_key_missing) when
// the organization has no key yet. publicURL is the base URL the script is
// served from, without a trailing slash.
func SnippetFor(ctx context.Context, client *ent.Client, orgID, publicURL string, campaignID *string, withPixel bool) (*InstallSnippet, error) {
	org, err := client.Organization.Get(ctx, orgID)
	if err != nil {
		return nil, err
	}
	var cmp *ent.Campaign
	if campaignID != nil && strings.TrimSpace(*campaignID) != "" {
		cmp, err = client.Campaign.Get(ctx, strings.TrimSpace(*campaignID))
		if err != nil {
			return nil, err
		}
		if cmp.Status == campaign.StatusArchived {
			return nil, fault.Invalid("campaignID", "names the archived campaign %q: its snippet would track nothing; pass an active campaign's id, or omit campaignID for the newest active one", cmp.Name)
		}
	} else {
		cmp, err = client.Campaign.Query().
			Where(campaign.StatusEQ(campaign.StatusActive)).
			Order(ent.Desc(campaign.FieldCreatedAt), ent.Desc(campaign.FieldID)).
			First(ctx)
		if ent.IsNotFound(err) {
			return nil, fault.Invalid("campaignID", "was not given and the organization has no active campaign: create a campaign first (create_campaign), then ask for the snippet again")
		}
		if err != nil {
			return nil, err
		}
	}
	var pixelKey *string
	if withPixel {
		if org.PixelPublicKey == nil || *org.PixelPublicKey == "" {
			return nil, fault.Conflict("withPixel", "pixel_key_missing",
				"this organization has no pixel public key yet: an owner creates one under Settings → Install (or with the createPixelKey mutation), then ask for the snippet again; or ask without withPixel for click tracking only")
		}
		key := *org.PixelPublicKey
		pixelKey = &key
	}
	params := AttributionEffectiveOrder(org.CustomAttributionParams)
	base := strings.TrimRight(publicURL, "/")
	s := &InstallSnippet{
		CampaignID:   cmp.ID,
		CampaignName: cmp.Name,
		ScriptURL:    base + SnippetScriptPath,
		Params:       params,
		PixelKey:     pixelKey,
	}
	s.HTML = snippetHTML(s.ScriptURL, cmp.ID, params, pixelKey)
	s.Instructions = snippetInstructions(cmp, params, pixelKey != nil)
	return s, nil
}

// snippetHTML renders the tag and, with a pixel key, a commented-out example
// of the conversion and lead calls: commented so that pasting the snippet
// never records the example's made-up order.
func snippetHTML(scriptURL, campaignID string, params []string, pixelKey *string) string {
	var b strings.Builder
	b.WriteString("<!-- Tandem referral tracking: paste into the <head> of every page of your site. -->\n")
	fmt.Fprintf(&b, `<script async src="%s" data-program="%s" data-params="%s"`,
		html.EscapeString(scriptURL), html.EscapeString(campaignID), html.EscapeString(strings.Join(params, ",")))
	if pixelKey != nil {
		fmt.Fprintf(&b, ` data-pixel="%s"`, html.EscapeString(*pixelKey))
	}
	b.WriteString("></script>\n")
	if pixelKey == nil {
		return b.String()
	}
	b.WriteString(`<!--
  Record a sale on your order confirmation page (uncomment and fill in the
  real order; amountCents is in minor units: 4900 = 49.00). The same orderId
  twice records one sale.

<script>
  window.tandem = window.tandem || { q: [], conversion: function (d) { this.q.push(["conversion", d]); }, lead: function (d) { this.q.push(["lead", d]); } };
  window.tandem.conversion({ amountCents: 4900, currency: "USD", orderId: "ORDER-1001", email: "customer@example.com" });
</script>

  Record a free signup as a lead, so a later sale is credited even without the cookie:
  window.tandem.lead({ email: "customer@example.com", name: "Customer Name" });
-->
`)
	return b.String()
}

func snippetInstructions(cmp *ent.Campaign, params []string, withPixel bool) string {
	first := "via"
	if len(params) > 0 {
		first = params[0]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Paste the html into the <head> of every page of the site (or the site builder's custom code / header setting) for the campaign %q. "+
		"When a visitor arrives through an affiliate link such as ?%s=<affiliate slug> (or any of the listed params), it records the click and remembers the referral for the campaign's %d-day cookie window. ",
		cmp.Name, first, cmp.CookieWindowDays)
	if withPixel {
		b.WriteString("To credit sales, call window.tandem.conversion({amountCents, currency, orderId, email}) on the order confirmation page, as in the commented example; call window.tandem.lead({email, name}) on signup to record leads. Conversions start Pending for review.")
	} else {
		b.WriteString("This tracks clicks only: to credit sales, connect Stripe, or ask for the snippet with withPixel=true to record conversions from the page.")
	}
	return b.String()
}
