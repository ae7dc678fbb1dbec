package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/tandemhq/tandem/account"
	"github.com/tandemhq/tandem/coupons"
	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/enrollment"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/auditlogentry"
	"github.com/tandemhq/tandem/ent/conversion"
	"github.com/tandemhq/tandem/ent/organization"
	"github.com/tandemhq/tandem/ent/payoutbatch"
	"github.com/tandemhq/tandem/graph"
	"github.com/tandemhq/tandem/imports"
	"github.com/tandemhq/tandem/mcpadapter"
	"github.com/tandemhq/tandem/programs"
	"github.com/tandemhq/tandem/provision"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/viewer"
)

// reportNow is the reports tests' clock: a Friday afternoon, UTC. Its 30d
// window starts at midnight on 2026-10-22, its 7d window on 2026-11-14.
var reportNow = time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)

// program is an organization with a known history around reportNow. The
// comments on seedProgram give every row; the tests' expected numbers are
// sums of those rows.
type program struct {
	OrgID          string
	Owner, Member  *viewer.Viewer
	MCP            *viewer.Viewer
	C1, C2         string
	A1, A2, A3, A4 string // a2 and a6 were recruited by a1
	A5, A6         string
	Conv           map[string]string // conversion IDs by label
	B1, B2, B3     string            // payout batches, oldest first
}

// seedProgram builds the organization slug (plan: growth):
//
//	campaigns  c1 (a1, a2), c2 (a3 Pending, a4, a5 Rejected, a6)
//	conversions (home USD unless noted), by label:
//	  n1 a1 c1 now-1h  Approved 10000/2000
//	  n2 a1 c1 now-2d  Pending   5000/1000
//	  n3 a2 c1 now-10d Paid     20000/4000  override a1 400
//	  n4 a2 c1 now-40d Approved  3000/600   override a1 60
//	  n5 a1 c1 now-3d  Refunded  7000/1400
//	  n6 a1 c1 now-5d  Denied    1000/200
//	  n7 a2 c1 now-6d  Approved  8000/1600 recorded in EUR as home (an earlier home currency)
//	  n9 a5 c2 now-1d  Pending   1000/100
//	  n10 a2 c1 now-400d Paid    9900/1980 home USD, paid in EUR (9000/1800), override a1 180 EUR
//	  n11 a2 c1 now-8d Refunded  2000/400  override a1 40
//	clicks     a1 c1 today, now-1d, 2026-10-22 00:00:00 (first instant of the 30d window);
//	           a4 c2 2026-10-21 23:59:59 (just outside); a3 c2 today
//	leads      a1 c1 now-2d; a4 c2 now-45d
//	payouts    b1 pays a1, b2 pays a2, b3 pays a1 and a2 (b3 Paid, newest)
func seedProgram(t *testing.T, c *ent.Client, slug string) *program {
	t.Helper()
	ctx := sys()
	res, err := provision.CreateOrg(ctx, c, provision.OrgInput{Name: slug, Slug: slug, OwnerEmail: "owner@" + slug + ".test", Plan: "growth"})
	if err != nil {
		t.Fatal(err)
	}
	org := res.OrgID
	p := &program{OrgID: org, Conv: map[string]string{}}
	p.Owner = &viewer.Viewer{OrgID: org, UserID: res.OwnerUserID, Role: viewer.RoleOwner, ActorType: viewer.ActorUser,
		ActorID: res.OwnerUserID, Plan: "Growth", SubscriptionStatus: "active", EmailVerified: true}
	p.Member = &viewer.Viewer{OrgID: org, UserID: res.OwnerUserID, Role: viewer.RoleMember, ActorType: viewer.ActorUser,
		ActorID: res.OwnerUserID, Plan: "Growth", SubscriptionStatus: "active"}
	p.MCP = &viewer.Viewer{OrgID: org, UserID: res.OwnerUserID, Role: viewer.RoleOwner, ActorType: viewer.ActorMCP,
		ActorID: "mcp_test", TokenID: "mcp_test", Plan: "Growth", SubscriptionStatus: "active"}

	p.C1 = must(c.Campaign.Create().SetOrgID(org).SetName(slug + " one").SetSlug("one").Save(ctx)).get(t).ID
	p.C2 = must(c.Campaign.Create().SetOrgID(org).SetName(slug + " two").SetSlug("two").Save(ctx)).get(t).ID
	aff := func(name, cmp string, status affiliate.Status, recruiter string, created time.Time) string {
		b := c.Affiliate.Create().SetOrgID(org).SetCampaignID(cmp).SetEmail(name + "@" + slug + ".test").
			SetFullName(strings.ToUpper(name)).SetSlug(slug + "-" + name).SetStatus(status).SetCreatedAt(created)
		if recruiter != "" {
			b.SetRecruitedByID(recruiter)
		}
		return must(b.Save(ctx)).get(t).ID
	}
	old := reportNow.AddDate(-2, 0, 0)
	p.A1 = aff("a1", p.C1, affiliate.StatusApproved, "", old)
	p.A2 = aff("a2", p.C1, affiliate.StatusApproved, p.A1, old.Add(time.Hour))
	p.A3 = aff("a3", p.C2, affiliate.StatusPending, "", old)
	p.A4 = aff("a4", p.C2, affiliate.StatusApproved, "", old)
	p.A5 = aff("a5", p.C2, affiliate.StatusRejected, "", old)
	p.A6 = aff("a6", p.C2, affiliate.StatusApproved, p.A1, old.Add(2*time.Hour))

	type conv struct {
		label, aff, cmp string
		at              time.Time
		status          conversion.Status
		amount, comm    int64
		currency, home  string
		homeAmount      int64
		homeComm        int64
		override        int64
	}
	h, d := time.Hour, 24*time.Hour
	for _, cv := range []conv{
		{"n1", p.A1, p.C1, reportNow.Add(-h), conversion.StatusApproved, 10000, 2000, "USD", "USD", 10000, 2000, 0},
		{"n2", p.A1, p.C1, reportNow.Add(-2 * d), conversion.StatusPending, 5000, 1000, "USD", "USD", 5000, 1000, 0},
		{"n3", p.A2, p.C1, reportNow.Add(-10 * d), conversion.StatusPaid, 20000, 4000, "USD", "USD", 20000, 4000, 400},
		{"n4", p.A2, p.C1, reportNow.Add(-40 * d), conversion.StatusApproved, 3000, 600, "USD", "USD", 3000, 600, 60},
		{"n5", p.A1, p.C1, reportNow.Add(-3 * d), conversion.StatusRefunded, 7000, 1400, "USD", "USD", 7000, 1400, 0},
		{"n6", p.A1, p.C1, reportNow.Add(-5 * d), conversion.StatusDenied, 1000, 200, "USD", "USD", 1000, 200, 0},
		{"n7", p.A2, p.C1, reportNow.Add(-6 * d), conversion.StatusApproved, 8000, 1600, "EUR", "EUR", 8000, 1600, 0},
		{"n9", p.A5, p.C2, reportNow.Add(-d), conversion.StatusPending, 1000, 100, "USD", "USD", 1000, 100, 0},
		{"n10", p.A2, p.C1, reportNow.Add(-400 * d), conversion.StatusPaid, 9000, 1800, "EUR", "USD", 9900, 1980, 180},
		{"n11", p.A2, p.C1, reportNow.Add(-8 * d), conversion.StatusRefunded, 2000, 400, "USD", "USD", 2000, 400, 40},
	} {
		b := c.Conversion.Create().SetOrgID(org).SetAffiliateID(cv.aff).SetCampaignID(cv.cmp).SetOccurredAt(cv.at).
			SetStatus(cv.status).SetAmountCents(cv.amount).SetCommissionCents(cv.comm).SetCurrency(cv.currency).
			SetHomeAmountCents(cv.homeAmount).SetHomeCommissionCents(cv.homeComm).SetHomeCurrency(cv.home).
			SetExternalID(slug + "-" + cv.label)
		if cv.override > 0 {
			b.SetOverrideAffiliateID(p.A1).SetOverrideCommissionCents(cv.override)
		}
		p.Conv[cv.label] = must(b.Save(ctx)).get(t).ID
	}
	today := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	for _, cl := range []struct {
		aff, cmp string
		at       time.Time
	}{
		{p.A1, p.C1, today.Add(9 * h)},
		{p.A1, p.C1, reportNow.Add(-d)},
		{p.A1, p.C1, time.Date(2026, 10, 22, 0, 0, 0, 0, time.UTC)},
		{p.A4, p.C2, time.Date(2026, 10, 21, 23, 59, 59, 0, time.UTC)},
		{p.A3, p.C2, today.Add(time.Minute)},
	} {
		must(c.Click.Create().SetOrgID(org).SetAffiliateID(cl.aff).SetCampaignID(cl.cmp).SetOccurredAt(cl.at).Save(ctx)).get(t)
	}
	must(c.Lead.Create().SetOrgID(org).SetAffiliateID(p.A1).SetCampaignID(p.C1).SetEmail("l1@x.test").
		SetOccurredAt(reportNow.Add(-2 * d)).Save(ctx)).get(t)
	must(c.Lead.Create().SetOrgID(org).SetAffiliateID(p.A4).SetCampaignID(p.C2).SetEmail("l2@x.test").
		SetOccurredAt(reportNow.Add(-45 * d)).Save(ctx)).get(t)

	batch := func(at time.Time, status payoutbatch.Status, affs ...string) string {
		id := must(c.PayoutBatch.Create().SetOrgID(org).SetCurrency("USD").SetTotalCents(int64(1000 * len(affs))).
			SetLineCount(len(affs)).SetStatus(status).SetCreatedAt(at).Save(ctx)).get(t).ID
		for _, a := range affs {
			must(c.PayoutLineItem.Create().SetOrgID(org).SetBatchID(id).SetAffiliateID(a).
				SetAmountCents(1000).SetCurrency("USD").SetConversionCount(1).Save(ctx)).get(t)
		}
		return id
	}
	p.B1 = batch(reportNow.Add(-60*d), payoutbatch.StatusPaid, p.A1)
	p.B2 = batch(reportNow.Add(-30*d), payoutbatch.StatusFailed, p.A2)
	p.B3 = batch(reportNow.Add(-d), payoutbatch.StatusPaid, p.A1, p.A2)
	return p
}

