package coupons

import (
	"context"
	"time"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/coupon"
	"github.com/tandemhq/tandem/fault"
)

// revokeSkew is how far past the server's clock a revokedAt may be, for a
// client that sends its own "now".
const revokeSkew = time.Minute

// CreateCoupon is the generic createCoupon: its ent-generated input, held to
// the rules of the explicit mutations. Without an affiliate it is a
// campaign-level coupon, checked as CreateCampaignCoupon checks one. With
// one it is a per-affiliate code, minted as GenerateAffiliateCoupon mints
// one (code is the vanity): it copies the campaign coupon's discount, so a
// discount field given must equal it; name, maxRedemptions, expiresAt (by
// default the campaign coupon's) and metadata are the code's own.
func CreateCoupon(ctx context.Context, c *ent.Client, now time.Time, in ent.CreateCouponInput) (*ent.Coupon, error) {
	if in.AffiliateID == nil {
		var amount *int
		if in.AmountOffCents != nil {
			a := int(*in.AmountOffCents)
			amount = &a
		}
		return createCampaignCoupon(ctx, c, now, CampaignCouponInput{
			ProgramID: in.CampaignID, Name: in.Name, PercentOff: in.PercentOff, AmountOffCents: amount,
			Currency: in.Currency, Duration: in.Duration, DurationInMonths: in.DurationInMonths,
			MaxRedemptions: in.MaxRedemptions, ExpiresAt: in.ExpiresAt, Metadata: in.Metadata, Code: &in.Code,
		}, "campaignID")
	}
	return mint(ctx, c, now, mintInput{
		affiliateID: *in.AffiliateID, programID: in.CampaignID, code: &in.Code, name: &in.Name,
		terms: givenTerms{percentOff: in.PercentOff, amountOffCents: in.AmountOffCents, currency: in.Currency,
			duration: in.Duration, durationInMonths: in.DurationInMonths},
		maxRedemptions: in.MaxRedemptions, expiresAt: in.ExpiresAt, metadata: in.Metadata,
		programField: "campaignID", codeField: "code",
	})
}

// UpdateCoupon is the generic updateCoupon. It changes what may change once
// a code is out (name, maxRedemptions, expiresAt, metadata) under the rules
// a new coupon meets, and revokes the coupon when revokedAt is set. The
// discount stays as it was handed out and a revocation is final: a
// different discount, clearRevokedAt, or a revokedAt other than the one
// recorded is refused, naming the input and what to do instead. (The code
// is immutable in the ent schema, so no input carries it.) On a
// per-affiliate code, the metadata keys Tandem recorded at minting stay.
func UpdateCoupon(ctx context.Context, c *ent.Client, now time.Time, id string, in ent.UpdateCouponInput) (*ent.Coupon, error) {
	cp, err := c.Coupon.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if field := discountChange(in, termsOf(cp)); field != "" {
		fix := "revoke it (updateCoupon with revokedAt) and create a coupon with the new discount (createCoupon)"
		if cp.AffiliateID != nil {
			fix = "a per-affiliate code keeps the discount of the campaign coupon it copied: revoke it (revokeAffiliateCoupon) " +
				"and mint a new one (generateAffiliateCoupon), which copies the campaign's current coupon"
		}
		return nil, fault.Invalid(field, "cannot change: coupon %s (%s) was handed out as %s, and a coupon's discount stays as it was; %s",
			cp.ID, cp.Code, termsOf(cp), fix)
	}
	if in.ClearRevokedAt && cp.RevokedAt != nil {
		return nil, fault.Invalid("clearRevokedAt", "cannot undo a revocation: coupon %s (%s) stays revoked and its code stays reserved; "+
			"create a new coupon (createCoupon) with another code instead", cp.ID, cp.Code)
	}
	for _, both := range []struct {
		set, clear       bool
		field, clearName string
	}{
		{in.MaxRedemptions != nil, in.ClearMaxRedemptions, "maxRedemptions", "clearMaxRedemptions"},
		{in.ExpiresAt != nil, in.ClearExpiresAt, "expiresAt", "clearExpiresAt"},
		{in.Metadata != nil, in.ClearMetadata, "metadata", "clearMetadata"},
	} {
		if both.set && both.clear {
			return nil, fault.Invalid(both.field, "cannot be given with %s: pass one of them", both.clearName)
		}
	}
	upd := c.Coupon.UpdateOneID(cp.ID)
	if in.Name != nil {
		name, err := checkName(*in.Name)
		if err != nil {
			return nil, err
		}
		upd.SetName(name)
	}
	if err := checkOwnLimits(now, in.MaxRedemptions, in.ExpiresAt); err != nil {
		return nil, err
	}
	upd.SetNillableMaxRedemptions(in.MaxRedemptions).SetNillableExpiresAt(utc(in.ExpiresAt))
	if in.ClearMaxRedemptions {
		upd.ClearMaxRedemptions()
	}
	if in.ClearExpiresAt {
		upd.ClearExpiresAt()
	}
	switch {
	case in.Metadata == nil && !in.ClearMetadata:
	case cp.AffiliateID != nil:
		if err := checkMintedMetadata(in.Metadata); err != nil {
			return nil, err
		}
		upd.SetMetadata(withMinted(in.Metadata, cp.Metadata))
	case in.ClearMetadata:
		upd.ClearMetadata()
	default:
		if err := checkMetadata(in.Metadata); err != nil {
			return nil, err
		}
		upd.SetMetadata(in.Metadata)
	}
	revoking := in.RevokedAt != nil && cp.RevokedAt == nil
	switch {
	case revoking && in.RevokedAt.After(now.Add(revokeSkew)):
		return nil, fault.Invalid("revokedAt", "must not be in the future (it is %s, now is %s): a coupon stops applying when it is revoked; pass the current time",
			in.RevokedAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	case revoking:
		// Revoked once: a concurrent revocation wins and this one is refused.
		upd.Where(coupon.RevokedAtIsNil()).SetRevokedAt(in.RevokedAt.UTC())
	case in.RevokedAt != nil && !in.RevokedAt.Equal(*cp.RevokedAt):
		return nil, revokedAlready(cp)
	}
	out, err := upd.Save(ctx)
	if revoking && ent.IsNotFound(err) {
		if cp, err = c.Coupon.Get(ctx, cp.ID); err != nil {
			return nil, err
		}
		return nil, revokedAlready(cp)
	}
	return out, err
}

// discountChange names the first input of in that would change the
// discount t, or "". Giving the discount a coupon has changes nothing, so a
// client that sends the whole coupon back is not refused for it.
func discountChange(in ent.UpdateCouponInput, t terms) string {
	if f := (givenTerms{percentOff: in.PercentOff, amountOffCents: in.AmountOffCents, currency: in.Currency,
		duration: in.Duration, durationInMonths: in.DurationInMonths}).differs(t); f != "" {
		return f
	}
	switch {
	case in.ClearPercentOff && t.percentOff != nil:
		return "clearPercentOff"
	case in.ClearAmountOffCents && t.amountOffCents != nil:
		return "clearAmountOffCents"
	case in.ClearCurrency && t.currency != "":
		return "clearCurrency"
	case in.ClearDurationInMonths && t.durationInMonths != nil:
		return "clearDurationInMonths"
	}
	return ""
}

func revokedAlready(cp *ent.Coupon) error {
	return fault.Conflict("revokedAt", "coupon_already_revoked",
		"revokedAt: coupon %s (%s) was revoked at %s, and a revocation is final and keeps its time: leave revokedAt out",
		cp.ID, cp.Code, cp.RevokedAt.UTC().Format(time.RFC3339))
}
