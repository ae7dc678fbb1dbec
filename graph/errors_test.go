package graph_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/graph"
	"github.com/tandemhq/tandem/store/storetest"
)

// leaks are words of the database layer that no error message may carry:
// SQL, constraint and table names, driver prefixes.
var leaks = []string{
	"unique", "constraint", "insert", "sqlstate", "duplicate key", "violates",
	"campaigns", "affiliates", "coupons", "org_id", "sql", "ent:",
}

func wantNoLeak(t *testing.T, msg string) {
	t.Helper()
	lower := strings.ToLower(msg)
	for _, w := range leaks {
		if strings.Contains(lower, w) {
			t.Fatalf("got message %q, which contains %q; want no database details", msg, w)
		}
	}
}

// TestErrorPresenter checks that resolver errors reach clients with a stable
// code, the input field they are about, and no database details.
func TestErrorPresenter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, be storetest.Backend) {
		db := be.Open(t)
		a := seedTenant(t, db.Client, "alpha")
		b := seedTenant(t, db.Client, "bravo")
		api := newAPI(db.Client, graph.Options{})

		const (
			createCampaign  = `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`
			updateCampaign  = `mutation($id: ID!, $input: UpdateCampaignInput!) { updateCampaign(id: $id, input: $input) { id } }`
			createAffiliate = `mutation($input: CreateAffiliateInput!) { createAffiliate(input: $input) { id } }`
			createCoupon    = `mutation($input: CreateCouponInput!) { createCoupon(input: $input) { id } }`
			updateOrg       = `mutation($input: UpdateOrganizationInput!) { updateOrganization(input: $input) { id } }`
		)
		input := func(kv ...any) map[string]any {
			in := map[string]any{}
			for i := 0; i < len(kv); i += 2 {
				in[kv[i].(string)] = kv[i+1]
			}
			return map[string]any{"input": in}
		}
		// A second campaign of A's, for a slug clash on update.
		second := api.ok(t, a.Owner, createCampaign, input("name", "Second", "slug", "second"))
		var created struct {
			CreateCampaign struct{ ID string } `json:"createCampaign"`
		}
		second.decode(t, &created)

		cases := []struct {
			name      string
			query     string
			vars      map[string]any
			wantCode  string
			wantField string // empty: not checked
		}{
			{"invalid slug", createCampaign, input("name", "Bad", "slug", "Bad Slug!"), graph.CodeBadUserInput, "slug"},
			{"empty name", createCampaign, input("name", "", "slug", "empty-name"), graph.CodeBadUserInput, "name"},
			{"currency too long", createCampaign, input("name", "X", "slug", "long-currency", "currency", "USDX"), graph.CodeBadUserInput, "currency"},
			{"invalid coupon code", createCoupon, input("campaignID", a.Campaign, "code", "lower case!", "name", "X", "percentOff", 10), graph.CodeBadUserInput, "code"},
			{"invalid brand color", updateOrg, input("brandColor", "red"), graph.CodeBadUserInput, "brandColor"},
			{"campaign slug taken", createCampaign, input("name", "Again", "slug", "alpha-program"), graph.CodeConflict, "slug"},
			{"campaign slug taken on update", updateCampaign,
				map[string]any{"id": created.CreateCampaign.ID, "input": map[string]any{"slug": "alpha-program"}}, graph.CodeConflict, "slug"},
			{"affiliate slug taken", createAffiliate, input("campaignID", a.Campaign, "email", "other@alpha.test", "slug", "alpha-partner"), graph.CodeConflict, "slug"},
			{"affiliate email taken in campaign", createAffiliate, input("campaignID", a.Campaign, "email", "partner@alpha.test", "slug", "other"), graph.CodeConflict, "campaignID, email"},
			{"cookie window out of range", createCampaign, input("name", "X", "slug", "range", "cookieWindowDays", 400), graph.CodeBadUserInput, "cookieWindowDays"},
			{"bad time argument", createCoupon, input("campaignID", a.Campaign, "code", "TIMEBAD", "name", "X", "percentOff", 10, "expiresAt", "not a time"), graph.CodeBadUserInput, ""},
			{"coupon code taken", createCoupon, input("campaignID", a.Campaign, "code", "ALPHA10", "name", "Again", "percentOff", 10), graph.CodeConflict, "code"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := dbState(t, db.Client)
				resp := api.do(t, a.Owner, tc.query, tc.vars)
				e := wantError(t, resp, tc.wantCode, tc.wantField)
				wantNoLeak(t, e.Message)
				if tc.wantField != "" && !strings.Contains(e.Message, tc.wantField) {
					t.Fatalf("got message %q, want it to name %s", e.Message, tc.wantField)
				}
				if resp.hasData() {
					t.Fatalf("got data %s, want none", resp.Data)
				}
				if after := dbState(t, db.Client); after != before {
					t.Fatalf("the failed mutation changed the database:\n got %s\nwant %s", after, before)
				}
			})
		}

		// Slugs and codes are unique per organization: B may reuse A's,
		// and learns nothing about A's from trying.
		t.Run("same slug in another organization", func(t *testing.T) {
			api.ok(t, b.Owner, createCampaign, input("name", "Copy", "slug", "alpha-program"))
			api.ok(t, b.Owner, createCoupon, input("campaignID", b.Campaign, "code", "ALPHA10", "name", "Copy", "percentOff", 10))
		})
	})
}