// reportsAPI opens a database on b with two seeded organizations; the
// second has activity in every window and must never show in the first's
// reports.
func reportsAPI(t *testing.T, b storetest.Backend) (*api, *program, *program) {
	t.Helper()
	db := b.Open(t)
	deps := testDeps()
	deps.Now = func() time.Time { return reportNow }
	a := newAPIWith(db.Client, graph.Options{}, deps)
	return a, seedProgram(t, db.Client, "acme"), seedProgram(t, db.Client, "other")
}

func TestDashboardSummary(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		a, p, _ := reportsAPI(t, b)
		const q = `query($r: String) { dashboardSummary(range: $r) { range from to currency revenueCents commissionCents
			refundedCents conversions otherCurrencyConversions leads clicks activeAffiliates pendingApprovals } }`
		type summary struct {
			Range                    string     `json:"range"`
			From                     *time.Time `json:"from"`
			To                       time.Time  `json:"to"`
			Currency                 string     `json:"currency"`
			RevenueCents             int64      `json:"revenueCents"`
			CommissionCents          int64      `json:"commissionCents"`
			RefundedCents            int64      `json:"refundedCents"`
			Conversions              int        `json:"conversions"`
			OtherCurrencyConversions int        `json:"otherCurrencyConversions"`
			Leads                    int        `json:"leads"`
			Clicks                   int        `json:"clicks"`
			ActiveAffiliates         int        `json:"activeAffiliates"`
			PendingApprovals         int        `json:"pendingApprovals"`
		}
		at := func(y int, m time.Month, d int) *time.Time { x := time.Date(y, m, d, 0, 0, 0, 0, time.UTC); return &x }
		for _, tc := range []struct {
			rng  any
			want summary
		}{
			// n1 n2 n3 n9 in USD, n7 in EUR; n5 n11 refunded; clicks on Oct 22
			// 00:00, Nov 19, Nov 20 ×2; a1 and a2 active (a4's click is a
			// second early, a5 is rejected, a3 pending).
			{nil, summary{"30d", at(2026, 10, 22), reportNow, "USD", 36000, 7100, 9000, 5, 1, 1, 4, 2, 1}},
			{"30d", summary{"30d", at(2026, 10, 22), reportNow, "USD", 36000, 7100, 9000, 5, 1, 1, 4, 2, 1}},
			// From Nov 14: n1 n2 n9, n7 (Nov 14 15:00); n5; clicks Nov 19, Nov 20 ×2.
			{"7d", summary{"7d", at(2026, 11, 14), reportNow, "USD", 16000, 3100, 7000, 4, 1, 1, 3, 2, 1}},
			// Adds n4 (Oct 11), the lead of Oct 6 and a4 (click Oct 21, lead Oct 6).
			{"90d", summary{"90d", at(2026, 8, 23), reportNow, "USD", 39000, 7700, 9000, 6, 1, 2, 5, 3, 1}},
			{"YTD", summary{"ytd", at(2026, 1, 1), reportNow, "USD", 39000, 7700, 9000, 6, 1, 2, 5, 3, 1}},
			// Adds n10 (2025), recorded in EUR but converted to USD.
			{"all", summary{"all", nil, reportNow, "USD", 48900, 9680, 9000, 7, 1, 2, 5, 3, 1}},
		} {
			t.Run(fmt.Sprint(tc.rng), func(t *testing.T) {
				vars := map[string]any{}
				if tc.rng != nil {
					vars["r"] = tc.rng
				}
				var got struct {
					S summary `json:"dashboardSummary"`
				}
				a.ok(t, p.Owner, q, vars).decode(t, &got)
				if fmt.Sprint(got.S) != fmt.Sprint(tc.want) {
					t.Fatalf("got  %+v\nwant %+v", got.S, tc.want)
				}
			})
		}
		t.Run("the default applies", func(t *testing.T) {
			var got struct {
				S summary `json:"dashboardSummary"`
			}
			a.ok(t, p.Owner, `{ dashboardSummary { range revenueCents } }`, nil).decode(t, &got)
			if got.S.Range != "30d" || got.S.RevenueCents != 36000 {
				t.Fatalf("got %+v, want the 30d figures", got.S)
			}
		})
		t.Run("a range it does not know", func(t *testing.T) {
			for _, r := range []string{"1y", "", "30"} {
				e := wantError(t, a.do(t, p.Owner, q, map[string]any{"r": r}), "BAD_USER_INPUT", "range")
				if !strings.Contains(e.Message, "7d, 30d, 90d, ytd, all") {
					t.Fatalf("message %q does not list the ranges", e.Message)
				}
			}
		})
		t.Run("no viewer", func(t *testing.T) {
			if resp := a.do(t, nil, q, nil); len(resp.Errors) == 0 || resp.hasData() {
				t.Fatalf("got %s %+v, want an error and no data", resp.Data, resp.Errors)
			}
		})
	})
}

