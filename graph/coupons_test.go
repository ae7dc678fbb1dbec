package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/auditlogentry"
	"github.com/tandemhq/tandem/ent/coupon"
	"github.com/tandemhq/tandem/ent/mcptoken"
	"github.com/tandemhq/tandem/graph"
	"github.com/tandemhq/tandem/identity"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/viewer"
)

const (
	createCouponQ = `mutation($p: ID!, $name: String!, $pct: Float, $amt: Int, $cur: String, $dur: CouponDuration,
		$months: Int, $max: Int, $exp: Time, $md: Map, $code: String) {
		createCampaignCoupon(programID: $p, name: $name, percentOff: $pct, amountOffCents: $amt, currency: $cur,
			duration: $dur, durationInMonths: $months, maxRedemptions: $max, expiresAt: $exp, metadata: $md, code: $code) {
			id code name campaignID affiliateID percentOff amountOffCents currency duration durationInMonths
			maxRedemptions expiresAt metadata revokedAt
		}
	}`
	generateCouponQ = `mutation($a: ID!, $p: ID!, $v: String) {
		generateAffiliateCoupon(affiliateID: $a, programID: $p, vanity: $v) {
			id code name campaignID affiliateID percentOff amountOffCents currency duration durationInMonths
			maxRedemptions expiresAt metadata revokedAt
		}
	}`
	revokeCouponQ    = `mutation($id: ID!) { revokeAffiliateCoupon(couponID: $id) { id code affiliateID revokedAt } }`
	campaignCouponsQ = `query($p: ID!, $first: Int) { campaignCoupons(programID: $p, first: $first) {
		totalCount edges { node { id code affiliateID } } pageInfo { hasNextPage endCursor } } }`
	affiliateCouponsQ = `query($a: ID!) { affiliateCoupons(affiliateID: $a) { totalCount edges { node { id code affiliateID } } } }`
	myCouponsQ        = `query { myCoupons { affiliateID selfMintCampaigns { id name couponSelfMint }
		coupons { totalCount edges { node { id code affiliateID } } } } }`
)

// couponOut is a coupon as the queries above select it.
type couponOut struct {
	ID               string         `json:"id"`
	Code             string         `json:"code"`
	Name             string         `json:"name"`
	CampaignID       string         `json:"campaignID"`
	AffiliateID      *string        `json:"affiliateID"`
	PercentOff       *float64       `json:"percentOff"`
	AmountOffCents   *int64         `json:"amountOffCents"`
	Currency         *string        `json:"currency"`
	Duration         string         `json:"duration"`
	DurationInMonths *int           `json:"durationInMonths"`
	MaxRedemptions   *int           `json:"maxRedemptions"`
	ExpiresAt        *time.Time     `json:"expiresAt"`
	Metadata         map[string]any `json:"metadata"`
	RevokedAt        *time.Time     `json:"revokedAt"`
}

// couponFixture is two organizations and an API whose clock the test holds.
type couponFixture struct {
	db   *ent.Client
	api  *api
	clk  *clock
	a, b *tenant
}

func newCouponFixture(t *testing.T) *couponFixture {
	t.Helper()
	c := storetest.SQLite(t).Client
	clk := newClock()
	deps := testDeps()
	deps.Now = clk.Now
	return &couponFixture{db: c, api: newAPIWith(c, graph.Options{}, deps), clk: clk,
		a: seedTenant(t, c, "alpha"), b: seedTenant(t, c, "bravo")}
}

// selfMint turns coupon self-minting on for tn's campaign and approves its
// affiliate, as a brand would before affiliates mint codes.
func (f *couponFixture) selfMint(t *testing.T, tn *tenant) {
	t.Helper()
	must(f.db.Campaign.UpdateOneID(tn.Campaign).SetCouponSelfMint(true).Save(sys())).get(t)
	must(f.db.Affiliate.UpdateOneID(tn.Affiliate).SetStatus(affiliate.StatusApproved).Save(sys())).get(t)
}

// campaignCoupon creates a campaign-level coupon through the API.
func (f *couponFixture) campaignCoupon(t *testing.T, vars map[string]any) couponOut {
	t.Helper()
	var got struct {
		C couponOut `json:"createCampaignCoupon"`
	}
	f.api.ok(t, f.a.Owner, createCouponQ, vars).decode(t, &got)
	return got.C
}

func (f *couponFixture) generate(t *testing.T, v *viewer.Viewer, aff, program string, vanity any) couponOut {
	t.Helper()
	var got struct {
		C couponOut `json:"generateAffiliateCoupon"`
	}
	f.api.ok(t, v, generateCouponQ, map[string]any{"a": aff, "p": program, "v": vanity}).decode(t, &got)
	return got.C
}

// auditRows returns the audit entries about entity id.
func auditRows(t *testing.T, c *ent.Client, id string) []*ent.AuditLogEntry {
	t.Helper()
	return must(c.AuditLogEntry.Query().Where(auditlogentry.EntityID(id)).
		Order(ent.Asc(auditlogentry.FieldID)).All(sys())).get(t)
}

func wantReason(t *testing.T, e gqlError, reason string) {
	t.Helper()
	if got, _ := e.Extensions["reason"].(string); got != reason {
		t.Fatalf("got reason %q (%q), want %q", got, e.Message, reason)
	}
}

func TestCreateCampaignCouponValidation(t *testing.T) {
	f := newCouponFixture(t)
	base := func(over map[string]any) map[string]any {
		v := map[string]any{"p": f.a.Campaign, "name": "Spring launch", "pct": 15}
		for k, x := range over {
			v[k] = x
		}
		return v
	}
	past := f.clk.Now().Add(-time.Minute).Format(time.RFC3339)
	manyKeys := map[string]any{}
	for i := range 21 {
		manyKeys[fmt.Sprintf("k%d", i)] = "v"
	}
	for _, tc := range []struct {
		name        string
		v           *viewer.Viewer
		vars        map[string]any
		code, field string
	}{
		{"percent and amount", nil, base(map[string]any{"amt": 500, "cur": "USD"}), graph.CodeBadUserInput, "amountOffCents"},
		{"neither percent nor amount", nil, base(map[string]any{"pct": nil}), graph.CodeBadUserInput, "percentOff"},
		{"percent zero", nil, base(map[string]any{"pct": 0}), graph.CodeBadUserInput, "percentOff"},
		{"percent over 100", nil, base(map[string]any{"pct": 100.5}), graph.CodeBadUserInput, "percentOff"},
		{"percent with three decimals", nil, base(map[string]any{"pct": 12.345}), graph.CodeBadUserInput, "percentOff"},
		{"percent with a currency", nil, base(map[string]any{"cur": "USD"}), graph.CodeBadUserInput, "currency"},
		{"amount without currency", nil, base(map[string]any{"pct": nil, "amt": 500}), graph.CodeBadUserInput, "currency"},
		{"amount with a bad currency", nil, base(map[string]any{"pct": nil, "amt": 500, "cur": "US"}), graph.CodeBadUserInput, "currency"},
		{"amount zero", nil, base(map[string]any{"pct": nil, "amt": 0, "cur": "USD"}), graph.CodeBadUserInput, "amountOffCents"},
		{"repeating without months", nil, base(map[string]any{"dur": "repeating"}), graph.CodeBadUserInput, "durationInMonths"},
		{"months without repeating", nil, base(map[string]any{"dur": "forever", "months": 3}), graph.CodeBadUserInput, "durationInMonths"},
		{"months with the default duration", nil, base(map[string]any{"months": 3}), graph.CodeBadUserInput, "durationInMonths"},
		{"37 months", nil, base(map[string]any{"dur": "repeating", "months": 37}), graph.CodeBadUserInput, "durationInMonths"},
		{"zero redemptions", nil, base(map[string]any{"max": 0}), graph.CodeBadUserInput, "maxRedemptions"},
		{"expiry in the past", nil, base(map[string]any{"exp": past}), graph.CodeBadUserInput, "expiresAt"},
		{"expiry now", nil, base(map[string]any{"exp": f.clk.Now().Format(time.RFC3339)}), graph.CodeBadUserInput, "expiresAt"},
		{"21 metadata keys", nil, base(map[string]any{"md": manyKeys}), graph.CodeBadUserInput, "metadata"},
		{"long metadata value", nil, base(map[string]any{"md": map[string]any{"k": strings.Repeat("x", 501)}}), graph.CodeBadUserInput, "metadata"},
		{"metadata number", nil, base(map[string]any{"md": map[string]any{"k": 3}}), graph.CodeBadUserInput, "metadata"},
		{"one-character code", nil, base(map[string]any{"code": "a"}), graph.CodeBadUserInput, "code"},
		{"code with punctuation", nil, base(map[string]any{"code": "SAVE!"}), graph.CodeBadUserInput, "code"},
		{"blank name", nil, base(map[string]any{"name": "   "}), graph.CodeBadUserInput, "name"},
		{"long name", nil, base(map[string]any{"name": strings.Repeat("n", 121)}), graph.CodeBadUserInput, "name"},
		{"taken code", nil, base(map[string]any{"code": "alpha10"}), graph.CodeConflict, "code"},
		{"unknown program", nil, base(map[string]any{"p": "cmp_nope"}), graph.CodeNotFound, ""},
		{"another organization's program", nil, base(map[string]any{"p": f.b.Campaign}), graph.CodeNotFound, ""},
		{"member", f.a.Member, base(nil), graph.CodeForbidden, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.v
			if v == nil {
				v = f.a.Owner
			}
			before := dbState(t, f.db)
			e := wantError(t, f.api.do(t, v, createCouponQ, tc.vars), tc.code, tc.field)
			if tc.code == graph.CodeConflict {
				wantReason(t, e, "code_already_taken")
			}
			if after := dbState(t, f.db); after != before {
				t.Fatal("a refused create changed the database")
			}
		})
	}
}

