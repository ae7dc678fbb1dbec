package coupons

import (
	"context"
	"fmt"
	"maps"
	"math"
	"strings"
	"time"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/campaign"
	"github.com/tandemhq/tandem/ent/coupon"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/viewer"
)

// MaxActiveAffiliateCoupons caps the unrevoked codes one affiliate holds,
// so self-minting cannot flood the organization's code space.
const MaxActiveAffiliateCoupons = 10

// GenerateAffiliateCoupon mints a per-affiliate code for affiliateID on the
// campaign programID.
//
// The campaign must allow it (coupon_self_mint), the affiliate must be
// Approved and promote that campaign, and the campaign must have an active
// campaign-level coupon: the new code copies that coupon's discount
// (percentOff or amountOffCents with currency, duration, durationInMonths)
// and its expiry, from the newest one that is unrevoked, unexpired and not
// used up. It does not copy maxRedemptions (the template's cap counts the
// template's own redemptions). The code is vanity, normalized to the code
// pattern, or the affiliate's slug plus a random suffix. Its metadata
// records the template coupon and who minted it.
//
// An affiliate-scoped viewer may mint only for itself (any other
// affiliateID is not found); this is the one write such a viewer can make.
func GenerateAffiliateCoupon(ctx context.Context, c *ent.Client, now time.Time, affiliateID, programID string, vanity *string) (*ent.Coupon, error) {
	return mint(ctx, c, now, mintInput{affiliateID: affiliateID, programID: programID, code: vanity,
		programField: "programID", codeField: "vanity"})
}

// mintInput is a per-affiliate code to mint: generateAffiliateCoupon's
// arguments, or createCoupon's input with an affiliateID.
type mintInput struct {
	affiliateID, programID string
	code                   *string // empty: the affiliate's slug plus a random suffix
	name                   *string // nil: the template's name and the affiliate's slug
	// terms, when given, must equal the template's: the code copies them.
	terms          givenTerms
	maxRedemptions *int
	expiresAt      *time.Time // nil: the template's expiry
	metadata       map[string]any
	// programField and codeField name the campaign and the code in
	// refusals as the caller's inputs do (programID and vanity, or
	// campaignID and code).
	programField, codeField string
}