// The home currency is read now: after a switch, the sums move to the rows
// recorded in the new currency.
func TestDashboardSummaryFollowsHomeCurrency(t *testing.T) {
	b := storetest.Backends(t)[0]
	a, p, _ := reportsAPI(t, b)
	if err := a.client.Organization.UpdateOneID(p.OrgID).SetHomeCurrency("EUR").Exec(sys()); err != nil {
		t.Fatal(err)
	}
	var got struct {
		S struct {
			Currency string `json:"currency"`
			Revenue  int64  `json:"revenueCents"`
			Conv     int    `json:"conversions"`
			Other    int    `json:"otherCurrencyConversions"`
		} `json:"dashboardSummary"`
	}
	a.ok(t, p.Owner, `{ dashboardSummary { currency revenueCents conversions otherCurrencyConversions } }`, nil).decode(t, &got)
	if got.S.Currency != "EUR" || got.S.Revenue != 8000 || got.S.Conv != 5 || got.S.Other != 4 {
		t.Fatalf("got %+v, want EUR 8000 over 5 conversions, 4 in another currency", got.S)
	}
}

func TestDashboardTimeseries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		a, p, _ := reportsAPI(t, b)
		const q = `query($m: String!, $r: String) { dashboardTimeseries(metric: $m, range: $r) {
			metric range from to currency total points { date value } } }`
		type series struct {
			Metric   string    `json:"metric"`
			Range    string    `json:"range"`
			From     time.Time `json:"from"`
			To       time.Time `json:"to"`
			Currency *string   `json:"currency"`
			Total    int64     `json:"total"`
			Points   []struct {
				Date  string `json:"date"`
				Value int64  `json:"value"`
			} `json:"points"`
		}
		get := func(t *testing.T, vars map[string]any) series {
			t.Helper()
			var got struct {
				S series `json:"dashboardTimeseries"`
			}
			a.ok(t, p.Owner, q, vars).decode(t, &got)
			return got.S
		}
		// nonzero renders the days with a value, in order.
		nonzero := func(s series) string {
			var parts []string
			for _, pt := range s.Points {
				if pt.Value != 0 {
					parts = append(parts, fmt.Sprintf("%s=%d", pt.Date, pt.Value))
				}
			}
			return strings.Join(parts, " ")
		}
		for _, tc := range []struct {
			metric, rng string
			points      int
			first       string
			total       int64
			nonzero     string
			currency    bool
		}{
			// n7 (Nov 14) is in EUR, an earlier home currency: not revenue.
			{"revenue", "7d", 7, "2026-11-14", 16000, "2026-11-18=5000 2026-11-19=1000 2026-11-20=10000", true},
			{"conversions", "7d", 7, "2026-11-14", 4, "2026-11-14=1 2026-11-18=1 2026-11-19=1 2026-11-20=1", false},
			{"clicks", "30d", 30, "2026-10-22", 4, "2026-10-22=1 2026-11-19=1 2026-11-20=2", false},
			{"leads", "90d", 90, "2026-08-23", 2, "2026-10-06=1 2026-11-18=1", false},
			{"revenue", "30d", 30, "2026-10-22", 36000, "2026-11-10=20000 2026-11-18=5000 2026-11-19=1000 2026-11-20=10000", true},
			// Jan 1 to Nov 20: 304 + 20 days.
			{"conversions", "ytd", 324, "2026-01-01", 6, "2026-10-11=1 2026-11-10=1 2026-11-14=1 2026-11-18=1 2026-11-19=1 2026-11-20=1", false},
		} {
			t.Run(tc.metric+"/"+tc.rng, func(t *testing.T) {
				s := get(t, map[string]any{"m": tc.metric, "r": tc.rng})
				if len(s.Points) != tc.points || s.Points[0].Date != tc.first || s.Points[len(s.Points)-1].Date != "2026-11-20" {
					t.Fatalf("got %d points from %s, want %d from %s to 2026-11-20", len(s.Points), s.Points[0].Date, tc.points, tc.first)
				}
				if got := nonzero(s); got != tc.nonzero {
					t.Fatalf("got days %s, want %s", got, tc.nonzero)
				}
				if s.Total != tc.total || s.Metric != tc.metric || s.Range != tc.rng || !s.To.Equal(reportNow) {
					t.Fatalf("got total %d metric %s range %s to %s, want %d %s %s %s", s.Total, s.Metric, s.Range, s.To, tc.total, tc.metric, tc.rng, reportNow)
				}
				if (s.Currency != nil) != tc.currency || (tc.currency && *s.Currency != "USD") {
					t.Fatalf("got currency %v, want USD: %v", s.Currency, tc.currency)
				}
				for i := 1; i < len(s.Points); i++ {
					if s.Points[i].Date <= s.Points[i-1].Date {
						t.Fatalf("points out of order at %d: %s then %s", i, s.Points[i-1].Date, s.Points[i].Date)
					}
				}
			})
		}
		t.Run("the range defaults to 30d", func(t *testing.T) {
			if s := get(t, map[string]any{"m": "clicks"}); s.Range != "30d" || len(s.Points) != 30 {
				t.Fatalf("got %s with %d points, want 30d with 30", s.Range, len(s.Points))
			}
		})
		t.Run("a year-end ytd has at most 366 points", func(t *testing.T) {
			deps := testDeps()
			deps.Now = func() time.Time { return time.Date(2028, 12, 31, 23, 0, 0, 0, time.UTC) }
			leap := newAPIWith(a.client, graph.Options{}, deps)
			var got struct {
				S series `json:"dashboardTimeseries"`
			}
			leap.ok(t, p.Owner, q, map[string]any{"m": "leads", "r": "ytd"}).decode(t, &got)
			if len(got.S.Points) != 366 {
				t.Fatalf("got %d points, want 366", len(got.S.Points))
			}
		})
		for _, tc := range []struct{ metric, rng, field string }{
			{"sales", "7d", "metric"},
			{"", "7d", "metric"},
			{"revenue", "all", "range"},
			{"revenue", "365d", "range"},
		} {
			t.Run("refuses "+tc.metric+"/"+tc.rng, func(t *testing.T) {
				wantError(t, a.do(t, p.Owner, q, map[string]any{"m": tc.metric, "r": tc.rng}), "BAD_USER_INPUT", tc.field)
			})
		}
	})
}