func TestCreateCampaignCoupon(t *testing.T) {
	f := newCouponFixture(t)
	t.Run("percent, generated code", func(t *testing.T) {
		got := f.campaignCoupon(t, map[string]any{"p": f.a.Campaign, "name": "  Spring launch! 20%  ", "pct": 20})
		if !regexp.MustCompile(`^SPRING-LAUNCH-20-[A-HJ-NP-Z2-9]{5}$`).MatchString(got.Code) {
			t.Fatalf("generated code %q; want SPRING-LAUNCH-20- and five unambiguous characters", got.Code)
		}
		if got.Name != "Spring launch! 20%" || got.AffiliateID != nil || got.PercentOff == nil || *got.PercentOff != 20 ||
			got.AmountOffCents != nil || got.Duration != "once" || got.CampaignID != f.a.Campaign {
			t.Fatalf("got %+v", got)
		}
		rows := auditRows(t, f.db, got.ID)
		if len(rows) != 1 || rows[0].Action != "coupon.create" || rows[0].ActorID != f.a.OwnerUser || rows[0].OrgID != f.a.OrgID {
			t.Fatalf("audit rows %+v; want one coupon.create by the owner", rows)
		}
	})
	t.Run("amount, vanity code, repeating", func(t *testing.T) {
		exp := f.clk.Now().Add(30 * 24 * time.Hour)
		got := f.campaignCoupon(t, map[string]any{"p": f.a.Campaign, "name": "Fifteen off", "amt": 1500, "cur": "eur",
			"dur": "repeating", "months": 3, "max": 100, "exp": exp.Format(time.RFC3339),
			"md": map[string]any{"source": "newsletter"}, "code": " summer 15 "})
		if got.Code != "SUMMER-15" || got.AmountOffCents == nil || *got.AmountOffCents != 1500 || got.Currency == nil ||
			*got.Currency != "EUR" || got.PercentOff != nil || got.Duration != "repeating" || *got.DurationInMonths != 3 ||
			*got.MaxRedemptions != 100 || !got.ExpiresAt.Equal(exp) || got.Metadata["source"] != "newsletter" {
			t.Fatalf("got %+v", got)
		}
	})
}

func TestGenerateAffiliateCoupon(t *testing.T) {
	f := newCouponFixture(t)
	a := f.a
	gen := map[string]any{"a": a.Affiliate, "p": a.Campaign}

	t.Run("self-mint off", func(t *testing.T) {
		must(f.db.Affiliate.UpdateOneID(a.Affiliate).SetStatus(affiliate.StatusApproved).Save(sys())).get(t)
		e := wantError(t, f.api.do(t, a.Owner, generateCouponQ, gen), graph.CodeForbidden, "programID")
		wantReason(t, e, "coupon_self_mint_disabled")
		if !strings.Contains(e.Message, a.Campaign) || !strings.Contains(e.Message, "couponSelfMint") {
			t.Fatalf("message %q should name the program and how to enable self-minting", e.Message)
		}
	})
	f.selfMint(t, a)
	t.Run("no campaign coupon", func(t *testing.T) {
		e := wantError(t, f.api.do(t, a.Owner, generateCouponQ, gen), graph.CodeBadUserInput, "programID")
		wantReason(t, e, "campaign_coupon_required")
		if !strings.Contains(e.Message, "create a campaign coupon first") {
			t.Fatalf("message %q", e.Message)
		}
	})

	// Templates: an old 10%, the current 25% for 3 months, and newer ones
	// that must not be used (revoked, expired, used up).
	f.campaignCoupon(t, map[string]any{"p": a.Campaign, "name": "Old ten", "pct": 10})
	time.Sleep(2 * time.Millisecond)
	tpl := f.campaignCoupon(t, map[string]any{"p": a.Campaign, "name": "Launch", "pct": 25, "dur": "repeating", "months": 3,
		"exp": f.clk.Now().Add(48 * time.Hour).Format(time.RFC3339), "max": 1000})
	time.Sleep(2 * time.Millisecond)
	now := f.clk.Now()
	must(f.db.Coupon.Create().SetOrgID(a.OrgID).SetCampaignID(a.Campaign).SetCode("REVOKED50").SetName("revoked").
		SetPercentOff(50).SetRevokedAt(now).Save(sys())).get(t)
	must(f.db.Coupon.Create().SetOrgID(a.OrgID).SetCampaignID(a.Campaign).SetCode("EXPIRED50").SetName("expired").
		SetPercentOff(50).SetExpiresAt(now.Add(-time.Hour)).Save(sys())).get(t)
	must(f.db.Coupon.Create().SetOrgID(a.OrgID).SetCampaignID(a.Campaign).SetCode("USEDUP50").SetName("used up").
		SetPercentOff(50).SetMaxRedemptions(5).SetTimesRedeemed(5).Save(sys())).get(t)

	var first couponOut
	t.Run("brand mints with a generated code", func(t *testing.T) {
		first = f.generate(t, a.Owner, a.Affiliate, a.Campaign, nil)
		if !regexp.MustCompile(`^ALPHA-PARTNER-[A-HJ-NP-Z2-9]{5}$`).MatchString(first.Code) {
			t.Fatalf("code %q; want the affiliate's slug and a suffix", first.Code)
		}
		if first.AffiliateID == nil || *first.AffiliateID != a.Affiliate || *first.PercentOff != 25 || first.Duration != "repeating" ||
			*first.DurationInMonths != 3 || first.ExpiresAt == nil || !first.ExpiresAt.Equal(*tpl.ExpiresAt) || first.MaxRedemptions != nil {
			t.Fatalf("got %+v; want the Launch coupon's terms and expiry, no redemption cap", first)
		}
		if first.Metadata["template_coupon_id"] != tpl.ID || first.Metadata["minted_by"] != "brand" {
			t.Fatalf("metadata %v", first.Metadata)
		}
		rows := auditRows(t, f.db, first.ID)
		if len(rows) != 1 || rows[0].Action != "coupon.create" || rows[0].ActorType != auditlogentry.ActorTypeUser {
			t.Fatalf("audit rows %+v", rows)
		}
	})
	t.Run("vanity is normalized", func(t *testing.T) {
		if got := f.generate(t, a.Owner, a.Affiliate, a.Campaign, " jane 20 "); got.Code != "JANE-20" {
			t.Fatalf("code %q, want JANE-20", got.Code)
		}
	})

	// A second campaign in the same organization with its own approved affiliate.
	other := must(f.db.Campaign.Create().SetOrgID(a.OrgID).SetName("Other").SetSlug("other").SetCouponSelfMint(true).Save(sys())).get(t)
	pending := must(f.db.Affiliate.Create().SetOrgID(a.OrgID).SetCampaignID(a.Campaign).SetEmail("p@alpha.test").SetSlug("alpha-pending").Save(sys())).get(t)

	for _, tc := range []struct {
		name        string
		v           *viewer.Viewer
		vars        map[string]any
		code, field string
		reason      string
	}{
		{"taken vanity", a.Owner, map[string]any{"a": a.Affiliate, "p": a.Campaign, "v": "jane-20"}, graph.CodeConflict, "vanity", "code_already_taken"},
		{"vanity taken by a campaign coupon", a.Owner, map[string]any{"a": a.Affiliate, "p": a.Campaign, "v": "REVOKED50"}, graph.CodeConflict, "vanity", "code_already_taken"},
		{"bad vanity", a.Owner, map[string]any{"a": a.Affiliate, "p": a.Campaign, "v": "!!"}, graph.CodeBadUserInput, "vanity", ""},
		{"pending affiliate", a.Owner, map[string]any{"a": pending.ID, "p": a.Campaign}, graph.CodeBadUserInput, "affiliateID", ""},
		{"affiliate of another campaign", a.Owner, map[string]any{"a": a.Affiliate, "p": other.ID}, graph.CodeBadUserInput, "programID", ""},
		{"another organization's affiliate", a.Owner, map[string]any{"a": f.b.Affiliate, "p": a.Campaign}, graph.CodeNotFound, "", ""},
		{"another organization's program", a.Owner, map[string]any{"a": a.Affiliate, "p": f.b.Campaign}, graph.CodeNotFound, "", ""},
		{"member", a.Member, gen, graph.CodeForbidden, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := dbState(t, f.db)
			e := wantError(t, f.api.do(t, tc.v, generateCouponQ, tc.vars), tc.code, tc.field)
			if tc.reason != "" {
				wantReason(t, e, tc.reason)
			}
			if after := dbState(t, f.db); after != before {
				t.Fatal("a refused mint changed the database")
			}
		})
	}

	t.Run("at most 10 active codes", func(t *testing.T) {
		for {
			n := must(f.db.Coupon.Query().Where(coupon.AffiliateID(a.Affiliate), coupon.RevokedAtIsNil()).Count(sys())).get(t)
			if n >= 10 {
				break
			}
			f.generate(t, a.Owner, a.Affiliate, a.Campaign, nil)
		}
		e := wantError(t, f.api.do(t, a.Owner, generateCouponQ, gen), graph.CodeLimitReached, "affiliateID")
		wantReason(t, e, "coupon_limit_reached")
		// Revoking one makes room.
		f.api.ok(t, a.Owner, revokeCouponQ, map[string]any{"id": first.ID})
		f.generate(t, a.Owner, a.Affiliate, a.Campaign, nil)
	})
}

