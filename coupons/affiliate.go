package coupons

import (
	"context"
	"fmt"
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
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, rule.ErrNoViewer
	}
	mintedBy := "brand"
	if v.AffiliateID != "" {
		if affiliateID != v.AffiliateID {
			// Another affiliate is as invisible as another organization's.
			return nil, &rule.RefNotFoundError{Edge: "affiliate", ID: affiliateID}
		}
		mintedBy = "affiliate"
		ctx = rule.AllowAffiliateCouponMint(ctx)
	}
	var code string
	if vanity != nil && *vanity != "" {
		var err error
		if code, err = NormalizeCode("vanity", *vanity); err != nil {
			return nil, err
		}
	}
	aff, err := c.Affiliate.Get(ctx, affiliateID)
	if err != nil {
		return nil, err
	}
	cmp, err := c.Campaign.Get(ctx, programID)
	if err != nil {
		return nil, err
	}
	if !cmp.CouponSelfMint {
		return nil, &fault.Error{Kind: fault.KindForbidden, Field: "programID", Reason: "coupon_self_mint_disabled",
			Message: "program " + cmp.ID + " does not allow per-affiliate coupon codes: the brand turns on couponSelfMint for it " +
				"(updateCampaign with couponSelfMint: true) before codes can be generated"}
	}
	if aff.CampaignID != cmp.ID {
		return nil, fault.Invalid("programID", "affiliate %s promotes program %s, not %s: pass its own program", aff.ID, aff.CampaignID, cmp.ID)
	}
	if aff.Status != affiliate.StatusApproved {
		return nil, fault.Invalid("affiliateID", "affiliate %s is %s; only Approved affiliates get coupon codes: approve it first", aff.ID, aff.Status)
	}
	if cmp.Status != campaign.StatusActive {
		return nil, fault.Invalid("programID", "program %s is %s; codes are minted only on an Active program", cmp.ID, cmp.Status)
	}
	tpl, err := templateCoupon(ctx, c, cmp.ID, now)
	if err != nil {
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
	field := "vanity"
	if code == "" {
		field = "code"
		if code, err = freeCode(ctx, c, aff.Slug); err != nil {
			return nil, err
		}
	} else if err := codeFree(ctx, c, field, code); err != nil {
		return nil, err
	}
	name := tpl.Name + " · " + aff.Slug
	if r := []rune(name); len(r) > MaxNameLen {
		name = string(r[:MaxNameLen])
	}
	create := c.Coupon.Create().
		SetCampaignID(cmp.ID).
		SetAffiliateID(aff.ID).
		SetCode(code).
		SetName(name).
		SetNillableExpiresAt(tpl.ExpiresAt).
		SetMetadata(map[string]any{"template_coupon_id": tpl.ID, "minted_by": mintedBy})
	return saveCode(ctx, setTerms(create, termsOf(tpl)), field, code)
}

// templateCoupon is the campaign's newest usable campaign-level coupon.
func templateCoupon(ctx context.Context, c *ent.Client, campaignID string, now time.Time) (*ent.Coupon, error) {
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
	return nil, &fault.Error{Kind: fault.KindInvalid, Field: "programID", Reason: "campaign_coupon_required",
		Message: "program " + campaignID + " has no active campaign-level coupon to take the discount from: " +
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