// Other organizations' history is in every window of seedProgram; these
// checks make sure none of it leaks into acme's figures by comparing with
// an organization that has none.
func TestReportsStayInTheOrganization(t *testing.T) {
	b := storetest.Backends(t)[0]
	db := b.Open(t)
	deps := testDeps()
	deps.Now = func() time.Time { return reportNow }
	a := newAPIWith(db.Client, graph.Options{}, deps)
	seedProgram(t, db.Client, "busy")
	empty, err := provision.CreateOrg(sys(), db.Client, provision.OrgInput{Name: "Empty", Slug: "empty", OwnerEmail: "o@empty.test", Plan: "pro"})
	if err != nil {
		t.Fatal(err)
	}
	v := &viewer.Viewer{OrgID: empty.OrgID, UserID: empty.OwnerUserID, Role: viewer.RoleOwner, ActorType: viewer.ActorUser, Plan: "Pro"}
	resp := a.ok(t, v, `{ dashboardSummary(range: "all") { revenueCents refundedCents conversions leads clicks activeAffiliates pendingApprovals }
		dashboardTimeseries(metric: "clicks") { total }
		auditLog { total } }`, nil)
	want := `{"dashboardSummary":{"revenueCents":0,"refundedCents":0,"conversions":0,"leads":0,"clicks":0,"activeAffiliates":0,"pendingApprovals":0},"dashboardTimeseries":{"total":0},"auditLog":{"total":0}}`
	if string(resp.Data) != want {
		t.Fatalf("an empty organization sees %s, want %s", resp.Data, want)
	}
}

func TestAffiliateTotalsAndSubAffiliates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		a, p, other := reportsAPI(t, b)
		const totalsQ = `query($id: ID!) { affiliate(id: $id) { totals { clicks leads conversions otherCurrencyConversions
			revenueCents pendingCommissionCents approvedCommissionCents paidCommissionCents currency } } }`
		for _, tc := range []struct {
			name, id, want string
		}{
			// n1 Approved, n2 Pending; n5 refunded and n6 denied earn nothing.
			{"a1", p.A1, `{"clicks":3,"leads":1,"conversions":2,"otherCurrencyConversions":0,"revenueCents":15000,"pendingCommissionCents":1000,"approvedCommissionCents":2000,"paidCommissionCents":0,"currency":"USD"}`},
			// n3 and n10 Paid, n4 Approved, n7 in EUR.
			{"a2", p.A2, `{"clicks":0,"leads":0,"conversions":4,"otherCurrencyConversions":1,"revenueCents":32900,"pendingCommissionCents":0,"approvedCommissionCents":600,"paidCommissionCents":5980,"currency":"USD"}`},
			{"a6", p.A6, `{"clicks":0,"leads":0,"conversions":0,"otherCurrencyConversions":0,"revenueCents":0,"pendingCommissionCents":0,"approvedCommissionCents":0,"paidCommissionCents":0,"currency":"USD"}`},
		} {
			t.Run("totals of "+tc.name, func(t *testing.T) {
				var got struct {
					Affiliate struct {
						Totals json.RawMessage `json:"totals"`
					} `json:"affiliate"`
				}
				a.ok(t, p.Owner, totalsQ, map[string]any{"id": tc.id}).decode(t, &got)
				if string(got.Affiliate.Totals) != tc.want {
					t.Fatalf("got  %s\nwant %s", got.Affiliate.Totals, tc.want)
				}
			})
		}

		const subQ = `query($id: ID!) { affiliateSubAffiliates(affiliateID: $id) { id fullName email slug status
			totalCommissionCents overrideEarnedCents currency createdAt } }`
		type sub struct {
			ID         string           `json:"id"`
			FullName   string           `json:"fullName"`
			Email      string           `json:"email"`
			Slug       string           `json:"slug"`
			Status     affiliate.Status `json:"status"`
			Commission int64            `json:"totalCommissionCents"`
			Override   int64            `json:"overrideEarnedCents"`
			Currency   string           `json:"currency"`
		}
		t.Run("recruits of a1", func(t *testing.T) {
			var got struct {
				Subs []sub `json:"affiliateSubAffiliates"`
			}
			a.ok(t, p.Owner, subQ, map[string]any{"id": p.A1}).decode(t, &got)
			// a2: commission n3 4000 + n4 600 + n10 1980 (n7 is in EUR, n11
			// refunded); override n3 400 + n4 60 + n10 180 EUR at the
			// conversion's rate 1980/1800 = 198.
			want := []sub{
				{p.A2, "A2", "a2@acme.test", "acme-a2", affiliate.StatusApproved, 6580, 658, "USD"},
				{p.A6, "A6", "a6@acme.test", "acme-a6", affiliate.StatusApproved, 0, 0, "USD"},
			}
			if fmt.Sprint(got.Subs) != fmt.Sprint(want) {
				t.Fatalf("got  %+v\nwant %+v", got.Subs, want)
			}
		})
		t.Run("an affiliate without recruits", func(t *testing.T) {
			resp := a.ok(t, p.Owner, subQ, map[string]any{"id": p.A2})
			if string(resp.Data) != `{"affiliateSubAffiliates":[]}` {
				t.Fatalf("got %s, want an empty list", resp.Data)
			}
		})
		t.Run("another organization's affiliate", func(t *testing.T) {
			wantError(t, a.do(t, p.Owner, subQ, map[string]any{"id": other.A1}), "NOT_FOUND", "")
			wantError(t, a.do(t, p.Owner, totalsQ, map[string]any{"id": other.A1}), "NOT_FOUND", "")
		})
	})
}

func TestCampaignAffiliateCountAndStats(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		a, p, other := reportsAPI(t, b)
		const q = `query($id: ID!, $r: String) { campaign(id: $id) { affiliateCount
			stats(range: $r) { range conversions revenueCents commissionCents leads clicks currency } } }`
		for _, tc := range []struct {
			name, id string
			rng      any
			want     string
		}{
			// n1 n2 n3 in USD and n7 in EUR; clicks today, Nov 19, Oct 22; one lead.
			{"c1 30d", p.C1, nil, `{"affiliateCount":2,"stats":{"range":"30d","conversions":4,"revenueCents":35000,"commissionCents":7000,"leads":1,"clicks":3,"currency":"USD"}}`},
			{"c2 30d", p.C2, "30d", `{"affiliateCount":4,"stats":{"range":"30d","conversions":1,"revenueCents":1000,"commissionCents":100,"leads":0,"clicks":1,"currency":"USD"}}`},
			{"c2 90d", p.C2, "90d", `{"affiliateCount":4,"stats":{"range":"90d","conversions":1,"revenueCents":1000,"commissionCents":100,"leads":1,"clicks":2,"currency":"USD"}}`},
			{"c1 all", p.C1, "all", `{"affiliateCount":2,"stats":{"range":"all","conversions":6,"revenueCents":47900,"commissionCents":9580,"leads":1,"clicks":3,"currency":"USD"}}`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				vars := map[string]any{"id": tc.id}
				if tc.rng != nil {
					vars["r"] = tc.rng
				}
				var got struct {
					Campaign json.RawMessage `json:"campaign"`
				}
				a.ok(t, p.Owner, q, vars).decode(t, &got)
				if string(got.Campaign) != tc.want {
					t.Fatalf("got  %s\nwant %s", got.Campaign, tc.want)
				}
			})
		}
		t.Run("a bad range", func(t *testing.T) {
			wantError(t, a.do(t, p.Owner, q, map[string]any{"id": p.C1, "r": "week"}), "BAD_USER_INPUT", "range")
		})
		t.Run("another organization's campaign", func(t *testing.T) {
			wantError(t, a.do(t, p.Owner, q, map[string]any{"id": other.C1}), "NOT_FOUND", "")
		})
		t.Run("in a list", func(t *testing.T) {
			var got struct {
				Campaigns connection[struct {
					ID    string `json:"id"`
					Count int    `json:"affiliateCount"`
				}] `json:"campaigns"`
			}
			a.ok(t, p.Owner, `{ campaigns(first: 10) { edges { node { id affiliateCount } } } }`, nil).decode(t, &got)
			counts := map[string]int{}
			for _, e := range got.Campaigns.Edges {
				counts[e.Node.ID] = e.Node.Count
			}
			if len(counts) != 2 || counts[p.C1] != 2 || counts[p.C2] != 4 {
				t.Fatalf("got %v, want %s: 2 and %s: 4 only", counts, p.C1, p.C2)
			}
		})
	})
}