func TestRevokeAffiliateCoupon(t *testing.T) {
	f := newCouponFixture(t)
	a := f.a
	campaignLevel := f.campaignCoupon(t, map[string]any{"p": a.Campaign, "name": "Launch", "pct": 10})

	var got struct {
		R couponOut `json:"revokeAffiliateCoupon"`
	}
	f.api.ok(t, a.Owner, revokeCouponQ, map[string]any{"id": a.Coupon}).decode(t, &got)
	if got.R.ID != a.Coupon || got.R.RevokedAt == nil || !got.R.RevokedAt.Equal(f.clk.Now()) {
		t.Fatalf("got %+v; want revoked at the clock's now %s", got.R, f.clk.Now())
	}
	rows := auditRows(t, f.db, a.Coupon)
	if n := len(rows); n == 0 || rows[n-1].Action != "coupon.update" || rows[n-1].ActorID != a.OwnerUser {
		t.Fatalf("audit rows %+v; want a coupon.update by the owner last", rows)
	}

	t.Run("again changes nothing", func(t *testing.T) {
		f.clk.advance(time.Hour)
		before := dbState(t, f.db)
		var again struct {
			R couponOut `json:"revokeAffiliateCoupon"`
		}
		f.api.ok(t, a.Owner, revokeCouponQ, map[string]any{"id": a.Coupon}).decode(t, &again)
		if !again.R.RevokedAt.Equal(*got.R.RevokedAt) {
			t.Fatalf("revokedAt moved from %s to %s", got.R.RevokedAt, again.R.RevokedAt)
		}
		if after := dbState(t, f.db); after != before {
			t.Fatal("revoking a revoked code changed the database")
		}
	})
	for _, tc := range []struct {
		name        string
		v           *viewer.Viewer
		id          string
		code, field string
	}{
		{"campaign-level coupon", a.Owner, campaignLevel.ID, graph.CodeBadUserInput, "couponID"},
		{"another organization's coupon", a.Owner, f.b.Coupon, graph.CodeNotFound, ""},
		{"member", a.Member, a.Coupon, graph.CodeForbidden, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := dbState(t, f.db)
			e := wantError(t, f.api.do(t, tc.v, revokeCouponQ, map[string]any{"id": tc.id}), tc.code, tc.field)
			if tc.field == "couponID" && !strings.Contains(e.Message, "campaign-level") {
				t.Fatalf("message %q should say the coupon is campaign-level", e.Message)
			}
			if after := dbState(t, f.db); after != before {
				t.Fatal("a refused revoke changed the database")
			}
		})
	}
}

func TestCouponLists(t *testing.T) {
	f := newCouponFixture(t)
	a := f.a
	c1 := f.campaignCoupon(t, map[string]any{"p": a.Campaign, "name": "One", "pct": 10})
	time.Sleep(2 * time.Millisecond)
	c2 := f.campaignCoupon(t, map[string]any{"p": a.Campaign, "name": "Two", "pct": 20})

	var got struct {
		C connectionIDs `json:"campaignCoupons"`
	}
	f.api.ok(t, a.Member, campaignCouponsQ, map[string]any{"p": a.Campaign}).decode(t, &got)
	var order []string
	for _, e := range got.C.Edges {
		order = append(order, e.Node.ID)
	}
	if got.C.TotalCount != 2 || !slices.Equal(order, []string{c2.ID, c1.ID}) {
		t.Fatalf("campaign coupons %v (total %d); want the two campaign-level ones newest first, not the affiliate's", order, got.C.TotalCount)
	}

	var aff struct {
		C connectionIDs `json:"affiliateCoupons"`
	}
	f.api.ok(t, a.Member, affiliateCouponsQ, map[string]any{"a": a.Affiliate}).decode(t, &aff)
	if ids := aff.C.ids(); !slices.Equal(ids, []string{a.Coupon}) {
		t.Fatalf("affiliate coupons %v, want [%s]", ids, a.Coupon)
	}

	for _, tc := range []struct {
		name, query string
		vars        map[string]any
		code, field string
	}{
		{"page of zero", campaignCouponsQ, map[string]any{"p": a.Campaign, "first": 0}, graph.CodeBadUserInput, "first"},
		{"unknown program", campaignCouponsQ, map[string]any{"p": "cmp_nope"}, graph.CodeNotFound, ""},
		{"another organization's program", campaignCouponsQ, map[string]any{"p": f.b.Campaign}, graph.CodeNotFound, ""},
		{"another organization's affiliate", affiliateCouponsQ, map[string]any{"a": f.b.Affiliate}, graph.CodeNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, f.api.do(t, a.Owner, tc.query, tc.vars), tc.code, tc.field)
		})
	}
	t.Run("myCoupons refuses a brand viewer", func(t *testing.T) {
		e := wantError(t, f.api.do(t, a.Owner, myCouponsQ, nil), graph.CodeForbidden, "")
		if !strings.Contains(e.Message, "list_my_coupons needs an affiliate-scoped token; brand tokens use list_affiliate_coupons") {
			t.Fatalf("message %q", e.Message)
		}
	})
}