// TestValidationErrors checks errors about the query text itself: they keep
// gqlparser's message, are coded GRAPHQL_VALIDATION_FAILED, and give no
// schema hints outside development.
func TestValidationErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, be storetest.Backend) {
		db := be.Open(t)
		a := seedTenant(t, db.Client, "alpha")
		cases := []struct {
			name          string
			q             string
			dev           bool
			wantSuggested bool
		}{
			{"production", `{ campaigns(first: 1) { edges { node { id nam } } } }`, false, false},
			{"development", `{ campaigns(first: 1) { edges { node { id nam } } } }`, true, true},
			{"unknown argument in production", `{ campaigns(first: 1, nam: 2) { edges { node { id } } } }`, false, false},
			{"unknown enum value in production", `{ campaigns(first: 1, orderBy: {field: NAM}) { edges { node { id } } } }`, false, false},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				api := newAPI(db.Client, graph.Options{Dev: tc.dev})
				resp := api.do(t, a.Owner, tc.q, nil)
				e := wantError(t, resp, "GRAPHQL_VALIDATION_FAILED", "")
				if !strings.Contains(e.Message, "nam") && !strings.Contains(e.Message, "NAM") {
					t.Fatalf("got message %q, want it to name the unknown field", e.Message)
				}
				if got := strings.Contains(e.Message, "Did you mean"); got != tc.wantSuggested {
					t.Fatalf("got message %q: suggestion %v, want %v", e.Message, got, tc.wantSuggested)
				}
				if resp.hasData() {
					t.Fatalf("got data %s, want none", resp.Data)
				}
				if resp.Status != http.StatusUnprocessableEntity {
					t.Fatalf("got status %d, want %d", resp.Status, http.StatusUnprocessableEntity)
				}
			})
		}
	})
}

// An argument gqlgen cannot read (a cursor that is not one) is the client's
// mistake, named as such, not an internal error.
func TestUnreadableArgumentIsBadInput(t *testing.T) {
	db := storetest.SQLite(t)
	a := seedTenant(t, db.Client, "alpha")
	api := newAPI(db.Client, graph.Options{})
	resp := api.do(t, a.Owner, `{ campaigns(first: 1, after: "garbage") { edges { node { id } } } }`, nil)
	e := wantError(t, resp, graph.CodeBadUserInput, "after")
	wantNoLeak(t, e.Message)
}