// connection is the shape of `{ edges { node { … } } pageInfo { … } }`.
type connection[T any] struct {
	Edges []struct {
		Node T `json:"node"`
	} `json:"edges"`
	PageInfo struct {
		HasNextPage bool   `json:"hasNextPage"`
		EndCursor   string `json:"endCursor"`
	} `json:"pageInfo"`
}

func TestAuditLog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		a, p, other := reportsAPI(t, b)
		ctx := sys()
		base := reportNow.Add(-10 * time.Hour)
		type seeded struct {
			actor      auditlogentry.ActorType
			action     string
			entityType string
		}
		var ids []string // oldest first
		for i, e := range []seeded{
			{auditlogentry.ActorTypeUser, "campaign.create", "campaign"},
			{auditlogentry.ActorTypeMcp, "affiliate.update", "affiliate"},
			{auditlogentry.ActorTypeAPIKey, "affiliate.update", "affiliate"},
			{auditlogentry.ActorTypeMcp, "query.list_conversions", ""},
			{auditlogentry.ActorTypeSystem, "payout_batch.create", "payout_batch"},
		} {
			b := a.client.AuditLogEntry.Create().SetOrgID(p.OrgID).SetActorType(e.actor).SetActorID("actor").
				SetAction(e.action).SetCreatedAt(base.Add(time.Duration(i) * time.Hour)).
				SetAfter(map[string]any{"n": i})
			if e.entityType != "" {
				b.SetEntityType(e.entityType).SetEntityID(fmt.Sprintf("ent_%d", i))
			}
			ids = append(ids, must(b.Save(ctx)).get(t).ID)
		}
		must(a.client.AuditLogEntry.Create().SetOrgID(other.OrgID).SetActorType(auditlogentry.ActorTypeUser).
			SetAction("affiliate.update").SetEntityType("affiliate").SetCreatedAt(base).Save(ctx)).get(t)

		const q = `query($page: Int, $size: Int, $action: String, $type: String, $actor: AuditLogEntryActorType, $since: Time, $until: Time) {
			auditLog(page: $page, pageSize: $size, action: $action, entityType: $type, actorType: $actor, since: $since, until: $until) {
				page pageSize total items { id actorType action entityType entityID after createdAt } } }`
		type page struct {
			Page     int `json:"page"`
			PageSize int `json:"pageSize"`
			Total    int `json:"total"`
			Items    []struct {
				ID    string         `json:"id"`
				After map[string]any `json:"after"`
			} `json:"items"`
		}
		list := func(t *testing.T, vars map[string]any) (page, []string) {
			t.Helper()
			var got struct {
				P page `json:"auditLog"`
			}
			a.ok(t, p.Owner, q, vars).decode(t, &got)
			var out []string
			for _, it := range got.P.Items {
				out = append(out, it.ID)
			}
			return got.P, out
		}
		rev := slices.Clone(ids)
		slices.Reverse(rev)
		for _, tc := range []struct {
			name string
			vars map[string]any
			want []string
		}{
			{"defaults", nil, rev},
			{"page 1 of 3", map[string]any{"size": 2}, rev[:2]},
			{"page 2 of 3", map[string]any{"page": 2, "size": 2}, rev[2:4]},
			{"page 3 of 3", map[string]any{"page": 3, "size": 2}, rev[4:]},
			{"past the end", map[string]any{"page": 4, "size": 2}, nil},
			{"by action", map[string]any{"action": "affiliate.update"}, []string{ids[2], ids[1]}},
			{"by entity type", map[string]any{"type": "payout_batch"}, []string{ids[4]}},
			{"by actor type", map[string]any{"actor": "mcp"}, []string{ids[3], ids[1]}},
			{"since is inclusive, until exclusive", map[string]any{"since": base.Add(time.Hour).Format(time.RFC3339), "until": base.Add(3 * time.Hour).Format(time.RFC3339)}, []string{ids[2], ids[1]}},
			{"filters combine", map[string]any{"action": "affiliate.update", "actor": "api_key"}, []string{ids[2]}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				pg, got := list(t, tc.vars)
				if !slices.Equal(got, tc.want) {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
				wantTotal := len(tc.want)
				if tc.vars["size"] != nil {
					wantTotal = len(ids)
				}
				if pg.Total != wantTotal {
					t.Fatalf("got total %d, want %d", pg.Total, wantTotal)
				}
			})
		}
		t.Run("entries carry their before and after", func(t *testing.T) {
			pg, _ := list(t, map[string]any{"type": "campaign"})
			if len(pg.Items) != 1 || pg.Items[0].After["n"] != float64(0) {
				t.Fatalf("got %+v, want the campaign entry with after {n: 0}", pg.Items)
			}
		})
		for _, tc := range []struct {
			name  string
			vars  map[string]any
			field string
		}{
			{"page 0", map[string]any{"page": 0}, "page"},
			{"negative page", map[string]any{"page": -3}, "page"},
			{"page size 0", map[string]any{"size": 0}, "pageSize"},
			{"page size 101", map[string]any{"size": 101}, "pageSize"},
			{"until before since", map[string]any{"since": base.Format(time.RFC3339), "until": base.Add(-time.Hour).Format(time.RFC3339)}, "until"},
			{"until equal to since", map[string]any{"since": base.Format(time.RFC3339), "until": base.Format(time.RFC3339)}, "until"},
			{"a long action", map[string]any{"action": strings.Repeat("a", 101)}, "action"},
		} {
			t.Run("refuses "+tc.name, func(t *testing.T) {
				wantError(t, a.do(t, p.Owner, q, tc.vars), "BAD_USER_INPUT", tc.field)
			})
		}
	})
}