// affiliateToken mints an affiliate-scoped MCP token through the API as the
// owner (signed in) and resolves it the way the MCP endpoint does.
func affiliateToken(t *testing.T, f *couponFixture, tn *tenant, affID string) (string, *viewer.Viewer) {
	t.Helper()
	var got struct {
		C struct {
			Token    string `json:"token"`
			MCPToken struct {
				ID          string  `json:"id"`
				AffiliateID *string `json:"affiliateID"`
			} `json:"mcpToken"`
		} `json:"createMCPToken"`
	}
	f.api.ok(t, tn.Owner, `mutation($in: CreateMCPTokenInput!) { createMCPToken(input: $in) { token mcpToken { id affiliateID } } }`,
		map[string]any{"in": map[string]any{"name": "partner's assistant", "affiliateID": affID}}).decode(t, &got)
	if got.C.MCPToken.AffiliateID == nil || *got.C.MCPToken.AffiliateID != affID {
		t.Fatalf("token %+v; want it scoped to %s", got.C.MCPToken, affID)
	}
	v, err := authenticator(f).MCPViewer(context.Background(), got.C.Token)
	if err != nil {
		t.Fatalf("resolving the affiliate token: %v", err)
	}
	return got.C.Token, v
}

func authenticator(f *couponFixture) *identity.Authenticator {
	return &identity.Authenticator{Client: f.db, Keys: testKeys, Cache: identity.NewCache(time.Second, nil), Now: f.clk.Now}
}

func TestAffiliateScopedToken(t *testing.T) {
	f := newCouponFixture(t)
	a := f.a
	f.selfMint(t, a)
	f.campaignCoupon(t, map[string]any{"p": a.Campaign, "name": "Launch", "pct": 20})
	// The recruit is a second approved affiliate with a code of its own.
	must(f.db.Affiliate.UpdateOneID(a.Recruit).SetStatus(affiliate.StatusApproved).Save(sys())).get(t)
	recruitCode := f.generate(t, a.Owner, a.Recruit, a.Campaign, "RECRUIT1")

	token, av := affiliateToken(t, f, a, a.Affiliate)
	t.Run("resolves to an affiliate viewer", func(t *testing.T) {
		tokID := must(f.db.MCPToken.Query().Where(mcptoken.AffiliateID(a.Affiliate)).OnlyID(sys())).get(t)
		want := viewer.Viewer{OrgID: a.OrgID, AffiliateID: a.Affiliate, Role: viewer.RoleMember, ActorType: viewer.ActorMCP,
			ActorID: tokID, TokenID: tokID, Plan: av.Plan, SubscriptionStatus: av.SubscriptionStatus, EmailVerified: av.EmailVerified}
		if *av != want {
			t.Fatalf("viewer %+v, want %+v", *av, want)
		}
	})

	var mine couponOut
	t.Run("generates a code for itself", func(t *testing.T) {
		mine = f.generate(t, av, a.Affiliate, a.Campaign, "partner-20")
		if mine.Code != "PARTNER-20" || *mine.AffiliateID != a.Affiliate || *mine.PercentOff != 20 || mine.Metadata["minted_by"] != "affiliate" {
			t.Fatalf("got %+v", mine)
		}
		rows := auditRows(t, f.db, mine.ID)
		if len(rows) != 1 || rows[0].ActorType != auditlogentry.ActorTypeMcp || rows[0].TokenID != av.TokenID || rows[0].OrgID != a.OrgID {
			t.Fatalf("audit rows %+v; want one by the affiliate's token", rows)
		}
	})
	t.Run("lists its own codes", func(t *testing.T) {
		var got struct {
			M struct {
				AffiliateID       string `json:"affiliateID"`
				SelfMintCampaigns []struct {
					ID string `json:"id"`
				} `json:"selfMintCampaigns"`
				Coupons connectionIDs `json:"coupons"`
			} `json:"myCoupons"`
		}
		f.api.ok(t, av, myCouponsQ, nil).decode(t, &got)
		if got.M.AffiliateID != a.Affiliate || len(got.M.SelfMintCampaigns) != 1 || got.M.SelfMintCampaigns[0].ID != a.Campaign {
			t.Fatalf("got %+v", got.M)
		}
		if ids, want := got.M.Coupons.ids(), sorted([]string{a.Coupon, mine.ID}); !slices.Equal(ids, want) {
			t.Fatalf("codes %v, want only its own %v (not the recruit's %s)", ids, want, recruitCode.ID)
		}
	})
	t.Run("cannot mint for another affiliate", func(t *testing.T) {
		before := dbState(t, f.db)
		wantError(t, f.api.do(t, av, generateCouponQ, map[string]any{"a": a.Recruit, "p": a.Campaign}), graph.CodeNotFound, "affiliateID")
		if dbState(t, f.db) != before {
			t.Fatal("a refused mint changed the database")
		}
	})
	t.Run("cannot follow edges to the organization's rows", func(t *testing.T) {
		for _, q := range []string{
			`{ myCoupons { selfMintCampaigns { affiliates(first: 10) { totalCount } } } }`,
			`{ myCoupons { coupons { edges { node { campaign { name } } } } } }`,
			`{ myCoupons { coupons { edges { node { organization { name } } } } } }`,
			`mutation($a: ID!, $p: ID!) { generateAffiliateCoupon(affiliateID: $a, programID: $p, vanity: "EDGE1") { affiliate { email notes } } }`,
		} {
			before := dbState(t, f.db)
			resp := f.api.do(t, av, q, map[string]any{"a": a.Affiliate, "p": a.Campaign})
			if len(resp.Errors) == 0 || resp.Errors[0].code() != graph.CodeForbidden || strings.Contains(string(resp.Data), "@") {
				t.Fatalf("%s: got %s %+v; want FORBIDDEN and no data", q, resp.Data, resp.Errors)
			}
			// Queries by a token are audited; only a mutation could change data.
			if strings.HasPrefix(q, "mutation") && dbState(t, f.db) != before {
				t.Fatalf("%s: a refused call changed the database", q)
			}
		}
	})
	t.Run("every other root field refuses it", func(t *testing.T) {
		s := graph.NewSchema(f.db, testDeps()).Schema()
		var open []string
		checked := 0
		for _, root := range []*ast.Definition{s.Query, s.Mutation} {
			for _, fd := range root.Fields {
				if strings.HasPrefix(fd.Name, "__") {
					continue
				}
				if fd.Directives.ForName("affiliateAccess") != nil {
					open = append(open, root.Name+"."+fd.Name)
					continue
				}
				checked++
				q := rootFieldCall(t, s, root, fd)
				before := dbState(t, f.db)
				resp := f.api.do(t, av, q, nil)
				e := wantError(t, resp, graph.CodeForbidden, "")
				if !strings.Contains(e.Message, "(list_my_coupons, generate_affiliate_coupon)") || strings.Contains(string(resp.Data), "__typename") {
					t.Fatalf("%s: got %s %q", q, resp.Data, e.Message)
				}
				if root == s.Mutation && dbState(t, f.db) != before {
					t.Fatalf("%s: a refused call changed the database", q)
				}
			}
		}
		if checked < 30 {
			t.Fatalf("checked only %d root fields", checked)
		}
		if want := []string{"Query.myCoupons", "Mutation.generateAffiliateCoupon"}; !slices.Equal(open, want) {
			t.Fatalf("root fields open to affiliates %v, want %v: opening one is a security decision, update this test with it", open, want)
		}
	})
	t.Run("a brand token still reads everything", func(t *testing.T) {
		brand := *av
		brand.AffiliateID, brand.Role = "", viewer.RoleAdmin
		f.api.ok(t, &brand, `{ affiliates(first: 10) { totalCount } }`, nil)
	})
	t.Run("stops working when the affiliate is blocked", func(t *testing.T) {
		must(f.db.Affiliate.UpdateOneID(a.Affiliate).SetStatus(affiliate.StatusBlocked).Save(sys())).get(t)
		if v, err := authenticator(f).MCPViewer(context.Background(), token); err == nil {
			t.Fatalf("a blocked affiliate's token resolved to %+v", v)
		}
	})
}