// mint checks and creates a per-affiliate code: the one path every such
// code takes, whichever mutation asks for it.
func mint(ctx context.Context, c *ent.Client, now time.Time, in mintInput) (*ent.Coupon, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, rule.ErrNoViewer
	}
	mintedBy := "brand"
	if v.AffiliateID != "" {
		if in.affiliateID != v.AffiliateID {
			// Another affiliate is as invisible as another organization's.
			return nil, &rule.RefNotFoundError{Edge: "affiliate", ID: in.affiliateID}
		}
		mintedBy = "affiliate"
		ctx = rule.AllowAffiliateCouponMint(ctx)
	}
	var code string
	if in.code != nil && strings.TrimSpace(*in.code) != "" {
		var err error
		if code, err = NormalizeCode(in.codeField, *in.code); err != nil {
			return nil, err
		}
	}
	var name string
	if in.name != nil {
		var err error
		if name, err = checkName(*in.name); err != nil {
			return nil, err
		}
	}
	if err := checkOwnLimits(now, in.maxRedemptions, in.expiresAt); err != nil {
		return nil, err
	}
	if err := checkMintedMetadata(in.metadata); err != nil {
		return nil, err
	}
	aff, err := c.Affiliate.Get(ctx, in.affiliateID)
	if ent.IsNotFound(err) {
		return nil, fault.NotFound("affiliateID", "affiliateID %s names no affiliate of this organization", in.affiliateID)
	} else if err != nil {
		return nil, err
	}
	cmp, err := getProgram(ctx, c, in.programField, in.programID)
	if err != nil {
		return nil, err
	}
	if !cmp.CouponSelfMint {
		return nil, &fault.Error{Kind: fault.KindForbidden, Field: in.programField, Reason: "coupon_self_mint_disabled",
			Message: "program " + cmp.ID + " does not allow per-affiliate coupon codes: the brand turns on couponSelfMint for it " +
				"(updateCampaign with couponSelfMint: true) before codes can be generated"}
	}
	if aff.CampaignID != cmp.ID {
		return nil, fault.Invalid(in.programField, "affiliate %s promotes program %s, not %s: pass its own program", aff.ID, aff.CampaignID, cmp.ID)
	}
	if aff.Status != affiliate.StatusApproved {
		return nil, fault.Invalid("affiliateID", "affiliate %s is %s; only Approved affiliates get coupon codes: approve it first", aff.ID, aff.Status)
	}
	if cmp.Status != campaign.StatusActive {
		return nil, fault.Invalid(in.programField, "program %s is %s; codes are minted only on an Active program", cmp.ID, cmp.Status)
	}
	tpl, err := templateCoupon(ctx, c, in.programField, cmp.ID, now)
	if err != nil {
		return nil, err
	}
	if err := in.terms.match(tpl); err != nil {
		return nil, err
	}
	active, err := c.Coupon.Query().Where(coupon.AffiliateID(aff.ID), coupon.RevokedAtIsNil()).Count(ctx)
	if err != nil {
		return nil, err
	}
	if active >= MaxActiveAffiliateCoupons {
		return nil, &fault.Error{Kind: fault.KindLimitReached, Field: "affiliateID", Reason: "coupon_limit_reached",
			Message: fmt.Sprintf("affiliate %s already holds the maximum of %d active coupon codes: revoke one (revoke_affiliate_coupon) first",
				aff.ID, MaxActiveAffiliateCoupons)}
	}
	field := in.codeField
	if code == "" {
		field = "code"
		if code, err = freeCode(ctx, c, aff.Slug); err != nil {
			return nil, err
		}
	} else if err := codeFree(ctx, c, field, code); err != nil {
		return nil, err
	}
	if name == "" {
		name = tpl.Name + " · " + aff.Slug
		if r := []rune(name); len(r) > MaxNameLen {
			name = string(r[:MaxNameLen])
		}
	}
	expiresAt := tpl.ExpiresAt
	if in.expiresAt != nil {
		expiresAt = utc(in.expiresAt)
	}
	create := c.Coupon.Create().
		SetCampaignID(cmp.ID).
		SetAffiliateID(aff.ID).
		SetCode(code).
		SetName(name).
		SetNillableMaxRedemptions(in.maxRedemptions).
		SetNillableExpiresAt(expiresAt).
		SetMetadata(withMinted(in.metadata, map[string]any{"template_coupon_id": tpl.ID, "minted_by": mintedBy}))
	return saveCode(ctx, setTerms(create, termsOf(tpl)), field, code)
}

// mintedKeys are the metadata keys Tandem writes on a per-affiliate code:
// the campaign coupon it copies and who minted it. Nobody else sets them.
var mintedKeys = []string{"template_coupon_id", "minted_by"}

// checkMintedMetadata bounds the metadata a caller gives a per-affiliate
// code: none of mintedKeys, and room left for them.
func checkMintedMetadata(md map[string]any) error {
	for _, k := range mintedKeys {
		if _, ok := md[k]; ok {
			return fault.Invalid("metadata", "key %q is Tandem's record of how a per-affiliate code was minted: leave it out", k)
		}
	}
	if room := MaxMetadataKeys - len(mintedKeys); len(md) > room {
		return fault.Invalid("metadata", "has %d keys; a per-affiliate code takes at most %d besides Tandem's %s",
			len(md), room, strings.Join(mintedKeys, " and "))
	}
	return checkMetadata(md)
}

// withMinted is md plus the mintedKeys of record, a new map.
func withMinted(md, record map[string]any) map[string]any {
	out := maps.Clone(md)
	if out == nil {
		out = map[string]any{}
	}
	for _, k := range mintedKeys {
		if v, ok := record[k]; ok {
			out[k] = v
		}
	}
	return out
}

// givenTerms are the discount fields a caller passed for a per-affiliate
// code; nil ones are copied from the campaign coupon.
type givenTerms struct {
	percentOff       *float64
	amountOffCents   *int64
	currency         *string
	duration         *coupon.Duration
	durationInMonths *int
}

