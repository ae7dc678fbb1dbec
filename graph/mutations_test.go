package graph_test

import (
	"encoding/json"
	"testing"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/graph"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/viewer"
)

// dbState dumps every row the mutations can touch, as the system sees it, so
// a test can tell that a refused mutation wrote nothing and changed nothing.
func dbState(t *testing.T, c *ent.Client) string {
	t.Helper()
	ctx := sys()
	state := map[string]any{
		"organizations":   must(c.Organization.Query().Order(ent.Asc("id")).All(ctx)).get(t),
		"campaigns":       must(c.Campaign.Query().Order(ent.Asc("id")).All(ctx)).get(t),
		"affiliates":      must(c.Affiliate.Query().Order(ent.Asc("id")).All(ctx)).get(t),
		"coupons":         must(c.Coupon.Query().Order(ent.Asc("id")).All(ctx)).get(t),
		"auditLogEntries": must(c.AuditLogEntry.Query().Order(ent.Asc("id")).All(ctx)).get(t),
	}
	b, err := json.Marshal(state)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestMutationTenancy checks that writes obey the same tenancy as reads: a
// viewer writes only in its own organization, a read-only role writes
// nothing, another organization's rows are not found, and a refused write
// leaves the database exactly as it was.
func TestMutationTenancy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, be storetest.Backend) {
		db := be.Open(t)
		a := seedTenant(t, db.Client, "alpha")
		b := seedTenant(t, db.Client, "bravo")
		api := newAPI(db.Client, graph.Options{})

		const (
			createCampaign  = `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { id name slug } }`
			updateCampaign  = `mutation($id: ID!, $input: UpdateCampaignInput!) { updateCampaign(id: $id, input: $input) { id name } }`
			createAffiliate = `mutation($input: CreateAffiliateInput!) { createAffiliate(input: $input) { id } }`
			updateAffiliate = `mutation($id: ID!, $input: UpdateAffiliateInput!) { updateAffiliate(id: $id, input: $input) { id } }`
			createCoupon    = `mutation($input: CreateCouponInput!) { createCoupon(input: $input) { id } }`
			updateCoupon    = `mutation($id: ID!, $input: UpdateCouponInput!) { updateCoupon(id: $id, input: $input) { id } }`
			updateOrg       = `mutation($input: UpdateOrganizationInput!) { updateOrganization(input: $input) { id name } }`
		)
		newCampaign := map[string]any{"input": map[string]any{"name": "Spring", "slug": "spring"}}

		refused := []struct {
			name      string
			v         *viewer.Viewer
			query     string
			vars      map[string]any
			wantCode  string
			wantField string
		}{
			{"memberA/createCampaign", a.Member, createCampaign, newCampaign, graph.CodeForbidden, ""},
			{"noViewer/createCampaign", nil, createCampaign, newCampaign, graph.CodeUnauthenticated, ""},
			{"memberA/updateCampaign", a.Member, updateCampaign,
				map[string]any{"id": a.Campaign, "input": map[string]any{"name": "renamed"}}, graph.CodeForbidden, ""},
			{"ownerB/updateCampaign(A's)", b.Owner, updateCampaign,
				map[string]any{"id": a.Campaign, "input": map[string]any{"name": "hijacked", "commissionValue": 9000}}, graph.CodeNotFound, ""},
			{"noViewer/updateCampaign", nil, updateCampaign,
				map[string]any{"id": a.Campaign, "input": map[string]any{"name": "hijacked"}}, graph.CodeUnauthenticated, ""},
			{"ownerB/createAffiliate(A's campaign)", b.Owner, createAffiliate,
				map[string]any{"input": map[string]any{"campaignID": a.Campaign, "email": "mole@bravo.test", "slug": "mole"}}, graph.CodeNotFound, "campaignID"},
			{"ownerB/createAffiliate(recruited by A's)", b.Owner, createAffiliate,
				map[string]any{"input": map[string]any{"campaignID": b.Campaign, "recruitedByID": a.Affiliate, "email": "mole@bravo.test", "slug": "mole"}}, graph.CodeNotFound, "recruitedByID"},
			{"noViewer/createAffiliate", nil, createAffiliate,
				map[string]any{"input": map[string]any{"campaignID": a.Campaign, "email": "mole@bravo.test", "slug": "mole"}}, graph.CodeUnauthenticated, ""},
			{"ownerB/updateAffiliate(A's)", b.Owner, updateAffiliate,
				map[string]any{"id": a.Affiliate, "input": map[string]any{"status": "Blocked"}}, graph.CodeNotFound, ""},
			{"memberA/createCoupon", a.Member, createCoupon,
				map[string]any{"input": map[string]any{"campaignID": a.Campaign, "code": "MEMBER", "name": "member", "percentOff": 10}}, graph.CodeForbidden, ""},
			{"ownerB/createCoupon(A's campaign)", b.Owner, createCoupon,
				map[string]any{"input": map[string]any{"campaignID": a.Campaign, "code": "MOLE", "name": "mole", "percentOff": 10}}, graph.CodeNotFound, "campaignID"},
			{"ownerB/createCoupon(A's affiliate)", b.Owner, createCoupon,
				map[string]any{"input": map[string]any{"campaignID": b.Campaign, "affiliateID": a.Affiliate, "code": "MOLE", "name": "mole"}}, graph.CodeNotFound, "affiliateID"},
			{"ownerB/updateCoupon(A's)", b.Owner, updateCoupon,
				map[string]any{"id": a.Coupon, "input": map[string]any{"name": "hijacked"}}, graph.CodeNotFound, ""},
			{"memberA/updateOrganization", a.Member, updateOrg,
				map[string]any{"input": map[string]any{"name": "Renamed"}}, graph.CodeForbidden, ""},
			{"noViewer/updateOrganization", nil, updateOrg,
				map[string]any{"input": map[string]any{"name": "Renamed"}}, graph.CodeUnauthenticated, ""},
		}
		for _, tc := range refused {
			t.Run(tc.name, func(t *testing.T) {
				before := dbState(t, db.Client)
				resp := api.do(t, tc.v, tc.query, tc.vars)
				wantError(t, resp, tc.wantCode, tc.wantField)
				if resp.hasData() {
					t.Fatalf("got data %s from a refused mutation, want none", resp.Data)
				}
				if after := dbState(t, db.Client); after != before {
					t.Fatalf("the refused mutation changed the database:\n got %s\nwant %s", after, before)
				}
			})
		}

		t.Run("ownerA/createCampaign", func(t *testing.T) {
			before := dbState(t, db.Client)
			resp := api.ok(t, a.Owner, createCampaign, newCampaign)
			if dbState(t, db.Client) == before {
				t.Fatal("got the same database state after a successful create, want a new row")
			}
			var data struct {
				CreateCampaign struct{ ID, Name, Slug string } `json:"createCampaign"`
			}
			resp.decode(t, &data)
			got, err := db.Client.Campaign.Get(sys(), data.CreateCampaign.ID)
			if err != nil {
				t.Fatalf("reading the new campaign %q: %v", data.CreateCampaign.ID, err)
			}
			if got.OrgID != a.OrgID || got.Slug != "spring" {
				t.Fatalf("got campaign in org %s with slug %q, want org %s (A) and slug spring", got.OrgID, got.Slug, a.OrgID)
			}
			// B cannot see it; A's member can.
			resp = api.do(t, b.Owner, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": got.ID})
			wantError(t, resp, graph.CodeNotFound, "")
			api.ok(t, a.Member, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": got.ID})
		})

		t.Run("ownerA/updateCampaign", func(t *testing.T) {
			api.ok(t, a.Owner, updateCampaign, map[string]any{"id": a.Campaign, "input": map[string]any{"name": "Alpha renamed"}})
			got, err := db.Client.Campaign.Get(sys(), a.Campaign)
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != "Alpha renamed" || got.OrgID != a.OrgID {
				t.Fatalf("got name %q in org %s, want %q in %s", got.Name, got.OrgID, "Alpha renamed", a.OrgID)
			}
		})

		t.Run("ownerB/createAffiliate(own campaign)", func(t *testing.T) {
			resp := api.ok(t, b.Owner, createAffiliate, map[string]any{"input": map[string]any{
				"campaignID": b.Campaign, "email": "new@bravo.test", "slug": "new-partner",
			}})
			var data struct {
				CreateAffiliate struct{ ID string } `json:"createAffiliate"`
			}
			resp.decode(t, &data)
			got, err := db.Client.Affiliate.Get(sys(), data.CreateAffiliate.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.OrgID != b.OrgID || got.CampaignID != b.Campaign {
				t.Fatalf("got affiliate in org %s on campaign %s, want org %s on %s", got.OrgID, got.CampaignID, b.OrgID, b.Campaign)
			}
		})

		t.Run("ownerB/updateOrganization", func(t *testing.T) {
			api.ok(t, b.Owner, updateOrg, map[string]any{"input": map[string]any{"name": "Bravo renamed"}})
			for _, o := range []struct{ id, want string }{{b.OrgID, "Bravo renamed"}, {a.OrgID, "Alpha"}} {
				got, err := db.Client.Organization.Get(sys(), o.id)
				if err != nil {
					t.Fatal(err)
				}
				if got.Name != o.want {
					t.Fatalf("organization %s: got name %q, want %q", o.id, got.Name, o.want)
				}
			}
		})
	})
}
