package demo_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/demo"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/campaign"
	"github.com/tandemhq/tandem/ent/conversion"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/store"
	"github.com/tandemhq/tandem/store/storetest"
)

// now is the injected clock: the history ends here, whatever the date.
var now = time.Date(2025, time.June, 15, 12, 0, 0, 0, time.UTC)

func newOrg(t *testing.T, db *store.DB, slug string) *ent.Organization {
	t.Helper()
	org, err := db.Client.Organization.Create().SetName("Acme").SetSlug(slug).Save(rule.AsSystem(context.Background()))
	if err != nil {
		t.Fatalf("creating org: %v", err)
	}
	return org
}

func small(orgID string) demo.Options {
	return demo.Options{OrgID: orgID, Affiliates: 40, Conversions: 1200, Clicks: 900, Seed: 7, Now: now}
}

func TestSeed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := rule.AsSystem(context.Background())
		db := b.Open(t)
		org := newOrg(t, db, "acme")
		res, err := demo.Seed(context.Background(), db, small(org.ID))
		if err != nil {
			t.Fatal(err)
		}
		c := db.Client
		counts := []struct {
			name      string
			got, want int
		}{
			{"campaigns", c.Campaign.Query().CountX(ctx), res.Campaigns},
			{"affiliates", c.Affiliate.Query().CountX(ctx), 40},
			{"conversions", c.Conversion.Query().CountX(ctx), 1200},
			{"clicks", c.Click.Query().CountX(ctx), 900},
			{"leads", c.Lead.Query().CountX(ctx), res.Leads},
			{"payout batches", c.PayoutBatch.Query().CountX(ctx), res.Payouts},
			{"payout lines", c.PayoutLineItem.Query().CountX(ctx), res.PayoutLines},
			{"coupons", c.Coupon.Query().CountX(ctx), res.Coupons},
		}
		for _, n := range counts {
			if n.got != n.want || n.got == 0 {
				t.Errorf("%s: %d rows, want %d (and more than none)", n.name, n.got, n.want)
			}
		}
		if res.Affiliates != 40 || res.Conversions != 1200 || res.Clicks != 900 || res.Campaigns < 3 {
			t.Errorf("result %+v", res)
		}

		camps := c.Campaign.Query().AllX(ctx)
		var percent, fixed, sub, selfMint bool
		for _, cp := range camps {
			percent = percent || cp.CommissionType == campaign.CommissionTypePercentage
			fixed = fixed || cp.CommissionType == campaign.CommissionTypeFixed
			sub = sub || cp.SubAffiliatesEnabled && cp.SubAffiliateOverrideBps > 0
			selfMint = selfMint || cp.CouponSelfMint
		}
		if !percent || !fixed || !sub || !selfMint {
			t.Errorf("campaigns lack a kind: percentage %v fixed %v sub-affiliates %v self-mint %v", percent, fixed, sub, selfMint)
		}

		affs := c.Affiliate.Query().AllX(ctx)
		affStatus := map[affiliate.Status]int{}
		recruited := 0
		for _, a := range affs {
			affStatus[a.Status]++
			if a.RecruitedByID != nil {
				recruited++
			}
		}
		for _, st := range []affiliate.Status{affiliate.StatusPending, affiliate.StatusApproved, affiliate.StatusRejected, affiliate.StatusBlocked} {
			if affStatus[st] == 0 {
				t.Errorf("no affiliate is %s: %v", st, affStatus)
			}
		}
		if affStatus[affiliate.StatusApproved] <= len(affs)/2 {
			t.Errorf("most affiliates should be approved: %v", affStatus)
		}
		if recruited == 0 {
			t.Error("no affiliate was recruited by another")
		}

		from := now.AddDate(0, 0, -365)
		convs := c.Conversion.Query().AllX(ctx)
		status := map[conversion.Status]int{}
		currencies := map[string]int{}
		overrides := 0
		lineSums := map[string]int64{}
		lineCounts := map[string]int{}
		for _, cv := range convs {
			status[cv.Status]++
			currencies[cv.Currency]++
			if cv.OccurredAt.Before(from) || cv.OccurredAt.After(now) {
				t.Errorf("conversion %s occurred at %s, outside the year before %s", cv.ID, cv.OccurredAt, now)
			}
			if cv.HomeCurrency != org.HomeCurrency {
				t.Errorf("conversion %s home currency %s, want %s", cv.ID, cv.HomeCurrency, org.HomeCurrency)
			}
			if cv.Currency == cv.HomeCurrency && (cv.HomeAmountCents != cv.AmountCents || cv.FxRate != 1) {
				t.Errorf("conversion %s in the home currency converted: %+v", cv.ID, cv)
			}
			if cv.OverrideAffiliateID != nil {
				overrides++
				if cv.OverrideCommissionCents <= 0 {
					t.Errorf("conversion %s has an override affiliate and no override", cv.ID)
				}
			}
			if cv.ExternalID == nil {
				t.Errorf("conversion %s has no external_id", cv.ID)
			}
			if cv.Status == conversion.StatusPaid && (cv.PaidAt == nil || cv.PayoutLineItemID == nil) {
				t.Errorf("paid conversion %s lacks paid_at or its payout line", cv.ID)
			}
			if cv.PayoutLineItemID != nil {
				lineSums[*cv.PayoutLineItemID] += cv.HomeCommissionCents
				lineCounts[*cv.PayoutLineItemID]++
			}
		}
		for _, st := range []conversion.Status{conversion.StatusPending, conversion.StatusApproved, conversion.StatusPaid, conversion.StatusRefunded, conversion.StatusDenied} {
			if status[st] == 0 {
				t.Errorf("no conversion is %s: %v", st, status)
			}
		}
		if len(currencies) < 4 {
			t.Errorf("conversions in only %d currencies: %v", len(currencies), currencies)
		}
		if overrides == 0 {
			t.Error("no conversion carries a sub-affiliate override")
		}

		lines := c.PayoutLineItem.Query().AllX(ctx)
		batchSums := map[string]int64{}
		for _, l := range lines {
			if l.AmountCents != lineSums[l.ID] || l.ConversionCount != lineCounts[l.ID] {
				t.Errorf("line %s: %d cents over %d conversions, its conversions sum to %d over %d",
					l.ID, l.AmountCents, l.ConversionCount, lineSums[l.ID], lineCounts[l.ID])
			}
			batchSums[l.BatchID] += l.AmountCents
		}
		for _, pb := range c.PayoutBatch.Query().AllX(ctx) {
			if pb.TotalCents != batchSums[pb.ID] {
				t.Errorf("batch %s total %d, its lines sum to %d", pb.ID, pb.TotalCents, batchSums[pb.ID])
			}
		}

		code := regexp.MustCompile(`^[A-Z0-9][A-Z0-9_-]{1,63}$`)
		perAffiliate := 0
		for _, cp := range c.Coupon.Query().AllX(ctx) {
			if !code.MatchString(cp.Code) {
				t.Errorf("coupon code %q", cp.Code)
			}
			if cp.AffiliateID != nil {
				perAffiliate++
			}
		}
		if perAffiliate == 0 || perAffiliate == res.Coupons {
			t.Errorf("%d of %d coupons belong to an affiliate; want some, not all", perAffiliate, res.Coupons)
		}
	})
}

