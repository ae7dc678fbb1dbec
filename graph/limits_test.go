package graph_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/graph"
	"github.com/tandemhq/tandem/store/storetest"
)

// deepQuery returns a query whose selections nest exactly depth levels
// (depth >= 4): affiliates > edges > node > recruitedBy … > id.
func deepQuery(depth int) string {
	k := depth - 4
	return "{ affiliates(first: 1) { edges { node { " +
		strings.Repeat("recruitedBy { ", k) + "id" + strings.Repeat(" }", k) +
		" } } } }"
}

// deepFragmentQuery nests as deep as deepQuery but hides most of the depth
// in a fragment.
func deepFragmentQuery(depth int) string {
	k := depth - 4
	return "{ affiliates(first: 1) { edges { node { ...Chain } } } }\n" +
		"fragment Chain on Affiliate { " + strings.Repeat("recruitedBy { ", k) + "id" + strings.Repeat(" }", k) + " }"
}

// dashboardQuery is the kind of page the dashboard loads: several lists,
// each with a nested list or two.
const dashboardQuery = `query Dashboard($first: Int!) {
  viewerOrganization { id name slug planTier homeCurrency }
  campaigns(first: $first, orderBy: {field: CREATED_AT, direction: DESC}) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        id name slug status commissionType commissionValue
        affiliates(first: 10) { totalCount edges { node { id email status } } }
      }
    }
  }
  conversions(first: 50, orderBy: {field: OCCURRED_AT, direction: DESC}) {
    totalCount
    edges { node { id status amountCents currency commissionCents occurredAt affiliate { id email } campaign { id name } } }
  }
  payoutBatches(first: 20) {
    edges { node { id status totalCents lineCount lineItems(first: 50) { edges { node { id amountCents affiliate { id email } } } } } }
  }
}`