// rootFieldCall writes a call of root field fd with made-up values for its
// required arguments and the cheapest selection, so the call passes
// validation and reaches execution.
func rootFieldCall(t *testing.T, s *ast.Schema, root *ast.Definition, fd *ast.FieldDefinition) string {
	t.Helper()
	var args []string
	for _, a := range fd.Arguments {
		switch {
		case a.Type.NonNull && a.DefaultValue == nil:
			args = append(args, a.Name+": "+literal(t, s, a.Type, 0))
		case a.Name == "first":
			args = append(args, "first: 1") // the limits refuse an unbounded connection
		}
	}
	call := fd.Name
	if len(args) > 0 {
		call += "(" + strings.Join(args, ", ") + ")"
	}
	if k := s.Types[fd.Type.Name()].Kind; k == ast.Object || k == ast.Interface || k == ast.Union {
		call += " { __typename }"
	}
	op := "query"
	if root == s.Mutation {
		op = "mutation"
	}
	return op + " { " + call + " }"
}

// literal is a valid GraphQL literal of type typ.
func literal(t *testing.T, s *ast.Schema, typ *ast.Type, depth int) string {
	t.Helper()
	if typ.Elem != nil {
		return "[" + literal(t, s, typ.Elem, depth) + "]"
	}
	def := s.Types[typ.NamedType]
	switch def.Kind {
	case ast.Enum:
		return def.EnumValues[0].Name
	case ast.InputObject:
		if depth > 4 {
			t.Fatalf("input %s nests too deep for this test", def.Name)
		}
		var fields []string
		for _, fd := range def.Fields {
			if fd.Type.NonNull && fd.DefaultValue == nil {
				fields = append(fields, fd.Name+": "+literal(t, s, fd.Type, depth+1))
			}
		}
		return "{" + strings.Join(fields, ", ") + "}"
	}
	switch def.Name {
	case "Int", "Int64":
		return "1"
	case "Float":
		return "1.5"
	case "Boolean":
		return "true"
	case "Time":
		return `"2030-01-01T00:00:00Z"`
	case "Map":
		return "{}"
	default: // String, ID and string-shaped scalars
		return `"x1"`
	}
}

func TestCreateAffiliateScopedToken(t *testing.T) {
	f := newCouponFixture(t)
	a := f.a
	const q = `mutation($in: CreateMCPTokenInput!) { createMCPToken(input: $in) { token mcpToken { id affiliateID } } }`
	in := func(aff string) map[string]any {
		return map[string]any{"in": map[string]any{"name": "partner", "affiliateID": aff}}
	}
	admin := *a.Owner
	admin.Role = viewer.RoleAdmin
	brandMCP := *a.Owner
	brandMCP.ActorType = viewer.ActorMCP

	// The affiliate is Pending until approved.
	for _, tc := range []struct {
		name        string
		v           *viewer.Viewer
		vars        map[string]any
		code, field string
	}{
		{"pending affiliate", a.Owner, in(a.Affiliate), graph.CodeBadUserInput, "affiliateID"},
		{"blank affiliate", a.Owner, in(" "), graph.CodeBadUserInput, "affiliateID"},
		{"another organization's affiliate", a.Owner, in(f.b.Affiliate), graph.CodeNotFound, "affiliateID"},
		{"admin", &admin, in(a.Affiliate), graph.CodeForbidden, ""},
		{"member", a.Member, in(a.Affiliate), graph.CodeForbidden, ""},
		{"brand MCP token", &brandMCP, in(a.Affiliate), graph.CodeForbidden, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := dbState(t, f.db)
			wantError(t, f.api.do(t, tc.v, q, tc.vars), tc.code, tc.field)
			if dbState(t, f.db) != before {
				t.Fatal("a refused mint changed the database")
			}
			if n := must(f.db.MCPToken.Query().Where(mcptoken.AffiliateIDNotNil()).Count(sys())).get(t); n != 0 {
				t.Fatalf("%d affiliate tokens stored", n)
			}
		})
	}
	f.selfMint(t, a)
	t.Run("owner mints for an approved affiliate; rotation keeps the scope", func(t *testing.T) {
		_, av := affiliateToken(t, f, a, a.Affiliate)
		tok := must(f.db.MCPToken.Get(sys(), av.TokenID)).get(t)
		rows := auditRows(t, f.db, tok.ID)
		if len(rows) != 1 || rows[0].Action != "mcp_token.create" || rows[0].ActorID != a.OwnerUser {
			t.Fatalf("audit rows %+v", rows)
		}
		var rot struct {
			R struct {
				Token    string `json:"token"`
				MCPToken struct {
					AffiliateID *string `json:"affiliateID"`
				} `json:"mcpToken"`
			} `json:"rotateMCPToken"`
		}
		f.api.ok(t, a.Owner, `mutation($id: ID!) { rotateMCPToken(id: $id) { token mcpToken { affiliateID } } }`,
			map[string]any{"id": tok.ID}).decode(t, &rot)
		if rot.R.MCPToken.AffiliateID == nil || *rot.R.MCPToken.AffiliateID != a.Affiliate {
			t.Fatalf("rotated token %+v lost its affiliate", rot.R.MCPToken)
		}
		v, err := authenticator(f).MCPViewer(context.Background(), rot.R.Token)
		if err != nil || v.AffiliateID != a.Affiliate {
			t.Fatalf("rotated token resolved to %+v, %v", v, err)
		}
	})
}