// differs names the first given term that is not t's, or "".
func (g givenTerms) differs(t terms) string {
	switch {
	case g.percentOff != nil && (t.percentOff == nil || math.Abs(*g.percentOff-*t.percentOff) > 1e-6):
		return "percentOff"
	case g.amountOffCents != nil && (t.amountOffCents == nil || *g.amountOffCents != *t.amountOffCents):
		return "amountOffCents"
	case g.currency != nil && !strings.EqualFold(strings.TrimSpace(*g.currency), t.currency):
		return "currency"
	case g.duration != nil && *g.duration != t.duration:
		return "duration"
	case g.durationInMonths != nil && (t.durationInMonths == nil || *g.durationInMonths != *t.durationInMonths):
		return "durationInMonths"
	}
	return ""
}

// match refuses a given term that differs from the campaign coupon tpl's.
func (g givenTerms) match(tpl *ent.Coupon) error {
	t := termsOf(tpl)
	field := g.differs(t)
	if field == "" {
		return nil
	}
	return fault.Invalid(field, "differs from the discount of campaign coupon %s (%s), which per-affiliate codes copy: "+
		"omit percentOff, amountOffCents, currency, duration and durationInMonths to copy it, "+
		"or give the campaign a coupon with the discount you want first (createCoupon without affiliateID)", tpl.Code, t)
}

// templateCoupon is the campaign's newest usable campaign-level coupon.
func templateCoupon(ctx context.Context, c *ent.Client, programField, campaignID string, now time.Time) (*ent.Coupon, error) {
	list, err := c.Coupon.Query().
		Where(coupon.CampaignID(campaignID), coupon.AffiliateIDIsNil(), coupon.RevokedAtIsNil(),
			coupon.Or(coupon.ExpiresAtIsNil(), coupon.ExpiresAtGT(now))).
		Order(ent.Desc(coupon.FieldCreatedAt), ent.Desc(coupon.FieldID)).
		All(ctx)
	if err != nil {
		return nil, err
	}
	for _, cp := range list {
		if cp.MaxRedemptions == nil || cp.TimesRedeemed < *cp.MaxRedemptions {
			return cp, nil
		}
	}
	return nil, &fault.Error{Kind: fault.KindInvalid, Field: programField, Reason: "campaign_coupon_required",
		Message: programField + " " + campaignID + " has no active campaign-level coupon to take the discount from: " +
			"create a campaign coupon first (create_campaign_coupon), then generate affiliate codes"}
}

func termsOf(cp *ent.Coupon) terms {
	return terms{
		percentOff:       cp.PercentOff,
		amountOffCents:   cp.AmountOffCents,
		currency:         cp.Currency,
		duration:         cp.Duration,
		durationInMonths: cp.DurationInMonths,
	}
}

// RevokeAffiliateCoupon deactivates a per-affiliate code. Revoking a revoked
// code changes nothing and returns it as it is. A campaign-level code is
// refused: it is the discount the affiliates' codes copy.
func RevokeAffiliateCoupon(ctx context.Context, c *ent.Client, now time.Time, couponID string) (*ent.Coupon, error) {
	cp, err := c.Coupon.Get(ctx, couponID)
	if err != nil {
		return nil, err
	}
	if cp.AffiliateID == nil {
		return nil, fault.Invalid("couponID", "%s is a campaign-level coupon (%s); this revokes only per-affiliate codes: "+
			"end a campaign coupon by setting its revokedAt with updateCoupon", cp.ID, cp.Code)
	}
	// The update runs the privacy policy even when the code is revoked
	// already, so a viewer who may not revoke is refused either way.
	revoked, err := c.Coupon.UpdateOneID(cp.ID).Where(coupon.RevokedAtIsNil()).SetRevokedAt(now).Save(ctx)
	if ent.IsNotFound(err) {
		return c.Coupon.Get(ctx, cp.ID) // revoked already: unchanged
	}
	return revoked, err
}