func TestBillingState(t *testing.T) {
	b := storetest.Backends(t)[0]
	a, p, _ := reportsAPI(t, b)
	ctx := sys()
	if err := a.client.Organization.UpdateOneID(p.OrgID).SetStripeConnectAccountID("acct_123").Exec(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		tok := a.client.MCPToken.Create().SetOrgID(p.OrgID).SetName(fmt.Sprint("t", i)).SetCreatedByID(p.Owner.UserID).
			SetSecretHash(credential.Hash(fmt.Sprint(p.OrgID, i))).SetHint("rk_mcp_…")
		if i == 2 {
			tok.SetRevokedAt(reportNow)
		}
		must(tok.Save(ctx)).get(t)
	}
	const q = `{ billingState { planTier subscriptionStatus trialEndsAt stripeCustomerLinked stripeConnectLinked
		limits { key limit used description } features { key requiredTier paidSubscriptionRequired available description } } }`
	type feature struct {
		Key          string                `json:"key"`
		RequiredTier organization.PlanTier `json:"requiredTier"`
		Paid         bool                  `json:"paidSubscriptionRequired"`
		Available    bool                  `json:"available"`
		Description  string                `json:"description"`
	}
	var got struct {
		B struct {
			PlanTier  organization.PlanTier           `json:"planTier"`
			Status    organization.SubscriptionStatus `json:"subscriptionStatus"`
			TrialEnds *time.Time                      `json:"trialEndsAt"`
			Customer  bool                            `json:"stripeCustomerLinked"`
			Connect   bool                            `json:"stripeConnectLinked"`
			Limits    []struct {
				Key   string `json:"key"`
				Limit int    `json:"limit"`
				Used  *int   `json:"used"`
			} `json:"limits"`
			Features []feature `json:"features"`
		} `json:"billingState"`
	}
	a.ok(t, p.Member, q, nil).decode(t, &got)
	bs := got.B
	if bs.PlanTier != organization.PlanTierGrowth || bs.Status != organization.SubscriptionStatusActive || bs.Customer || !bs.Connect {
		t.Fatalf("got %+v, want Growth, active, connect linked, no customer", bs)
	}
	limits := map[string]string{}
	for _, l := range bs.Limits {
		used := "nil"
		if l.Used != nil {
			used = fmt.Sprint(*l.Used)
		}
		limits[l.Key] = fmt.Sprintf("%d/%s", l.Limit, used)
	}
	if want := fmt.Sprintf("%d/2", account.MaxActiveMCPTokens); limits["mcpTokens"] != want {
		t.Fatalf("mcpTokens limit %q, want %q (two active, one revoked)", limits["mcpTokens"], want)
	}
	for key, want := range map[string]string{
		"pageSize":                      fmt.Sprintf("%d/nil", graph.DefaultLimits.MaxPage),
		"bulkInviteRecipients":          fmt.Sprintf("%d/nil", enrollment.MaxBulkInvites),
		"importRows":                    fmt.Sprintf("%d/nil", imports.MaxRows),
		"activeCouponsPerAffiliate":     fmt.Sprintf("%d/nil", coupons.MaxActiveAffiliateCoupons),
		"activeEmbedTokensPerAffiliate": fmt.Sprintf("%d/nil", enrollment.MaxActiveEmbedsPer),
	} {
		if limits[key] != want {
			t.Errorf("%s limit %q, want %q", key, limits[key], want)
		}
	}
	if len(limits) != 6 {
		t.Errorf("got limits %v, want the six the code enforces", limits)
	}
	features := map[string]feature{}
	for _, f := range bs.Features {
		features[f.Key] = f
		if f.Description == "" {
			t.Errorf("feature %s has no description", f.Key)
		}
	}
	for _, want := range []feature{
		{Key: "setHomeCurrency", RequiredTier: "Pro", Available: false},
		{Key: "setCampaignSubAffiliateConfig", RequiredTier: "Pro", Available: false},
		{Key: "publicApi", RequiredTier: "Growth", Available: true},
		{Key: "importWithApiKey", RequiredTier: "Starter", Available: true},
		{Key: "importNotifyAffiliates", RequiredTier: "Growth", Paid: true, Available: true},
	} {
		f, ok := features[want.Key]
		if !ok || f.RequiredTier != want.RequiredTier || f.Paid != want.Paid || f.Available != want.Available {
			t.Errorf("feature %s: got %+v (present %v), want %+v", want.Key, f, ok, want)
		}
	}
	// Every listed gate is enforced: the schema field carries the directive.
	schema := graph.NewSchema(a.client, testDeps()).Schema()
	for key, f := range features {
		if key == "publicApi" || strings.HasPrefix(key, "import") {
			continue // gates applied in Go, by the constants the test above names
		}
		field := schema.Mutation.Fields.ForName(key)
		if field == nil {
			field = schema.Query.Fields.ForName(key)
		}
		if field == nil {
			t.Errorf("feature %s names no root field", key)
			continue
		}
		dir := "requiresPlan"
		if f.Paid {
			dir = "requiresPaidPlan"
		}
		if d := field.Directives.ForName(dir); d == nil || d.Arguments.ForName("tier").Value.Raw != string(f.RequiredTier) {
			t.Errorf("feature %s: the field does not carry @%s(tier: %s)", key, dir, f.RequiredTier)
		}
	}

	t.Run("a Pro organization passes the Pro gates", func(t *testing.T) {
		if err := a.client.Organization.UpdateOneID(p.OrgID).SetPlanTier(organization.PlanTierPro).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		var got struct {
			B struct {
				Features []feature `json:"features"`
			} `json:"billingState"`
		}
		a.ok(t, p.Owner, q, nil).decode(t, &got)
		for _, f := range got.B.Features {
			if !f.Available && !f.Paid {
				t.Errorf("feature %s is not available on Pro", f.Key)
			}
		}
	})
}

func TestHomeCurrencySettings(t *testing.T) {
	b := storetest.Backends(t)[0]
	a, p, _ := reportsAPI(t, b)
	const q = `{ homeCurrencySettings { homeCurrency supported canChange requiredTier reason } }`
	type settings struct {
		Home      string   `json:"homeCurrency"`
		Supported []string `json:"supported"`
		CanChange bool     `json:"canChange"`
		Tier      string   `json:"requiredTier"`
		Reason    *string  `json:"reason"`
	}
	pro := *p.Owner
	pro.Plan = "Pro"
	proMember := *p.Member
	proMember.Plan = "Pro"
	for _, tc := range []struct {
		name   string
		v      *viewer.Viewer
		can    bool
		reason string
	}{
		{"growth owner", p.Owner, false, "Pro plan"},
		{"pro owner", &pro, true, ""},
		{"pro member", &proMember, false, "owner or admin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got struct {
				S settings `json:"homeCurrencySettings"`
			}
			a.ok(t, tc.v, q, nil).decode(t, &got)
			s := got.S
			if s.Home != "USD" || !slices.Equal(s.Supported, programs.SupportedHomeCurrencies) || s.Tier != "Pro" || s.CanChange != tc.can {
				t.Fatalf("got %+v, want USD, the allowlist, Pro, canChange %v", s, tc.can)
			}
			if (s.Reason == nil) != tc.can || (s.Reason != nil && !strings.Contains(*s.Reason, tc.reason)) {
				t.Fatalf("got reason %v, want one mentioning %q", s.Reason, tc.reason)
			}
		})
	}
}