// TestSubAffiliateAndHomeCurrencyTools runs the tool files themselves.
func TestSubAffiliateAndHomeCurrencyTools(t *testing.T) {
	f := newCouponFixture(t)
	a := f.a
	files := fstest.MapFS{}
	for _, name := range []string{"get_program_sub_affiliate_config", "set_program_sub_affiliate_config", "set_home_currency",
		"list_campaign_coupons", "create_campaign_coupon", "list_affiliate_coupons", "list_my_coupons",
		"generate_affiliate_coupon", "revoke_affiliate_coupon"} {
		src, err := os.ReadFile(filepath.Join("..", "mcpadapter", "programs", name+".graphql"))
		if err != nil {
			t.Fatal(err)
		}
		files[name+".graphql"] = &fstest.MapFile{Data: src}
	}
	deps := testDeps()
	deps.Now = f.clk.Now
	runner, err := graph.NewRunner(graph.NewSchema(f.db, deps), f.db, graph.Options{}, files)
	if err != nil {
		t.Fatal(err)
	}
	run := func(v *viewer.Viewer, name string, vars map[string]any) (map[string]any, string) {
		t.Helper()
		resp := runner.Run(viewer.NewContext(context.Background(), v), name, vars)
		if len(resp.Errors) > 0 {
			code, _ := resp.Errors[0].Extensions["code"].(string)
			return nil, code
		}
		var data map[string]any
		if err := json.Unmarshal(resp.Data, &data); err != nil {
			t.Fatal(err)
		}
		return data, ""
	}
	pro := func(mut func(*viewer.Viewer)) *viewer.Viewer {
		v := *a.Owner
		v.Plan, v.SubscriptionStatus, v.EmailVerified = "Pro", "active", true
		mut(&v)
		return &v
	}
	set := map[string]any{"programId": a.Campaign, "enabled": true, "percent": 12.5}
	for _, tc := range []struct {
		name string
		v    *viewer.Viewer
		tool string
		vars map[string]any
		code string
	}{
		{"sub-affiliates on Growth", pro(func(v *viewer.Viewer) { v.Plan = "Growth" }), "set_program_sub_affiliate_config", set, graph.CodePlanRequired},
		{"sub-affiliates by a member", pro(func(v *viewer.Viewer) { v.Role, v.UserID = viewer.RoleMember, a.MemberUser }), "set_program_sub_affiliate_config", set, graph.CodeForbidden},
		{"sub-affiliates, unverified email", pro(func(v *viewer.Viewer) { v.EmailVerified = false }), "set_program_sub_affiliate_config", set, graph.CodeEmailUnverified},
		{"sub-affiliates over 100%", pro(func(*viewer.Viewer) {}), "set_program_sub_affiliate_config", map[string]any{"programId": a.Campaign, "enabled": true, "percent": 101}, graph.CodeBadUserInput},
		{"sub-affiliates, another organization", pro(func(*viewer.Viewer) {}), "set_program_sub_affiliate_config", map[string]any{"programId": f.b.Campaign, "enabled": true, "percent": 5}, graph.CodeNotFound},
		{"home currency on Growth", pro(func(v *viewer.Viewer) { v.Plan = "Growth" }), "set_home_currency", map[string]any{"homeCurrency": "EUR"}, graph.CodePlanRequired},
		{"home currency unsupported", pro(func(*viewer.Viewer) {}), "set_home_currency", map[string]any{"homeCurrency": "XYZ"}, graph.CodeBadUserInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := dbState(t, f.db)
			if _, code := run(tc.v, tc.tool, tc.vars); code != tc.code {
				t.Fatalf("got code %q, want %s", code, tc.code)
			}
			if dbState(t, f.db) != before {
				t.Fatal("a refused call changed the database")
			}
		})
	}
	t.Run("sub-affiliate config round trip", func(t *testing.T) {
		got, code := run(pro(func(*viewer.Viewer) {}), "set_program_sub_affiliate_config", set)
		if code != "" {
			t.Fatalf("set: %s", code)
		}
		cfg := got["setCampaignSubAffiliateConfig"].(map[string]any)
		if cfg["enabled"] != true || cfg["percent"] != 12.5 || cfg["overrideBps"] != float64(1250) {
			t.Fatalf("set returned %v", cfg)
		}
		if rows := auditRows(t, f.db, a.Campaign); rows[len(rows)-1].Action != "campaign.update" {
			t.Fatalf("audit rows %+v", rows)
		}
		got, code = run(a.Member, "get_program_sub_affiliate_config", map[string]any{"programId": a.Campaign})
		if code != "" {
			t.Fatalf("get: %s", code)
		}
		if cfg := got["campaign"].(map[string]any); cfg["enabled"] != true || cfg["percent"] != 12.5 || cfg["id"] != a.Campaign {
			t.Fatalf("get returned %v", cfg)
		}
		if _, code := run(a.Member, "get_program_sub_affiliate_config", map[string]any{"programId": f.b.Campaign}); code != graph.CodeNotFound {
			t.Fatalf("another organization's campaign: %q", code)
		}
	})
	t.Run("home currency", func(t *testing.T) {
		got, code := run(pro(func(*viewer.Viewer) {}), "set_home_currency", map[string]any{"homeCurrency": "eur"})
		if code != "" || got["setHomeCurrency"].(map[string]any)["homeCurrency"] != "EUR" {
			t.Fatalf("got %v, %s", got, code)
		}
		if rows := auditRows(t, f.db, a.OrgID); len(rows) == 0 || rows[len(rows)-1].Action != "organization.update" {
			t.Fatalf("audit rows %+v", rows)
		}
	})
	t.Run("coupon tools", func(t *testing.T) {
		got, code := run(a.Owner, "create_campaign_coupon", map[string]any{"programId": a.Campaign, "name": "Launch", "percentOff": 10})
		if code != "" {
			t.Fatalf("create: %s", code)
		}
		id := got["createCampaignCoupon"].(map[string]any)["id"]
		got, code = run(a.Owner, "list_campaign_coupons", map[string]any{"programId": a.Campaign})
		edges := got["campaignCoupons"].(map[string]any)["edges"].([]any)
		if code != "" || len(edges) != 1 || edges[0].(map[string]any)["node"].(map[string]any)["id"] != id {
			t.Fatalf("list: %v %s", got, code)
		}
		f.selfMint(t, a)
		if _, code = run(a.Owner, "generate_affiliate_coupon", map[string]any{"affiliateId": a.Affiliate, "programId": a.Campaign, "vanity": "tool 1"}); code != "" {
			t.Fatalf("generate: %s", code)
		}
		if _, code = run(a.Owner, "revoke_affiliate_coupon", map[string]any{"couponId": a.Coupon}); code != "" {
			t.Fatalf("revoke: %s", code)
		}
		got, code = run(a.Owner, "list_affiliate_coupons", map[string]any{"affiliateId": a.Affiliate})
		if code != "" || len(got["affiliateCoupons"].(map[string]any)["edges"].([]any)) != 2 {
			t.Fatalf("list affiliate: %v %s", got, code)
		}
		if _, code = run(a.Owner, "list_my_coupons", nil); code != graph.CodeForbidden {
			t.Fatalf("list_my_coupons as the brand: %q", code)
		}
	})
}

// The generic coupon mutations, with the ent-generated inputs.
const (
	genericCreateQ = `mutation($in: CreateCouponInput!) { createCoupon(input: $in) {
		id code name campaignID affiliateID percentOff amountOffCents currency duration durationInMonths
		maxRedemptions expiresAt metadata revokedAt } }`
	genericUpdateQ = `mutation($id: ID!, $in: UpdateCouponInput!) { updateCoupon(id: $id, input: $in) {
		id code name campaignID affiliateID percentOff amountOffCents currency duration durationInMonths
		maxRedemptions expiresAt metadata revokedAt } }`
)

// wantRefused checks that a call is refused with code and field, that a
// BAD_USER_INPUT, CONFLICT or NOT_FOUND message names the field too, and
// that nothing was written.
func (f *couponFixture) wantRefused(t *testing.T, v *viewer.Viewer, q string, vars map[string]any, code, field string) gqlError {
	t.Helper()
	before := dbState(t, f.db)
	resp := f.api.do(t, v, q, vars)
	e := wantError(t, resp, code, field)
	if named := code == graph.CodeBadUserInput || code == graph.CodeConflict || code == graph.CodeNotFound; named && !strings.Contains(e.Message, field) {
		t.Fatalf("got message %q, want it to name %s", e.Message, field)
	}
	if resp.hasData() {
		t.Fatalf("got data %s from a refused call", resp.Data)
	}
	if after := dbState(t, f.db); after != before {
		t.Fatal("a refused call changed the database")
	}
	return e
}

func (f *couponFixture) genericCreate(t *testing.T, in map[string]any) couponOut {
	t.Helper()
	var got struct {
		C couponOut `json:"createCoupon"`
	}
	f.api.ok(t, f.a.Owner, genericCreateQ, map[string]any{"in": in}).decode(t, &got)
	return got.C
}

func (f *couponFixture) genericUpdate(t *testing.T, id string, in map[string]any) couponOut {
	t.Helper()
	var got struct {
		C couponOut `json:"updateCoupon"`
	}
	f.api.ok(t, f.a.Owner, genericUpdateQ, map[string]any{"id": id, "in": in}).decode(t, &got)
	return got.C
}