// An organization that reports in yen gets yen amounts with no minor unit,
// and rates that turn dollars into thousands of yen.
func TestSeedInAnotherHomeCurrency(t *testing.T) {
	ctx := rule.AsSystem(context.Background())
	db := storetest.SQLite(t)
	org, err := db.Client.Organization.Create().SetName("Kaisha").SetSlug("kaisha").SetHomeCurrency("JPY").Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Seed(context.Background(), db, small(org.ID)); err != nil {
		t.Fatal(err)
	}
	for _, cv := range db.Client.Conversion.Query().AllX(ctx) {
		switch {
		case cv.HomeCurrency != "JPY":
			t.Fatalf("conversion %s home currency %s", cv.ID, cv.HomeCurrency)
		case cv.Currency == "USD" && (cv.FxRate < 100 || cv.FxRate > 200):
			t.Fatalf("conversion %s: USD to JPY at %v", cv.ID, cv.FxRate)
		case cv.Currency == "USD" && cv.AmountCents > 0 && cv.HomeAmountCents > cv.AmountCents*2:
			t.Fatalf("conversion %s: %d US cents became %d yen", cv.ID, cv.AmountCents, cv.HomeAmountCents)
		}
	}

	gold, err := db.Client.Organization.Create().SetName("Gold").SetSlug("gold").SetHomeCurrency("XAU").Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Seed(context.Background(), db, small(gold.ID)); err == nil || !strings.Contains(err.Error(), "XAU") {
		t.Errorf("seeding an org in XAU: %v, want an error naming the currency", err)
	}
}

// conversionRows renders the conversions in ID order, one line each, with
// everything a second seed must reproduce.
func conversionRows(t *testing.T, db *store.DB) []string {
	t.Helper()
	ctx := rule.AsSystem(context.Background())
	convs := db.Client.Conversion.Query().Order(conversion.ByID()).AllX(ctx)
	out := make([]string, len(convs))
	for i, c := range convs {
		out[i] = fmt.Sprintf("%s %s %s %d %s %d %d %d %s %d", c.ID, c.Type, c.Status, c.AmountCents, c.Currency,
			c.CommissionCents, c.HomeAmountCents, c.HomeCommissionCents, c.OccurredAt.UTC().Format(time.RFC3339Nano), c.OverrideCommissionCents)
	}
	return out
}