// runTool runs a Programs tool file through the runner, as the MCP adapter does.
func runTool(t *testing.T, r *graph.Runner, v *viewer.Viewer, name string, vars map[string]any) *graphql.Response {
	t.Helper()
	return r.Run(viewer.NewContext(context.Background(), v), name, vars)
}

func reportsRunner(t *testing.T, a *api) *graph.Runner {
	t.Helper()
	deps := testDeps()
	deps.Now = func() time.Time { return reportNow }
	r, err := graph.NewRunner(graph.NewSchema(a.client, deps), a.client, graph.Options{}, mcpadapter.ProgramsTools())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// toolData fails the test on any error and decodes the tool's data into v.
func toolData(t *testing.T, resp *graphql.Response, v any) {
	t.Helper()
	if len(resp.Errors) > 0 {
		t.Fatalf("tool failed: %v", resp.Errors)
	}
	if err := json.Unmarshal(resp.Data, v); err != nil {
		t.Fatalf("decoding %s: %v", resp.Data, err)
	}
}

func toolError(t *testing.T, resp *graphql.Response, code, field string) {
	t.Helper()
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != code ||
		(field != "" && resp.Errors[0].Extensions["field"] != field) {
		t.Fatalf("got errors %v, want one %s on %q", resp.Errors, code, field)
	}
}

func TestReportToolFiles(t *testing.T) {
	b := storetest.Backends(t)[0]
	a, p, other := reportsAPI(t, b)
	r := reportsRunner(t, a)

	t.Run("list_conversions filters, and an omitted filter does not filter", func(t *testing.T) {
		ids := func(vars map[string]any) []string {
			t.Helper()
			var got struct {
				C connection[struct {
					ID string `json:"id"`
				}] `json:"conversions"`
			}
			toolData(t, runTool(t, r, p.MCP, "list_conversions", vars), &got)
			var out []string
			for _, e := range got.C.Edges {
				out = append(out, e.Node.ID)
			}
			return out
		}
		c := p.Conv
		all := []string{c["n1"], c["n9"], c["n2"], c["n5"], c["n6"], c["n7"], c["n11"], c["n3"], c["n4"], c["n10"]}
		for _, tc := range []struct {
			name string
			vars map[string]any
			want []string
		}{
			{"no filters, newest first", nil, all},
			{"explicit nulls", map[string]any{"affiliateId": nil, "campaignId": nil, "status": nil, "since": nil}, all},
			{"affiliateId", map[string]any{"affiliateId": p.A1}, []string{c["n1"], c["n2"], c["n5"], c["n6"]}},
			{"campaignId", map[string]any{"campaignId": p.C2}, []string{c["n9"]}},
			{"status", map[string]any{"status": "Refunded"}, []string{c["n5"], c["n11"]}},
			{"since", map[string]any{"since": reportNow.Add(-5 * 24 * time.Hour).Format(time.RFC3339)}, []string{c["n1"], c["n9"], c["n2"], c["n5"], c["n6"]}},
			{"combined", map[string]any{"affiliateId": p.A2, "status": "Approved"}, []string{c["n7"], c["n4"]}},
			{"another organization's affiliate", map[string]any{"affiliateId": other.A1}, nil},
			{"a page", map[string]any{"take": 3}, all[:3]},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if got := ids(tc.vars); !slices.Equal(got, tc.want) {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			})
		}
		t.Run("an unknown status", func(t *testing.T) {
			if resp := runTool(t, r, p.MCP, "list_conversions", map[string]any{"status": "Lost"}); len(resp.Errors) == 0 {
				t.Fatalf("got %s, want an error", resp.Data)
			}
		})
	})

	t.Run("list_affiliates by campaign", func(t *testing.T) {
		var got struct {
			A connection[struct {
				ID       string `json:"id"`
				Campaign struct {
					Name string `json:"name"`
				} `json:"campaign"`
			}] `json:"affiliates"`
		}
		toolData(t, runTool(t, r, p.MCP, "list_affiliates", map[string]any{"campaignId": p.C1}), &got)
		if len(got.A.Edges) != 2 || got.A.Edges[0].Node.ID != p.A1 || got.A.Edges[1].Node.Campaign.Name != "acme one" {
			t.Fatalf("got %+v, want a1 and a2 of acme one", got.A.Edges)
		}
		toolData(t, runTool(t, r, p.MCP, "list_affiliates", nil), &got)
		if len(got.A.Edges) != 6 {
			t.Fatalf("got %d affiliates without a filter, want 6", len(got.A.Edges))
		}
	})

	t.Run("list_payouts filters by affiliate", func(t *testing.T) {
		ids := func(vars map[string]any) []string {
			var got struct {
				B connection[struct {
					ID string `json:"id"`
				}] `json:"payoutBatches"`
			}
			toolData(t, runTool(t, r, p.MCP, "list_payouts", vars), &got)
			var out []string
			for _, e := range got.B.Edges {
				out = append(out, e.Node.ID)
			}
			return out
		}
		for _, tc := range []struct {
			name string
			vars map[string]any
			want []string
		}{
			{"all, newest first", nil, []string{p.B3, p.B2, p.B1}},
			{"a1", map[string]any{"affiliateId": p.A1}, []string{p.B3, p.B1}},
			{"a2 paid", map[string]any{"affiliateId": p.A2, "status": "Paid"}, []string{p.B3}},
			{"an affiliate never paid", map[string]any{"affiliateId": p.A6}, nil},
			{"another organization's affiliate", map[string]any{"affiliateId": other.A1}, nil},
			{"since", map[string]any{"since": reportNow.Add(-31 * 24 * time.Hour).Format(time.RFC3339)}, []string{p.B3, p.B2}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if got := ids(tc.vars); !slices.Equal(got, tc.want) {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			})
		}
	})

	t.Run("get_payout lists the lines with the affiliates", func(t *testing.T) {
		var got struct {
			B struct {
				ID        string `json:"id"`
				LineItems struct {
					TotalCount int `json:"totalCount"`
					Edges      []struct {
						Node struct {
							AffiliateID string `json:"affiliateID"`
							Affiliate   struct {
								Email string `json:"email"`
							} `json:"affiliate"`
							AmountCents int64 `json:"amountCents"`
						} `json:"node"`
					} `json:"edges"`
				} `json:"lineItems"`
			} `json:"payoutBatch"`
		}
		toolData(t, runTool(t, r, p.MCP, "get_payout", map[string]any{"id": p.B3}), &got)
		var emails []string
		for _, e := range got.B.LineItems.Edges {
			emails = append(emails, e.Node.Affiliate.Email)
		}
		slices.Sort(emails)
		if got.B.LineItems.TotalCount != 2 || !slices.Equal(emails, []string{"a1@acme.test", "a2@acme.test"}) {
			t.Fatalf("got %+v, want the lines of a1 and a2", got.B.LineItems)
		}
		toolError(t, runTool(t, r, p.MCP, "get_payout", map[string]any{"id": other.B3}), "NOT_FOUND", "")
	})

	t.Run("get_affiliate", func(t *testing.T) {
		var got struct {
			A struct {
				Totals struct {
					Revenue int64 `json:"revenueCents"`
				} `json:"totals"`
				Campaign struct {
					Name string `json:"name"`
				} `json:"campaign"`
				Conversions struct {
					TotalCount int `json:"totalCount"`
					Edges      []struct {
						Node struct {
							ID string `json:"id"`
						} `json:"node"`
					} `json:"edges"`
				} `json:"conversions"`
			} `json:"affiliate"`
		}
		toolData(t, runTool(t, r, p.MCP, "get_affiliate", map[string]any{"id": p.A1}), &got)
		var recent []string
		for _, e := range got.A.Conversions.Edges {
			recent = append(recent, e.Node.ID)
		}
		if got.A.Totals.Revenue != 15000 || got.A.Campaign.Name != "acme one" || got.A.Conversions.TotalCount != 4 ||
			!slices.Equal(recent, []string{p.Conv["n1"], p.Conv["n2"], p.Conv["n5"], p.Conv["n6"]}) {
			t.Fatalf("got %+v", got.A)
		}
		toolError(t, runTool(t, r, p.MCP, "get_affiliate", map[string]any{"id": other.A1}), "NOT_FOUND", "")
	})

	t.Run("get_campaign and list_campaigns", func(t *testing.T) {
		var got struct {
			C struct {
				AffiliateCount int `json:"affiliateCount"`
				Stats          struct {
					Range   string `json:"range"`
					Revenue int64  `json:"revenueCents"`
				} `json:"stats"`
			} `json:"campaign"`
		}
		toolData(t, runTool(t, r, p.MCP, "get_campaign", map[string]any{"id": p.C1}), &got)
		if got.C.AffiliateCount != 2 || got.C.Stats.Range != "30d" || got.C.Stats.Revenue != 35000 {
			t.Fatalf("got %+v, want 2 affiliates and 35000 over 30d", got.C)
		}
		var list struct {
			C connection[struct {
				ID    string `json:"id"`
				Count int    `json:"affiliateCount"`
			}] `json:"campaigns"`
		}
		toolData(t, runTool(t, r, p.MCP, "list_campaigns", nil), &list)
		if len(list.C.Edges) != 2 || list.C.Edges[0].Node.ID != p.C2 || list.C.Edges[0].Node.Count != 4 {
			t.Fatalf("got %+v, want c2 (4 affiliates) first", list.C.Edges)
		}
	})

	t.Run("dashboard_summary", func(t *testing.T) {
		var got struct {
			S struct {
				Range   string `json:"range"`
				Revenue int64  `json:"revenueCents"`
				Active  int    `json:"activeAffiliates"`
			} `json:"dashboardSummary"`
		}
		toolData(t, runTool(t, r, p.MCP, "dashboard_summary", nil), &got)
		if got.S.Range != "30d" || got.S.Revenue != 36000 || got.S.Active != 2 {
			t.Fatalf("got %+v, want the 30d figures", got.S)
		}
		toolData(t, runTool(t, r, p.MCP, "dashboard_summary", map[string]any{"range": "7d"}), &got)
		if got.S.Range != "7d" || got.S.Revenue != 16000 {
			t.Fatalf("got %+v, want the 7d figures", got.S)
		}
		toolData(t, runTool(t, r, p.MCP, "dashboard_summary", map[string]any{"range": nil}), &got)
		if got.S.Range != "30d" {
			t.Fatalf("a null range gave %q, want 30d", got.S.Range)
		}
		toolError(t, runTool(t, r, p.MCP, "dashboard_summary", map[string]any{"range": "2w"}), "BAD_USER_INPUT", "range")
	})

	t.Run("dashboard_timeseries", func(t *testing.T) {
		var got struct {
			S struct {
				Total  int64 `json:"total"`
				Points []struct {
					Date string `json:"date"`
				} `json:"points"`
			} `json:"dashboardTimeseries"`
		}
		toolData(t, runTool(t, r, p.MCP, "dashboard_timeseries", map[string]any{"metric": "revenue", "range": "7d"}), &got)
		if got.S.Total != 16000 || len(got.S.Points) != 7 {
			t.Fatalf("got %+v, want 7 points totalling 16000", got.S)
		}
		toolError(t, runTool(t, r, p.MCP, "dashboard_timeseries", map[string]any{"metric": "profit"}), "BAD_USER_INPUT", "metric")
		toolError(t, runTool(t, r, p.MCP, "dashboard_timeseries", map[string]any{"metric": "clicks", "range": "all"}), "BAD_USER_INPUT", "range")
	})

	t.Run("list_audit_log", func(t *testing.T) {
		var got struct {
			L struct {
				Page     int `json:"page"`
				PageSize int `json:"pageSize"`
				Total    int `json:"total"`
				Items    []struct {
					Action string `json:"action"`
				} `json:"items"`
			} `json:"auditLog"`
		}
		// The tools above ran as an assistant: each read left an entry.
		toolData(t, runTool(t, r, p.MCP, "list_audit_log", map[string]any{"action": "query.dashboard_summary", "pageSize": 2}), &got)
		if got.L.Page != 1 || got.L.PageSize != 2 || got.L.Total != 4 || len(got.L.Items) != 2 {
			t.Fatalf("got %+v, want page 1 of the 4 dashboard_summary reads", got.L)
		}
		toolError(t, runTool(t, r, p.MCP, "list_audit_log", map[string]any{"pageSize": 500}), "BAD_USER_INPUT", "pageSize")
	})

	t.Run("list_affiliate_sub_affiliates", func(t *testing.T) {
		var got struct {
			S []struct {
				ID       string `json:"id"`
				Override int64  `json:"overrideEarnedCents"`
			} `json:"affiliateSubAffiliates"`
		}
		toolData(t, runTool(t, r, p.MCP, "list_affiliate_sub_affiliates", map[string]any{"affiliateId": p.A1}), &got)
		if len(got.S) != 2 || got.S[0].ID != p.A2 || got.S[0].Override != 658 {
			t.Fatalf("got %+v", got.S)
		}
		toolError(t, runTool(t, r, p.MCP, "list_affiliate_sub_affiliates", map[string]any{"affiliateId": other.A1}), "NOT_FOUND", "")
	})

	t.Run("get_billing_state and get_home_currency", func(t *testing.T) {
		var bs struct {
			B struct {
				PlanTier string `json:"planTier"`
				Connect  bool   `json:"stripeConnectLinked"`
			} `json:"billingState"`
		}
		toolData(t, runTool(t, r, p.MCP, "get_billing_state", nil), &bs)
		if bs.B.PlanTier != "Growth" || bs.B.Connect {
			t.Fatalf("got %+v", bs.B)
		}
		var hc struct {
			H struct {
				Home      string `json:"homeCurrency"`
				CanChange bool   `json:"canChange"`
			} `json:"homeCurrencySettings"`
		}
		toolData(t, runTool(t, r, p.MCP, "get_home_currency", nil), &hc)
		if hc.H.Home != "USD" || hc.H.CanChange {
			t.Fatalf("got %+v, want USD, not changeable on Growth", hc.H)
		}
	})
}