// TestCreateCouponCampaignRules checks that createCoupon without an
// affiliate is held to createCampaignCoupon's rules, naming createCoupon's
// own inputs.
func TestCreateCouponCampaignRules(t *testing.T) {
	f := newCouponFixture(t)
	a := f.a
	in := func(over map[string]any) map[string]any {
		v := map[string]any{"campaignID": a.Campaign, "code": "SPRING", "name": "Spring", "percentOff": 15}
		maps.Copy(v, over)
		return v
	}
	archived := must(f.db.Campaign.Create().SetOrgID(a.OrgID).SetName("Old").SetSlug("old").
		SetStatus("Archived").Save(sys())).get(t)
	manyKeys := map[string]any{}
	for i := range 21 {
		manyKeys[fmt.Sprintf("k%d", i)] = "v"
	}
	for _, tc := range []struct {
		name        string
		vars        map[string]any
		code, field string
	}{
		{"percent and amount", in(map[string]any{"amountOffCents": 500, "currency": "USD"}), graph.CodeBadUserInput, "amountOffCents"},
		{"neither percent nor amount", in(map[string]any{"percentOff": nil}), graph.CodeBadUserInput, "percentOff"},
		{"currency on a percentage", in(map[string]any{"currency": "USD"}), graph.CodeBadUserInput, "currency"},
		{"amount without currency", in(map[string]any{"percentOff": nil, "amountOffCents": 500}), graph.CodeBadUserInput, "currency"},
		{"percent over 100", in(map[string]any{"percentOff": 150}), graph.CodeBadUserInput, "percentOff"},
		{"months without repeating", in(map[string]any{"duration": "forever", "durationInMonths": 3}), graph.CodeBadUserInput, "durationInMonths"},
		{"repeating without months", in(map[string]any{"duration": "repeating"}), graph.CodeBadUserInput, "durationInMonths"},
		{"zero redemptions", in(map[string]any{"maxRedemptions": 0}), graph.CodeBadUserInput, "maxRedemptions"},
		{"expiry in the past", in(map[string]any{"expiresAt": f.clk.Now().Add(-time.Hour).Format(time.RFC3339)}), graph.CodeBadUserInput, "expiresAt"},
		{"21 metadata keys", in(map[string]any{"metadata": manyKeys}), graph.CodeBadUserInput, "metadata"},
		{"metadata number", in(map[string]any{"metadata": map[string]any{"k": 3}}), graph.CodeBadUserInput, "metadata"},
		{"blank name", in(map[string]any{"name": "  "}), graph.CodeBadUserInput, "name"},
		{"code with punctuation", in(map[string]any{"code": "SAVE!"}), graph.CodeBadUserInput, "code"},
		{"taken code, before normalisation", in(map[string]any{"code": "alpha10"}), graph.CodeConflict, "code"},
		{"archived campaign", in(map[string]any{"campaignID": archived.ID}), graph.CodeBadUserInput, "campaignID"},
		{"another organization's campaign", in(map[string]any{"campaignID": f.b.Campaign}), graph.CodeNotFound, "campaignID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.wantRefused(t, a.Owner, genericCreateQ, map[string]any{"in": tc.vars}, tc.code, tc.field)
		})
	}
	t.Run("normalises the code and stores the terms", func(t *testing.T) {
		got := f.genericCreate(t, in(map[string]any{"code": " spring 20 ", "name": " Spring sale ", "percentOff": nil,
			"amountOffCents": 1500, "currency": "eur", "duration": "repeating", "durationInMonths": 2}))
		if got.Code != "SPRING-20" || got.Name != "Spring sale" || got.AffiliateID != nil || got.PercentOff != nil ||
			*got.AmountOffCents != 1500 || *got.Currency != "EUR" || got.Duration != "repeating" || *got.DurationInMonths != 2 {
			t.Fatalf("got %+v", got)
		}
		rows := auditRows(t, f.db, got.ID)
		if len(rows) != 1 || rows[0].Action != "coupon.create" || rows[0].ActorID != a.OwnerUser {
			t.Fatalf("audit rows %+v; want one coupon.create by the owner", rows)
		}
	})
}

// TestCreateCouponAffiliateRules checks that createCoupon with an affiliate
// mints as generateAffiliateCoupon does: the campaign coupon's discount is
// copied, and a different one is refused.
func TestCreateCouponAffiliateRules(t *testing.T) {
	f := newCouponFixture(t)
	a := f.a
	in := func(over map[string]any) map[string]any {
		v := map[string]any{"campaignID": a.Campaign, "affiliateID": a.Affiliate, "code": "partner 25", "name": "Partner"}
		maps.Copy(v, over)
		return v
	}
	must(f.db.Affiliate.UpdateOneID(a.Affiliate).SetStatus(affiliate.StatusApproved).Save(sys())).get(t)
	t.Run("self-mint off", func(t *testing.T) {
		e := f.wantRefused(t, a.Owner, genericCreateQ, map[string]any{"in": in(nil)}, graph.CodeForbidden, "campaignID")
		wantReason(t, e, "coupon_self_mint_disabled")
	})
	f.selfMint(t, a)
	t.Run("no campaign coupon to copy", func(t *testing.T) {
		e := f.wantRefused(t, a.Owner, genericCreateQ, map[string]any{"in": in(nil)}, graph.CodeBadUserInput, "campaignID")
		wantReason(t, e, "campaign_coupon_required")
	})
	exp := f.clk.Now().Add(72 * time.Hour)
	tpl := f.campaignCoupon(t, map[string]any{"p": a.Campaign, "name": "Launch", "pct": 25, "dur": "repeating", "months": 3,
		"exp": exp.Format(time.RFC3339)})
	pending := must(f.db.Affiliate.Create().SetOrgID(a.OrgID).SetCampaignID(a.Campaign).SetEmail("p@alpha.test").
		SetSlug("alpha-pending").Save(sys())).get(t)
	for _, tc := range []struct {
		name        string
		vars        map[string]any
		code, field string
	}{
		{"another percentage", in(map[string]any{"percentOff": 50}), graph.CodeBadUserInput, "percentOff"},
		{"an amount instead", in(map[string]any{"amountOffCents": 500, "currency": "USD"}), graph.CodeBadUserInput, "amountOffCents"},
		{"a currency on a percentage", in(map[string]any{"currency": "USD"}), graph.CodeBadUserInput, "currency"},
		{"another duration", in(map[string]any{"duration": "forever"}), graph.CodeBadUserInput, "duration"},
		{"other months", in(map[string]any{"durationInMonths": 12}), graph.CodeBadUserInput, "durationInMonths"},
		{"Tandem's metadata keys", in(map[string]any{"metadata": map[string]any{"minted_by": "affiliate"}}), graph.CodeBadUserInput, "metadata"},
		{"bad code", in(map[string]any{"code": "!!"}), graph.CodeBadUserInput, "code"},
		{"taken code", in(map[string]any{"code": tpl.Code}), graph.CodeConflict, "code"},
		{"pending affiliate", in(map[string]any{"affiliateID": pending.ID}), graph.CodeBadUserInput, "affiliateID"},
		{"expiry in the past", in(map[string]any{"expiresAt": f.clk.Now().Add(-time.Hour).Format(time.RFC3339)}), graph.CodeBadUserInput, "expiresAt"},
		{"another organization's affiliate", in(map[string]any{"affiliateID": f.b.Affiliate}), graph.CodeNotFound, "affiliateID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := f.wantRefused(t, a.Owner, genericCreateQ, map[string]any{"in": tc.vars}, tc.code, tc.field)
			discount := []string{"percentOff", "amountOffCents", "currency", "duration", "durationInMonths"}
			if slices.Contains(discount, tc.field) && !strings.Contains(e.Message, tpl.Code) {
				t.Fatalf("message %q should name the campaign coupon %s whose discount is copied", e.Message, tpl.Code)
			}
		})
	}
	t.Run("copies the campaign coupon's discount", func(t *testing.T) {
		got := f.genericCreate(t, in(map[string]any{"metadata": map[string]any{"channel": "podcast"}}))
		if got.Code != "PARTNER-25" || got.AffiliateID == nil || *got.AffiliateID != a.Affiliate || *got.PercentOff != 25 ||
			got.Duration != "repeating" || *got.DurationInMonths != 3 || !got.ExpiresAt.Equal(exp) || got.Name != "Partner" {
			t.Fatalf("got %+v; want the Launch coupon's discount and expiry", got)
		}
		if got.Metadata["template_coupon_id"] != tpl.ID || got.Metadata["minted_by"] != "brand" || got.Metadata["channel"] != "podcast" {
			t.Fatalf("metadata %v", got.Metadata)
		}
	})
	t.Run("the same discount, given, is accepted", func(t *testing.T) {
		got := f.genericCreate(t, in(map[string]any{"code": "PARTNER-SAME", "percentOff": 25, "duration": "repeating",
			"durationInMonths": 3, "maxRedemptions": 5}))
		if *got.PercentOff != 25 || *got.MaxRedemptions != 5 {
			t.Fatalf("got %+v", got)
		}
	})
}

