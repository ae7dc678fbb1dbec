package programs_test

import (
	"math"
	"testing"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/campaign"
	"github.com/tandemhq/tandem/programs"
)

func commissionPct(bps int64) *ent.Campaign {
	return &ent.Campaign{CommissionType: campaign.CommissionTypePercentage, CommissionValue: bps}
}

func commissionFixed(cents int64) *ent.Campaign {
	return &ent.Campaign{CommissionType: campaign.CommissionTypeFixed, CommissionValue: cents}
}

func commissionPtr[T any](v T) *T { return &v }

func TestCommission(t *testing.T) {
	plain := &ent.Affiliate{}
	for _, tc := range []struct {
		name   string
		c      *ent.Campaign
		a      *ent.Affiliate
		amount int64
		want   int64
	}{
		{"20% of 100.00", commissionPct(2000), plain, 10000, 2000},
		{"20% of 49.99 rounds 9.998 up", commissionPct(2000), plain, 4999, 1000},
		{"12.5% of 0.04 is half a cent, rounded away from zero", commissionPct(1250), plain, 4, 1},
		{"12.5% of 0.03 rounds 0.375 down", commissionPct(1250), plain, 3, 0},
		{"percentage of nothing", commissionPct(2000), plain, 0, 0},
		{"no affiliate", commissionPct(1000), nil, 555, 56},
		{"reversal is the negated commission", commissionPct(2000), plain, -4999, -1000},
		{"fixed ignores the amount", commissionFixed(1500), plain, 123456, 1500},
		{"fixed on a lead (no amount)", commissionFixed(300), plain, 0, 300},
		{"fixed reversal", commissionFixed(1500), plain, -10000, -1500},
		{"affiliate's value in the campaign's type", commissionPct(2000), &ent.Affiliate{CustomCommissionValue: commissionPtr[int64](3000)}, 10000, 3000},
		{"affiliate's fixed over the campaign's percentage", commissionPct(2000),
			&ent.Affiliate{CustomCommissionType: commissionPtr(affiliate.CustomCommissionTypeFixed), CustomCommissionValue: commissionPtr[int64](700)}, 10000, 700},
		{"affiliate's percentage over the campaign's fixed", commissionFixed(1500),
			&ent.Affiliate{CustomCommissionType: commissionPtr(affiliate.CustomCommissionTypePercentage), CustomCommissionValue: commissionPtr[int64](1000)}, 10000, 1000},
		{"a custom type without a value is ignored", commissionPct(2000),
			&ent.Affiliate{CustomCommissionType: commissionPtr(affiliate.CustomCommissionTypeFixed)}, 10000, 2000},
		{"a custom value of zero earns nothing", commissionPct(2000), &ent.Affiliate{CustomCommissionValue: commissionPtr[int64](0)}, 10000, 0},
		{"huge sale does not overflow", commissionPct(10000), plain, math.MaxInt64, math.MaxInt64},
		{"huge sale at 50%", commissionPct(5000), plain, math.MaxInt64 - 1, math.MaxInt64 / 2},
		{"result beyond int64 saturates", commissionPct(20000), plain, math.MaxInt64, math.MaxInt64},
		{"most negative amount", commissionPct(10000), plain, math.MinInt64, -math.MaxInt64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := programs.Commission(tc.c, tc.a, tc.amount); got != tc.want {
				t.Errorf("Commission(%d) = %d, want %d", tc.amount, got, tc.want)
			}
		})
	}
}

func TestCommissionType(t *testing.T) {
	if got := programs.CommissionType(commissionPct(2000), &ent.Affiliate{CustomCommissionType: commissionPtr(affiliate.CustomCommissionTypeFixed), CustomCommissionValue: commissionPtr[int64](1)}); got != campaign.CommissionTypeFixed {
		t.Errorf("custom fixed: %s", got)
	}
	if got := programs.CommissionType(commissionPct(2000), &ent.Affiliate{CustomCommissionType: commissionPtr(affiliate.CustomCommissionTypeFixed)}); got != campaign.CommissionTypePercentage {
		t.Errorf("custom type without value: %s", got)
	}
	if got := programs.CommissionType(commissionFixed(1), nil); got != campaign.CommissionTypeFixed {
		t.Errorf("no affiliate: %s", got)
	}
}

func TestOverride(t *testing.T) {
	on := func(bps int) *ent.Campaign {
		return &ent.Campaign{SubAffiliatesEnabled: true, SubAffiliateOverrideBps: bps}
	}
	for _, tc := range []struct {
		name       string
		c          *ent.Campaign
		commission int64
		want       int64
	}{
		{"10% of 20.00", on(1000), 2000, 200},
		{"10% of 0.05 rounds half up", on(1000), 5, 1},
		{"15% of 9.99 = 1.4985", on(1500), 999, 150},
		{"sub-affiliates off", &ent.Campaign{SubAffiliatesEnabled: false, SubAffiliateOverrideBps: 1000}, 2000, 0},
		{"enabled at 0%", on(0), 2000, 0},
		{"no commission", on(1000), 0, 0},
		{"reversal", on(1000), -2000, -200},
		{"100%", on(10000), 2000, 2000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := programs.Override(tc.c, tc.commission); got != tc.want {
				t.Errorf("Override(%d) = %d, want %d", tc.commission, got, tc.want)
			}
		})
	}
}