func TestSeedIsDeterministic(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		seedFresh := func(seed int64) []string {
			db := b.Open(t)
			opts := small(newOrg(t, db, "acme").ID)
			opts.Seed = seed
			if _, err := demo.Seed(context.Background(), db, opts); err != nil {
				t.Fatal(err)
			}
			return conversionRows(t, db)
		}
		first, again, other := seedFresh(7), seedFresh(7), seedFresh(8)
		if len(first) != len(again) {
			t.Fatalf("same seed: %d then %d conversions", len(first), len(again))
		}
		for i := range first {
			if first[i] != again[i] {
				t.Fatalf("same seed, row %d differs:\n%s\n%s", i, first[i], again[i])
			}
		}
		same := 0
		for i := range min(len(first), len(other)) {
			if first[i] == other[i] {
				same++
			}
		}
		if same > 0 {
			t.Errorf("another seed reproduced %d of %d rows", same, len(first))
		}
	})
}

// The rows depend on the options alone, not on the backend they land in.
func TestSeedIsTheSameOnEveryBackend(t *testing.T) {
	backends := storetest.Backends(t)
	if len(backends) < 2 {
		t.Skipf("needs a second backend: set %s", storetest.PostgresEnv)
	}
	var want []string
	for _, b := range backends {
		db := b.Open(t)
		if _, err := demo.Seed(context.Background(), db, small(newOrg(t, db, "acme").ID)); err != nil {
			t.Fatalf("%s: %v", b.Name, err)
		}
		got := conversionRows(t, db)
		if want == nil {
			want = got
			continue
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s wrote different conversions than %s", b.Name, backends[0].Name)
		}
	}
}

// Two organizations seeded with the same seed in one database, and one
// organization seeded twice, must not collide on any key.
func TestSeedTwiceAndSideBySide(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := rule.AsSystem(context.Background())
		db := b.Open(t)
		acme, beta := newOrg(t, db, "acme"), newOrg(t, db, "beta")
		for _, id := range []string{acme.ID, acme.ID, beta.ID} {
			if _, err := demo.Seed(context.Background(), db, small(id)); err != nil {
				t.Fatalf("seeding %s: %v", id, err)
			}
		}
		if n := db.Client.Conversion.Query().CountX(ctx); n != 3*1200 {
			t.Errorf("%d conversions, want %d", n, 3*1200)
		}
		slugs := db.Client.Campaign.Query().Where(campaign.OrgID(acme.ID)).Select(campaign.FieldSlug).StringsX(ctx)
		marked := 0
		for _, s := range slugs {
			if strings.HasSuffix(s, "-r4") {
				marked++
			}
		}
		if len(slugs) != 8 || marked != 4 {
			t.Errorf("acme campaign slugs after two runs: %v", slugs)
		}
	})
}

func TestSeedRefusesBadOptions(t *testing.T) {
	db := storetest.SQLite(t)
	org := newOrg(t, db, "acme")
	cases := []struct {
		opts demo.Options
		want string
	}{
		{demo.Options{}, "OrgID"},
		{demo.Options{OrgID: org.ID, Affiliates: -1}, "Options.Affiliates"},
		{demo.Options{OrgID: org.ID, Conversions: -5}, "Options.Conversions"},
		{demo.Options{OrgID: org.ID, Clicks: -2}, "Options.Clicks"},
		{demo.Options{OrgID: org.ID, Affiliates: demo.MaxAffiliates + 1}, "Options.Affiliates"},
		{demo.Options{OrgID: "org_missing"}, "org org_missing not found"},
	}
	for _, c := range cases {
		_, err := demo.Seed(context.Background(), db, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Seed(%+v) = %v, want an error naming %q", c.opts, err, c.want)
		}
	}
	if n := db.Client.Campaign.Query().CountX(rule.AsSystem(context.Background())); n != 0 {
		t.Errorf("refused seeds wrote %d campaigns", n)
	}
}

// TestSeedTimings measures the default sizes and a million conversions on
// SQLite. It takes minutes, so it runs only with TANDEM_DEMO_BIG=1.
func TestSeedTimings(t *testing.T) {
	if os.Getenv("TANDEM_DEMO_BIG") == "" {
		t.Skip("set TANDEM_DEMO_BIG=1 to time seeding a million conversions")
	}
	for _, opts := range []demo.Options{{}, {Conversions: 1_000_000}} {
		db := storetest.SQLite(t)
		opts.OrgID, opts.Now = newOrg(t, db, "acme").ID, now
		if testing.Verbose() {
			opts.Progress = os.Stderr
		}
		res, err := demo.Seed(context.Background(), db, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%+v", res)
	}
}
