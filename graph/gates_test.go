package graph_test

import (
	"testing"

	"github.com/tandemhq/tandem/ent/campaign"
	"github.com/tandemhq/tandem/graph"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/viewer"
)

// Plan, role and email gates apply to a field however the call arrives, and
// refuse before the resolver runs: nothing is written.
func TestGates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, be storetest.Backend) {
		db := be.Open(t)
		a := seedTenant(t, db.Client, "alpha")
		api := newAPI(db.Client, graph.Options{})
		as := func(mutate func(v *viewer.Viewer)) *viewer.Viewer {
			v := *a.Owner
			v.Plan, v.SubscriptionStatus, v.EmailVerified = "Pro", "active", true
			mutate(&v)
			return &v
		}
		const subAff = `mutation($id: ID!) { setCampaignSubAffiliateConfig(campaignID: $id, enabled: true, percent: 12.5) { subAffiliatesEnabled subAffiliateOverrideBps } }`
		const homeCurrency = `mutation($c: String!) { setHomeCurrency(homeCurrency: $c) { homeCurrency } }`
		vars := map[string]any{"id": a.Campaign}

		for _, tc := range []struct {
			name     string
			v        *viewer.Viewer
			query    string
			vars     map[string]any
			wantCode string
			wantTier string
		}{
			{"starter owner", as(func(v *viewer.Viewer) { v.Plan = "Starter" }), subAff, vars, graph.CodePlanRequired, "Pro"},
			{"growth over MCP", as(func(v *viewer.Viewer) { v.Plan, v.ActorType = "Growth", viewer.ActorMCP }), subAff, vars, graph.CodePlanRequired, "Pro"},
			{"pro admin", as(func(v *viewer.Viewer) { v.Role = viewer.RoleAdmin }), subAff, vars, graph.CodeForbidden, ""},
			{"pro owner, unverified email", as(func(v *viewer.Viewer) { v.EmailVerified = false }), subAff, vars, graph.CodeEmailUnverified, ""},
			{"home currency on growth", as(func(v *viewer.Viewer) { v.Plan = "Growth" }), homeCurrency, map[string]any{"c": "EUR"}, graph.CodePlanRequired, "Pro"},
			{"home currency not supported", as(func(*viewer.Viewer) {}), homeCurrency, map[string]any{"c": "XYZ"}, graph.CodeBadUserInput, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := dbState(t, db.Client)
				resp := api.do(t, tc.v, tc.query, tc.vars)
				e := wantError(t, resp, tc.wantCode, "")
				if tier, _ := e.Extensions["requiredTier"].(string); tier != tc.wantTier {
					t.Fatalf("got requiredTier %q, want %q", tier, tc.wantTier)
				}
				if after := dbState(t, db.Client); after != before {
					t.Fatalf("a refused call changed the database")
				}
			})
		}

		t.Run("pro owner with a verified email", func(t *testing.T) {
			var got struct {
				Set struct {
					SubAffiliatesEnabled    bool
					SubAffiliateOverrideBps int
				} `json:"setCampaignSubAffiliateConfig"`
			}
			api.ok(t, as(func(*viewer.Viewer) {}), subAff, vars).decode(t, &got)
			if !got.Set.SubAffiliatesEnabled || got.Set.SubAffiliateOverrideBps != 1250 {
				t.Fatalf("got %+v, want enabled with 1250 bps", got.Set)
			}
			c := db.Client.Campaign.Query().Where(campaign.ID(a.Campaign)).OnlyX(sys())
			if c.SubAffiliateOverrideBps != 1250 {
				t.Fatalf("stored %d bps", c.SubAffiliateOverrideBps)
			}
		})
		t.Run("home currency is idempotent", func(t *testing.T) {
			pro := as(func(*viewer.Viewer) {})
			api.ok(t, pro, homeCurrency, map[string]any{"c": "eur"})
			before := dbState(t, db.Client)
			api.ok(t, pro, homeCurrency, map[string]any{"c": "EUR"})
			if after := dbState(t, db.Client); after != before {
				t.Fatalf("setting the same currency again changed the database")
			}
		})
	})
}
