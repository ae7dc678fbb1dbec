package install

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/fault"
)

// AttributionDefaults are the 16 canonical referral URL parameters the
// tracking script (t.js) reads, in priority order: on a landing URL that
// carries several, the first one in this order wins. Together they cover the
// links of the platforms brands migrate from, so an affiliate's existing link
// keeps working when the brand keeps the affiliate's slug:
//
//	via             Rewardful's default (…/?via=jane)
//	ref             the generic one, used by many platforms and hand-rolled programs
//	fpr, fp_ref     FirstPromoter (fpr is its default)
//	deal            deal and offer links
//	aff             Lemon Squeezy affiliate links, and a common generic
//	rfsn            Refersion
//	gspk            PartnerStack's legacy (GrowSumo) partner key
//	ps_partner_key  PartnerStack's partner key
//	ps_xid          PartnerStack's click id
//	dub_id          Dub (Dub Partners) links
//	tap_a           Tapfiliate tracking links
//	_from, _by, _go short generic forms (…/?_by=jane)
//	a_aid           Post Affiliate Pro's affiliate id
//
// Whatever the parameter, its value is matched against an affiliate's
// referral slug in the organization; a value that is a click id rather than
// a slug (ps_xid, dub_id) finds an affiliate only when the brand gave the
// affiliate that value as its slug.
var AttributionDefaults = []string{
	"via", "ref", "fpr", "fp_ref", "deal", "aff", "rfsn", "gspk",
	"ps_partner_key", "ps_xid", "dub_id", "tap_a", "_from", "_by", "_go", "a_aid",
}

// Limits on an organization's custom attribution parameters.
const (
	AttributionMaxCustom   = 10  // entries
	AttributionMaxInputLen = 256 // characters of the comma-separated input
)

// attributionEntry is the shape of one parameter name: URL-safe, lowercase.
var attributionEntry = regexp.MustCompile(`^[a-z0-9_-]{2,32}$`)

// AttributionParams is an organization's attribution configuration: its
// custom parameters, the canonical defaults, and the order the tracking
// script tries them in (custom first, then the defaults not already listed).
type AttributionParams struct {
	Custom         []string `json:"custom"`
	Defaults       []string `json:"defaults"`
	EffectiveOrder []string `json:"effectiveOrder"`
}

// AttributionParamsOf returns org's attribution configuration.
func AttributionParamsOf(org *ent.Organization) *AttributionParams {
	custom := slices.Clone(org.CustomAttributionParams)
	if custom == nil {
		custom = []string{}
	}
	return &AttributionParams{
		Custom:         custom,
		Defaults:       slices.Clone(AttributionDefaults),
		EffectiveOrder: AttributionEffectiveOrder(custom),
	}
}

// AttributionEffectiveOrder is the order the tracking script tries
// parameters in: custom ones first, in the brand's order, then every default
// not already among them. A custom entry that names a default moves that
// default to the front.
func AttributionEffectiveOrder(custom []string) []string {
	out := make([]string, 0, len(custom)+len(AttributionDefaults))
	for _, p := range slices.Concat(custom, AttributionDefaults) {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// AttributionParse reads a comma-separated list of custom parameters. Each
// entry is trimmed and must match [a-z0-9_-]{2,32}: names are matched
// against URLs exactly, and URL parameter names are case-sensitive, so an
// entry with capitals is refused (with the lowercase form to use) rather than
// silently changed into a parameter the brand's links do not carry. Empty
// entries (a trailing comma) are skipped and repeats removed, keeping the
// first. At most 10 entries remain; the input is at most 256 characters.
// An empty input gives an empty list: no custom parameters.
func AttributionParse(raw string) ([]string, error) {
	if n := utf8.RuneCountInString(raw); n > AttributionMaxInputLen {
		return nil, fault.Invalid("custom", "is %d characters long; the list may be at most %d characters in total", n, AttributionMaxInputLen)
	}
	out := []string{}
	for part := range strings.SplitSeq(raw, ",") {
		p := strings.TrimSpace(part)
		switch {
		case p == "":
			continue
		case attributionEntry.MatchString(p):
		case strings.ToLower(p) != p && attributionEntry.MatchString(strings.ToLower(p)):
			return nil, fault.Invalid("custom", "entry %q has capital letters: URL parameters are matched exactly, so write it in lowercase (%q) and use the lowercase form in your links", p, strings.ToLower(p))
		case utf8.RuneCountInString(p) < 2 || utf8.RuneCountInString(p) > 32:
			return nil, fault.Invalid("custom", "entry %q must be 2 to 32 characters long", p)
		default:
			return nil, fault.Invalid("custom", "entry %q may use only lowercase letters a-z, digits 0-9, underscore and hyphen (no spaces, dots or other characters); separate entries with commas", p)
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	if len(out) > AttributionMaxCustom {
		return nil, fault.Invalid("custom", "has %d entries; at most %d custom parameters are allowed (the %d defaults are always tried after them)", len(out), AttributionMaxCustom, len(AttributionDefaults))
	}
	return out, nil
}

// AttributionGet returns the configuration of the organization orgID.
func AttributionGet(ctx context.Context, client *ent.Client, orgID string) (*AttributionParams, error) {
	org, err := client.Organization.Get(ctx, orgID)
	if err != nil {
		return nil, err
	}
	return AttributionParamsOf(org), nil
}

// AttributionUpdate replaces the organization's custom parameters with the
// comma-separated list custom; nil or empty clears them. Setting the list it
// already has writes nothing (and so no audit row); any change is one
// organization update, which the audit hook logs.
func AttributionUpdate(ctx context.Context, client *ent.Client, orgID string, custom *string) (*AttributionParams, error) {
	var raw string
	if custom != nil {
		raw = *custom
	}
	list, err := AttributionParse(raw)
	if err != nil {
		return nil, err
	}
	org, err := client.Organization.Get(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if slices.Equal(org.CustomAttributionParams, list) {
		return AttributionParamsOf(org), nil
	}
	upd := client.Organization.UpdateOne(org)
	if len(list) == 0 {
		upd.ClearCustomAttributionParams()
	} else {
		upd.SetCustomAttributionParams(list)
	}
	if org, err = upd.Save(ctx); err != nil {
		return nil, err
	}
	return AttributionParamsOf(org), nil
}
