package programs

import (
	"math"
	"math/bits"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/campaign"
)

// bpsDenominator is 100% in basis points.
const bpsDenominator = 10000

// Commission returns what affiliate a earns on campaign c for a sale of
// amountCents, in minor units of the sale's currency.
//
// The affiliate's custom commission overrides the campaign's: a custom value
// replaces the campaign's value, in the custom type when one is set, else in
// the campaign's type. A custom type without a custom value is ignored, since
// the campaign's value is in the other type's units.
//
//   - Percentage: the value is basis points (2000 = 20%), and the commission
//     is amountCents × value / 10000 rounded half away from zero.
//   - Fixed: the value is the commission itself, in minor units of the
//     campaign's currency, whatever the amount (a lead has amount 0).
//
// A negative amount (a reversal) gives the negated commission of the
// positive amount. A result beyond int64 saturates.
func Commission(c *ent.Campaign, a *ent.Affiliate, amountCents int64) int64 {
	if amountCents < 0 {
		return -Commission(c, a, -max(amountCents, -math.MaxInt64))
	}
	value := c.CommissionValue
	if a != nil && a.CustomCommissionValue != nil {
		value = *a.CustomCommissionValue
	}
	switch CommissionType(c, a) {
	case campaign.CommissionTypeFixed:
		return value
	default:
		return basisPoints(amountCents, value)
	}
}

// CommissionType returns the commission type that applies to affiliate a on
// campaign c: the affiliate's custom type when it has a custom value, else
// the campaign's. Callers use it to know which currency a Fixed commission is in.
func CommissionType(c *ent.Campaign, a *ent.Affiliate) campaign.CommissionType {
	if a != nil && a.CustomCommissionValue != nil && a.CustomCommissionType != nil {
		switch *a.CustomCommissionType {
		case affiliate.CustomCommissionTypeFixed:
			return campaign.CommissionTypeFixed
		case affiliate.CustomCommissionTypePercentage:
			return campaign.CommissionTypePercentage
		}
	}
	return c.CommissionType
}

// Override returns the sub-affiliate override a recruiter earns on a recruit's
// commission on campaign c: sub_affiliate_override_bps of commission, rounded
// half away from zero, or 0 when the campaign does not run sub-affiliates.
// It is in the same currency as commission.
func Override(c *ent.Campaign, commission int64) int64 {
	if !c.SubAffiliatesEnabled || c.SubAffiliateOverrideBps <= 0 {
		return 0
	}
	if commission < 0 {
		return -Override(c, -max(commission, -math.MaxInt64))
	}
	return basisPoints(commission, int64(c.SubAffiliateOverrideBps))
}

// basisPoints returns amount × bps / 10000 rounded half away from zero, for
// non-negative amount and bps, saturating at math.MaxInt64. The product is
// taken in 128 bits, so no large sale overflows it.
func basisPoints(amount, bps int64) int64 {
	if amount <= 0 || bps <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(amount), uint64(bps))
	var carry uint64
	lo, carry = bits.Add64(lo, bpsDenominator/2, 0)
	hi += carry
	if hi >= bpsDenominator {
		return math.MaxInt64 // the quotient does not fit in 64 bits
	}
	q, _ := bits.Div64(hi, lo, bpsDenominator)
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(q)
}