// TestUpdateCouponRules checks that updateCoupon changes only what may
// change once a code is out, and that a revocation is final.
func TestUpdateCouponRules(t *testing.T) {
	f := newCouponFixture(t)
	a := f.a
	f.selfMint(t, a)
	cmpCoupon := f.campaignCoupon(t, map[string]any{"p": a.Campaign, "name": "Launch", "pct": 10})
	affCoupon := f.generate(t, a.Owner, a.Affiliate, a.Campaign, "PARTNER-10")
	upd := func(id string, in map[string]any) map[string]any { return map[string]any{"id": id, "in": in} }
	past := f.clk.Now().Add(-time.Hour).Format(time.RFC3339)

	for _, tc := range []struct {
		name        string
		vars        map[string]any
		code, field string
	}{
		{"another percentage", upd(cmpCoupon.ID, map[string]any{"percentOff": 90}), graph.CodeBadUserInput, "percentOff"},
		{"an amount as well", upd(cmpCoupon.ID, map[string]any{"amountOffCents": 500}), graph.CodeBadUserInput, "amountOffCents"},
		{"a currency on a percentage", upd(cmpCoupon.ID, map[string]any{"currency": "USD"}), graph.CodeBadUserInput, "currency"},
		{"another duration", upd(cmpCoupon.ID, map[string]any{"duration": "forever"}), graph.CodeBadUserInput, "duration"},
		{"months", upd(cmpCoupon.ID, map[string]any{"durationInMonths": 3}), graph.CodeBadUserInput, "durationInMonths"},
		{"clearing the percentage", upd(cmpCoupon.ID, map[string]any{"clearPercentOff": true}), graph.CodeBadUserInput, "clearPercentOff"},
		{"a per-affiliate code's percentage", upd(affCoupon.ID, map[string]any{"percentOff": 90}), graph.CodeBadUserInput, "percentOff"},
		{"blank name", upd(cmpCoupon.ID, map[string]any{"name": " "}), graph.CodeBadUserInput, "name"},
		{"zero redemptions", upd(cmpCoupon.ID, map[string]any{"maxRedemptions": 0}), graph.CodeBadUserInput, "maxRedemptions"},
		{"a cap and no cap", upd(cmpCoupon.ID, map[string]any{"maxRedemptions": 5, "clearMaxRedemptions": true}), graph.CodeBadUserInput, "maxRedemptions"},
		{"expiry in the past", upd(cmpCoupon.ID, map[string]any{"expiresAt": past}), graph.CodeBadUserInput, "expiresAt"},
		{"metadata number", upd(cmpCoupon.ID, map[string]any{"metadata": map[string]any{"k": 1}}), graph.CodeBadUserInput, "metadata"},
		{"Tandem's metadata keys", upd(affCoupon.ID, map[string]any{"metadata": map[string]any{"template_coupon_id": "cpn_x"}}), graph.CodeBadUserInput, "metadata"},
		{"revoked in the future", upd(cmpCoupon.ID, map[string]any{"revokedAt": f.clk.Now().Add(time.Hour).Format(time.RFC3339)}), graph.CodeBadUserInput, "revokedAt"},
		{"another organization's coupon", upd(f.b.Coupon, map[string]any{"name": "hijacked"}), graph.CodeNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := f.wantRefused(t, a.Owner, genericUpdateQ, tc.vars, tc.code, tc.field)
			if tc.field == "percentOff" && !strings.Contains(e.Message, "revoke") {
				t.Fatalf("message %q should say how to get another discount", e.Message)
			}
		})
	}
	t.Run("member", func(t *testing.T) {
		f.wantRefused(t, a.Member, genericUpdateQ, upd(cmpCoupon.ID, map[string]any{"name": "Renamed"}), graph.CodeForbidden, "")
	})
	t.Run("the code is not an input", func(t *testing.T) {
		f.wantRefused(t, a.Owner, genericUpdateQ, upd(cmpCoupon.ID, map[string]any{"code": "NEWCODE"}), "GRAPHQL_VALIDATION_FAILED", "code")
	})

	t.Run("changes what may change", func(t *testing.T) {
		exp := f.clk.Now().Add(24 * time.Hour)
		got := f.genericUpdate(t, cmpCoupon.ID, map[string]any{"name": " Launch, renamed ", "maxRedemptions": 50,
			"expiresAt": exp.Format(time.RFC3339), "metadata": map[string]any{"owner": "growth"}, "percentOff": 10, "duration": "once"})
		if got.Name != "Launch, renamed" || *got.MaxRedemptions != 50 || !got.ExpiresAt.Equal(exp) || got.Metadata["owner"] != "growth" ||
			*got.PercentOff != 10 || got.Code != cmpCoupon.Code {
			t.Fatalf("got %+v", got)
		}
		got = f.genericUpdate(t, cmpCoupon.ID, map[string]any{"clearMaxRedemptions": true, "clearExpiresAt": true, "clearMetadata": true})
		if got.MaxRedemptions != nil || got.ExpiresAt != nil || len(got.Metadata) != 0 {
			t.Fatalf("got %+v after clearing", got)
		}
	})
	t.Run("a per-affiliate code keeps Tandem's metadata", func(t *testing.T) {
		got := f.genericUpdate(t, affCoupon.ID, map[string]any{"metadata": map[string]any{"channel": "blog"}})
		if got.Metadata["channel"] != "blog" || got.Metadata["template_coupon_id"] != cmpCoupon.ID || got.Metadata["minted_by"] != "brand" {
			t.Fatalf("metadata %v", got.Metadata)
		}
		got = f.genericUpdate(t, affCoupon.ID, map[string]any{"clearMetadata": true})
		if len(got.Metadata) != 2 || got.Metadata["template_coupon_id"] != cmpCoupon.ID {
			t.Fatalf("metadata %v after clearing", got.Metadata)
		}
	})

	// revokeAffiliateCoupon sends a campaign coupon here; the advice holds.
	e := f.wantRefused(t, a.Owner, revokeCouponQ, map[string]any{"id": cmpCoupon.ID}, graph.CodeBadUserInput, "couponID")
	if !strings.Contains(e.Message, "setting its revokedAt with updateCoupon") {
		t.Fatalf("message %q", e.Message)
	}
	revokedAt := f.clk.Now()
	t.Run("revokes once", func(t *testing.T) {
		got := f.genericUpdate(t, cmpCoupon.ID, map[string]any{"revokedAt": revokedAt.Format(time.RFC3339)})
		if got.RevokedAt == nil || !got.RevokedAt.Equal(revokedAt) {
			t.Fatalf("got %+v", got)
		}
		rows := auditRows(t, f.db, cmpCoupon.ID)
		if n := len(rows); rows[n-1].Action != "coupon.update" || rows[n-1].ActorID != a.OwnerUser {
			t.Fatalf("audit rows %+v", rows)
		}
		// The same revokedAt again is a retry, not a second revocation.
		f.clk.advance(time.Minute)
		again := f.genericUpdate(t, cmpCoupon.ID, map[string]any{"revokedAt": revokedAt.Format(time.RFC3339)})
		if again.RevokedAt == nil || !again.RevokedAt.Equal(revokedAt) {
			t.Fatalf("revokedAt moved from %s to %v", revokedAt, again.RevokedAt)
		}
	})
	t.Run("a revocation is final", func(t *testing.T) {
		f.wantRefused(t, a.Owner, genericUpdateQ, upd(cmpCoupon.ID, map[string]any{"clearRevokedAt": true}), graph.CodeBadUserInput, "clearRevokedAt")
		e := f.wantRefused(t, a.Owner, genericUpdateQ, upd(cmpCoupon.ID, map[string]any{"revokedAt": f.clk.Now().Format(time.RFC3339)}),
			graph.CodeConflict, "revokedAt")
		wantReason(t, e, "coupon_already_revoked")
		must(f.db.Coupon.Query().Where(coupon.ID(cmpCoupon.ID), coupon.RevokedAtNotNil()).Only(sys())).get(t)
	})
	t.Run("a revoked per-affiliate code stays revoked", func(t *testing.T) {
		f.api.ok(t, a.Owner, revokeCouponQ, map[string]any{"id": affCoupon.ID})
		f.wantRefused(t, a.Owner, genericUpdateQ, upd(affCoupon.ID, map[string]any{"clearRevokedAt": true}), graph.CodeBadUserInput, "clearRevokedAt")
	})
}