// TestLimits checks graph.DefaultLimits: pages must be asked for and
// bounded, and depth, aliases and page-multiplied size are capped, all before
// any resolver runs.
func TestLimits(t *testing.T) {
	if l := graph.DefaultLimits; l != (graph.Limits{MaxDepth: 12, MaxAliases: 30, MaxComplexity: 20000, MaxPage: 200}) {
		t.Fatalf("got DefaultLimits %+v, want MaxDepth 12, MaxAliases 30, MaxComplexity 20000, MaxPage 200", l)
	}
	storetest.Each(t, func(t *testing.T, be storetest.Backend) {
		db := be.Open(t)
		a := seedTenant(t, db.Client, "alpha")
		api := newAPI(db.Client, graph.Options{})

		cases := []struct {
			name      string
			query     string
			vars      map[string]any
			wantCode  string // empty: the operation runs without errors
			wantField string
		}{
			{"no first or last", `{ campaigns { totalCount } }`, nil, graph.CodeBadUserInput, "first"},
			{"nested without first", `{ campaigns(first: 5) { edges { node { affiliates { totalCount } } } } }`, nil, graph.CodeBadUserInput, "first"},
			{"nested in fragment without first", `{ campaigns(first: 5) { edges { node { ...F } } } } fragment F on Campaign { coupons { totalCount } }`, nil, graph.CodeBadUserInput, "first"},
			{"first 201", `{ campaigns(first: 201) { totalCount } }`, nil, graph.CodeBadUserInput, "first"},
			{"last 201", `{ campaigns(last: 201) { totalCount } }`, nil, graph.CodeBadUserInput, "last"},
			{"first -1", `{ campaigns(first: -1) { totalCount } }`, nil, graph.CodeBadUserInput, "first"},
			{"first 200", `{ campaigns(first: 200) { totalCount } }`, nil, "", ""},
			{"last 200", `{ campaigns(last: 200) { totalCount } }`, nil, "", ""},
			{"first 0", `{ campaigns(first: 0) { totalCount } }`, nil, "", ""},
			{"variable first 201", `query($n: Int) { campaigns(first: $n) { totalCount } }`, map[string]any{"n": 201}, graph.CodeBadUserInput, "first"},
			{"variable first 200", `query($n: Int) { campaigns(first: $n) { totalCount } }`, map[string]any{"n": 200}, "", ""},
			{"variable first missing", `query($n: Int) { campaigns(first: $n) { totalCount } }`, nil, graph.CodeBadUserInput, "first"},
			{"variable first null", `query($n: Int) { campaigns(first: $n) { totalCount } }`, map[string]any{"n": nil}, graph.CodeBadUserInput, "first"},
			{"variable first default", `query($n: Int = 500) { campaigns(first: $n) { totalCount } }`, nil, graph.CodeBadUserInput, "first"},
			{"depth 12", deepQuery(12), nil, "", ""},
			{"depth 13", deepQuery(13), nil, graph.CodeQueryTooComplex, ""},
			{"depth 13 in a fragment", deepFragmentQuery(13), nil, graph.CodeQueryTooComplex, ""},
			{"30 aliases", "{ " + aliases(30, "viewerOrganization { id }") + " }", nil, "", ""},
			{"31 aliases", "{ " + aliases(31, "viewerOrganization { id }") + " }", nil, graph.CodeQueryTooComplex, ""},
			{"31 aliases in a fragment", "{ ...F } fragment F on Query { " + aliases(31, "viewerOrganization { id }") + " }", nil, graph.CodeQueryTooComplex, ""},
			{"one 200-row page", `{ campaigns(first: 200) { edges { node { id name slug status } } } }`, nil, "", ""},
			{"nested 200-row pages", `{ campaigns(first: 200) { edges { node { affiliates(first: 200) { edges { node { id } } } } } } }`, nil, graph.CodeQueryTooComplex, ""},
			{"nested 200-row pages via variables", `query($n: Int!) { campaigns(first: $n) { edges { node { affiliates(first: $n) { edges { node { id } } } } } } }`, map[string]any{"n": 200}, graph.CodeQueryTooComplex, ""},
			{"nested 200-row pages in a fragment", `{ campaigns(first: 200) { edges { node { ...F } } } } fragment F on Campaign { affiliates(first: 200) { edges { node { id } } } }`, nil, graph.CodeQueryTooComplex, ""},
			{"dashboard", dashboardQuery, map[string]any{"first": 20}, "", ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				resp := api.do(t, a.Owner, tc.query, tc.vars)
				if tc.wantCode == "" {
					if len(resp.Errors) > 0 {
						t.Fatalf("got errors %+v, want none", resp.Errors)
					}
					if !resp.hasData() {
						t.Fatal("got no data, want some")
					}
					return
				}
				wantError(t, resp, tc.wantCode, tc.wantField)
				if resp.hasData() {
					t.Fatalf("got data %s, want none: limits apply before any resolver runs", resp.Data)
				}
			})
		}

		// The page size in a variable is what the resolver uses too.
		t.Run("variable first is honoured", func(t *testing.T) {
			q := `query($id: ID!, $n: Int!) { node(id: $id) { ... on Campaign { affiliates(first: $n) { totalCount pageInfo { hasNextPage } edges { node { id } } } } } }`
			resp := api.ok(t, a.Owner, q, map[string]any{"id": a.Campaign, "n": 1})
			var data struct {
				Node struct {
					Affiliates struct {
						TotalCount int
						PageInfo   struct{ HasNextPage bool }
						Edges      []struct{ Node struct{ ID string } }
					}
				}
			}
			resp.decode(t, &data)
			got := data.Node.Affiliates
			if len(got.Edges) != 1 || !got.PageInfo.HasNextPage || got.TotalCount != 2 {
				t.Fatalf("got %d edges, hasNextPage %v, totalCount %d; want 1, true, 2", len(got.Edges), got.PageInfo.HasNextPage, got.TotalCount)
			}
		})

		// A mutation over the limits is refused before it writes anything.
		t.Run("mutations", func(t *testing.T) {
			var many strings.Builder
			for i := range 31 {
				fmt.Fprintf(&many, "c%d: createCampaign(input: {name: \"C%d\", slug: \"c-%d\"}) { id }\n", i, i, i)
			}
			cases := []struct {
				name, query, wantCode string
			}{
				{"31 aliased creates", "mutation { " + many.String() + " }", graph.CodeQueryTooComplex},
				{"unbounded connection in the result", `mutation { createCampaign(input: {name: "X", slug: "x"}) { id affiliates { totalCount } } }`, graph.CodeBadUserInput},
				{"too deep a result", `mutation { createCampaign(input: {name: "X", slug: "x"}) { affiliates(first: 1) { edges { node { ` +
					strings.Repeat("recruitedBy { ", 9) + "id" + strings.Repeat(" }", 9) + ` } } } } }`, graph.CodeQueryTooComplex},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					before := dbState(t, db.Client)
					resp := api.do(t, a.Owner, tc.query, nil)
					wantError(t, resp, tc.wantCode, "")
					if resp.hasData() {
						t.Fatalf("got data %s, want none", resp.Data)
					}
					if after := dbState(t, db.Client); after != before {
						t.Fatalf("the refused mutation changed the database:\n got %s\nwant %s", after, before)
					}
				})
			}
		})
	})
}

// Fragments that spread each other ten times per level would make a naive
// walker do 10^n work for an n-level query; the walk stops at the limit.
func TestLimitsStopFragmentBombs(t *testing.T) {
	db := storetest.SQLite(t)
	a := seedTenant(t, db.Client, "alpha")
	api := newAPI(db.Client, graph.Options{})
	var q strings.Builder
	q.WriteString("query Q { viewerOrganization { ...F0 } }\n")
	const levels = 12 // ~10^12 field visits without the guard
	for i := 0; i < levels; i++ {
		fmt.Fprintf(&q, "fragment F%d on Organization { name", i)
		if i+1 < levels {
			for j := 0; j < 10; j++ {
				fmt.Fprintf(&q, " ...F%d", i+1)
			}
		}
		q.WriteString(" }\n")
	}
	resp := api.do(t, a.Owner, q.String(), nil)
	wantError(t, resp, graph.CodeQueryTooComplex, "")
}
