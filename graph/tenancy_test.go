package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/importjob"
	"github.com/tandemhq/tandem/ent/membership"
	"github.com/tandemhq/tandem/graph"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/viewer"
)

// intruders are rows of organization B whose foreign keys point at A's rows.
// The API never lets a viewer create them, but they are what a bug in a
// writer would leave behind: reading through A's objects must still show A's
// rows only, and reading them as B must not reach A's rows.
type intruders struct {
	Affiliate, Click, Lead, ImportJob, Batch, LineItem, Conversion, Coupon string
}

func seedIntruders(t *testing.T, c *ent.Client, a, b *tenant) intruders {
	t.Helper()
	ctx := sys()
	var in intruders
	in.Affiliate = must(c.Affiliate.Create().SetOrgID(b.OrgID).SetCampaignID(a.Campaign).SetRecruitedByID(a.Affiliate).
		SetEmail("intruder@bravo.test").SetSlug("bravo-intruder").Save(ctx)).get(t).ID
	in.Click = must(c.Click.Create().SetOrgID(b.OrgID).SetAffiliateID(a.Affiliate).SetCampaignID(a.Campaign).Save(ctx)).get(t).ID
	in.Lead = must(c.Lead.Create().SetOrgID(b.OrgID).SetAffiliateID(a.Affiliate).SetCampaignID(a.Campaign).
		SetEmail("intruder-lead@bravo.test").Save(ctx)).get(t).ID
	in.ImportJob = must(c.ImportJob.Create().SetOrgID(b.OrgID).SetKind(importjob.KindAffiliates).SetCampaignID(a.Campaign).Save(ctx)).get(t).ID
	in.Batch = must(c.PayoutBatch.Create().SetOrgID(b.OrgID).SetCurrency("USD").SetCampaignID(a.Campaign).Save(ctx)).get(t).ID
	in.LineItem = must(c.PayoutLineItem.Create().SetOrgID(b.OrgID).SetBatchID(a.Batch).SetAffiliateID(in.Affiliate).
		SetAmountCents(1).SetCurrency("USD").Save(ctx)).get(t).ID
	in.Conversion = must(c.Conversion.Create().SetOrgID(b.OrgID).SetAffiliateID(a.Affiliate).SetCampaignID(a.Campaign).
		SetLeadID(a.Lead).SetImportJobID(a.ImportJob).SetPayoutLineItemID(a.LineItem).SetOverrideAffiliateID(a.Affiliate).
		SetAmountCents(1).SetCurrency("USD").SetCommissionCents(1).
		SetHomeAmountCents(1).SetHomeCommissionCents(1).SetHomeCurrency("USD").Save(ctx)).get(t).ID
	in.Coupon = must(c.Coupon.Create().SetOrgID(b.OrgID).SetCampaignID(a.Campaign).SetAffiliateID(a.Affiliate).
		SetCode("INTRUDER").SetName("intruder").Save(ctx)).get(t).ID
	b.add("affiliates", in.Affiliate)
	b.add("clicks", in.Click)
	b.add("leads", in.Lead)
	b.add("importJobs", in.ImportJob)
	b.add("payoutBatches", in.Batch)
	b.add("payoutLineItems", in.LineItem)
	b.add("conversions", in.Conversion)
	b.add("coupons", in.Coupon)
	return in
}

// seedSharedUser adds a user who is a member of both organizations and
// returns the user and its membership in a and in b.
func seedSharedUser(t *testing.T, c *ent.Client, a, b *tenant) (user, inA, inB string) {
	t.Helper()
	ctx := sys()
	user = must(c.User.Create().SetEmail("consultant@shared.test").Save(ctx)).get(t).ID
	inA = must(c.Membership.Create().SetOrgID(a.OrgID).SetUserID(user).SetRole(membership.RoleMember).Save(ctx)).get(t).ID
	inB = must(c.Membership.Create().SetOrgID(b.OrgID).SetUserID(user).SetRole(membership.RoleMember).Save(ctx)).get(t).ID
	a.add("users", user)
	a.add("memberships", inA)
	b.add("users", user)
	b.add("memberships", inB)
	return user, inA, inB
}

// TestTenancy is the tenancy acceptance test: through every root field, node
// lookup and edge, a viewer sees its own organization's rows and nothing of
// another's, and a request without a viewer sees nothing at all.
func TestTenancy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, be storetest.Backend) {
		db := be.Open(t)
		a := seedTenant(t, db.Client, "alpha")
		b := seedTenant(t, db.Client, "bravo")
		in := seedIntruders(t, db.Client, a, b)
		shared, sharedInA, _ := seedSharedUser(t, db.Client, a, b)
		api := newAPI(db.Client, graph.Options{})

		// onlyA are A's rows that B must never see, per root field.
		onlyA := map[string][]string{}
		var allOnlyA []string
		for _, f := range rootConnections {
			if len(a.ids[f]) == 0 || len(b.ids[f]) == 0 {
				t.Fatalf("fixture: %s has %d rows in A and %d in B, want at least one in each", f, len(a.ids[f]), len(b.ids[f]))
			}
			onlyA[f] = without(a.ids[f], b.ids[f])
			if len(onlyA[f]) == 0 {
				t.Fatalf("fixture: %s has no row of A's alone", f)
			}
			allOnlyA = append(allOnlyA, onlyA[f]...)
		}

		type seat struct {
			name string
			v    *viewer.Viewer
			org  *tenant // whose rows the viewer sees; nil: none, UNAUTHENTICATED
		}
		seats := []seat{
			{"ownerA", a.Owner, a},
			{"memberA", a.Member, a},
			{"ownerB", b.Owner, b},
			{"noViewer", nil, nil},
		}

		t.Run("rootConnections", func(t *testing.T) {
			for _, f := range rootConnections {
				q := fmt.Sprintf(`{ %s(first: 50) { totalCount edges { node { id } } } }`, f)
				for _, s := range seats {
					t.Run(f+"/"+s.name, func(t *testing.T) {
						resp := api.do(t, s.v, q, nil)
						if s.org == nil {
							wantError(t, resp, graph.CodeUnauthenticated, "")
							if resp.hasData() {
								t.Fatalf("got data %s without a viewer, want none", resp.Data)
							}
							return
						}
						if len(resp.Errors) > 0 {
							t.Fatalf("got errors %+v, want none", resp.Errors)
						}
						var data map[string]connectionIDs
						resp.decode(t, &data)
						got, want := data[f].ids(), sorted(s.org.ids[f])
						if s.org != a {
							for _, id := range got {
								if slices.Contains(onlyA[f], id) {
									t.Errorf("%s sees A's row %s", s.name, id)
								}
							}
						}
						if !slices.Equal(got, want) {
							t.Fatalf("got %s %v, want %v", f, got, want)
						}
						if data[f].TotalCount != len(want) {
							t.Fatalf("got totalCount %d, want %d", data[f].TotalCount, len(want))
						}
					})
				}
			}
		})

		// A filter naming A's IDs cannot widen B's view.
		t.Run("whereIDIn", func(t *testing.T) {
			for _, f := range rootConnections {
				t.Run(f, func(t *testing.T) {
					q := fmt.Sprintf(`query($ids: [ID!]) { %s(first: 50, where: {idIn: $ids}) { totalCount edges { node { id } } } }`, f)
					resp := api.ok(t, b.Owner, q, map[string]any{"ids": onlyA[f]})
					var data map[string]connectionIDs
					resp.decode(t, &data)
					if got := data[f].ids(); len(got) != 0 || data[f].TotalCount != 0 {
						t.Fatalf("got %v (totalCount %d) for B filtering on A's IDs, want none", got, data[f].TotalCount)
					}
					// The same filter as A finds the rows, so the filter itself works.
					resp = api.ok(t, a.Owner, q, map[string]any{"ids": onlyA[f]})
					resp.decode(t, &data)
					if got, want := data[f].ids(), sorted(onlyA[f]); !slices.Equal(got, want) {
						t.Fatalf("got %v for A filtering on its own IDs, want %v", got, want)
					}
				})
			}
		})

		t.Run("node", func(t *testing.T) {
			const nodeQ = `query($id: ID!) { node(id: $id) { id } }`
			const nodesQ = `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`
			for _, f := range rootConnections {
				for _, id := range onlyA[f] {
					for _, s := range seats {
						t.Run(f+"/"+id+"/"+s.name, func(t *testing.T) {
							vars := map[string]any{"id": id, "ids": []string{id}}
							resp := api.do(t, s.v, nodeQ, vars)
							var one struct {
								Node *struct{ ID string } `json:"node"`
							}
							var many struct {
								Nodes []*struct{ ID string } `json:"nodes"`
							}
							switch {
							case s.org == a:
								if len(resp.Errors) > 0 {
									t.Fatalf("node: got errors %+v, want none", resp.Errors)
								}
								resp.decode(t, &one)
								if one.Node == nil || one.Node.ID != id {
									t.Fatalf("node: got %s, want %s", resp.Data, id)
								}
								resp = api.ok(t, s.v, nodesQ, vars)
								resp.decode(t, &many)
								if len(many.Nodes) != 1 || many.Nodes[0] == nil || many.Nodes[0].ID != id {
									t.Fatalf("nodes: got %s, want [%s]", resp.Data, id)
								}
							case s.org == nil:
								wantError(t, resp, graph.CodeUnauthenticated, "")
								if bytes.Contains(resp.Data, []byte(id)) {
									t.Fatalf("node: got data %s without a viewer", resp.Data)
								}
								resp = api.do(t, s.v, nodesQ, vars)
								wantError(t, resp, graph.CodeUnauthenticated, "")
								if bytes.Contains(resp.Data, []byte(id)) {
									t.Fatalf("nodes: got data %s without a viewer", resp.Data)
								}
							default:
								wantError(t, resp, graph.CodeNotFound, "")
								resp.decode(t, &one)
								if one.Node != nil {
									t.Fatalf("node: got %s for another organization's row, want null", resp.Data)
								}
								resp = api.do(t, s.v, nodesQ, vars)
								wantError(t, resp, graph.CodeNotFound, "")
								if bytes.Contains(resp.Data, []byte(id)) {
									t.Fatalf("nodes: got %s for another organization's row, want null", resp.Data)
								}
							}
						})
					}
				}
			}
		})

		// nodes with many IDs at once takes another path (one query per table).
		t.Run("nodesBatch", func(t *testing.T) {
			const q = `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`
			vars := map[string]any{"ids": allOnlyA}
			for _, s := range seats {
				t.Run(s.name, func(t *testing.T) {
					resp := api.do(t, s.v, q, vars)
					var data struct {
						Nodes []*struct{ ID string } `json:"nodes"`
					}
					if s.org == a {
						if len(resp.Errors) > 0 {
							t.Fatalf("got errors %+v, want none", resp.Errors)
						}
						resp.decode(t, &data)
						if len(data.Nodes) != len(allOnlyA) {
							t.Fatalf("got %d nodes, want %d", len(data.Nodes), len(allOnlyA))
						}
						for i, n := range data.Nodes {
							if n == nil || n.ID != allOnlyA[i] {
								t.Fatalf("nodes[%d]: got %+v, want %s", i, n, allOnlyA[i])
							}
						}
						return
					}
					want := graph.CodeNotFound
					if s.org == nil {
						want = graph.CodeUnauthenticated
					}
					if len(resp.Errors) != len(allOnlyA) {
						t.Fatalf("got %d errors %+v, want one per ID (%d)", len(resp.Errors), resp.codes(), len(allOnlyA))
					}
					for i, e := range resp.Errors {
						if e.code() != want {
							t.Fatalf("error %d: got code %q (%q), want %q", i, e.code(), e.Message, want)
						}
						if len(e.Path) != 2 || e.Path[0] != "nodes" {
							t.Fatalf("error %d: got path %v, want [nodes %d]", i, e.Path, i)
						}
					}
					resp.decode(t, &data)
					for i, n := range data.Nodes {
						if n != nil {
							t.Fatalf("nodes[%d]: got %+v, want null", i, n)
						}
					}
				})
			}
			// B asking for its own row and A's gets its own and a NOT_FOUND for A's.
			t.Run("mixed", func(t *testing.T) {
				resp := api.do(t, b.Owner, q, map[string]any{"ids": []string{b.Campaign, a.Campaign}})
				e := wantError(t, resp, graph.CodeNotFound, "")
				if len(e.Path) != 2 || e.Path[0] != "nodes" || e.Path[1] != float64(1) {
					t.Fatalf("got error path %v, want [nodes 1]", e.Path)
				}
				var data struct {
					Nodes []*struct{ ID string } `json:"nodes"`
				}
				resp.decode(t, &data)
				if len(data.Nodes) != 2 || data.Nodes[0] == nil || data.Nodes[0].ID != b.Campaign || data.Nodes[1] != nil {
					t.Fatalf("got %s, want [%s, null]", resp.Data, b.Campaign)
				}
			})
		})

		// Connections through A's own objects show A's rows only, though B
		// has rows pointing at the same parents.
		t.Run("edges", func(t *testing.T) {
			edges := []struct {
				typ, root, parent, edge string
				want                    []string
			}{
				{"Campaign", "campaigns", a.Campaign, "affiliates", []string{a.Affiliate, a.Recruit}},
				{"Campaign", "campaigns", a.Campaign, "coupons", []string{a.Coupon}},
				{"Affiliate", "affiliates", a.Affiliate, "conversions", []string{a.Conversion}},
				{"Affiliate", "affiliates", a.Affiliate, "coupons", []string{a.Coupon}},
				{"Affiliate", "affiliates", a.Affiliate, "recruits", []string{a.Recruit}},
				{"PayoutBatch", "payoutBatches", a.Batch, "lineItems", []string{a.LineItem}},
				{"PayoutLineItem", "payoutLineItems", a.LineItem, "conversions", []string{a.Conversion}},
				{"ImportJob", "importJobs", a.ImportJob, "conversions", []string{a.Conversion}},
				{"User", "users", shared, "memberships", []string{sharedInA}},
				{"User", "users", a.OwnerUser, "memberships", []string{a.OwnerMembership}},
			}
			for _, e := range edges {
				for _, s := range seats[:2] {
					t.Run(e.typ+"."+e.edge+"/"+s.name, func(t *testing.T) {
						want := sorted(e.want)
						// Through node(id:): the edge is loaded lazily.
						q := fmt.Sprintf(`query($id: ID!) { node(id: $id) { ... on %s { %s(first: 50) { totalCount edges { node { id } } } } } }`, e.typ, e.edge)
						resp := api.ok(t, s.v, q, map[string]any{"id": e.parent})
						var one struct {
							Node map[string]connectionIDs `json:"node"`
						}
						resp.decode(t, &one)
						conn := one.Node[e.edge]
						if got := conn.ids(); !slices.Equal(got, want) || conn.TotalCount != len(want) {
							t.Fatalf("node(id).%s: got %v (totalCount %d), want %v", e.edge, got, conn.TotalCount, want)
						}
						// Through a root connection: the edge is eager-loaded for every parent at once.
						q = fmt.Sprintf(`{ %s(first: 50) { edges { node { id %s(first: 50) { totalCount edges { node { id } } } } } } }`, e.root, e.edge)
						resp = api.ok(t, s.v, q, nil)
						var list map[string]struct {
							Edges []struct {
								Node map[string]json.RawMessage `json:"node"`
							} `json:"edges"`
						}
						resp.decode(t, &list)
						found := false
						for _, edge := range list[e.root].Edges {
							var id string
							_ = json.Unmarshal(edge.Node["id"], &id)
							if id != e.parent {
								continue
							}
							found = true
							var conn connectionIDs
							if err := json.Unmarshal(edge.Node[e.edge], &conn); err != nil {
								t.Fatal(err)
							}
							if got := conn.ids(); !slices.Equal(got, want) || conn.TotalCount != len(want) {
								t.Fatalf("%s.%s: got %v (totalCount %d), want %v", e.root, e.edge, got, conn.TotalCount, want)
							}
						}
						if !found {
							t.Fatalf("%s: got %s, want it to list %s", e.root, resp.Data, e.parent)
						}
					})
				}
			}
		})

		// B's rows that point at A's rows do not lead B to them: a required
		// edge into A is NOT_FOUND, an optional one is null.
		t.Run("edgesIntoA", func(t *testing.T) {
			cases := []struct {
				typ, id, sel string
				required     bool
			}{
				{"Affiliate", in.Affiliate, "campaign { id name }", true},
				{"Affiliate", in.Affiliate, "recruitedBy { id email }", false},
				{"Click", in.Click, "affiliate { id email }", true},
				{"Click", in.Click, "campaign { id name }", true},
				{"Lead", in.Lead, "affiliate { id email }", true},
				{"Lead", in.Lead, "campaign { id name }", true},
				{"ImportJob", in.ImportJob, "campaign { id name }", true},
				{"PayoutBatch", in.Batch, "campaign { id name }", false},
				{"PayoutLineItem", in.LineItem, "batch { id totalCents }", true},
				{"Conversion", in.Conversion, "affiliate { id }", true},
				{"Conversion", in.Conversion, "campaign { id }", true},
				{"Conversion", in.Conversion, "lead { id } overrideAffiliate { id } importJob { id } payoutLineItem { id }", false},
				{"Coupon", in.Coupon, "campaign { id name }", true},
				{"Coupon", in.Coupon, "affiliate { id email }", false},
			}
			for _, c := range cases {
				t.Run(c.typ+"/"+strings.Fields(c.sel)[0], func(t *testing.T) {
					q := fmt.Sprintf(`query($id: ID!) { node(id: $id) { id ... on %s { %s } } }`, c.typ, c.sel)
					resp := api.do(t, b.Owner, q, map[string]any{"id": c.id})
					for _, id := range allOnlyA {
						if bytes.Contains(resp.Data, []byte(id)) {
							t.Fatalf("got data %s, which names A's row %s", resp.Data, id)
						}
					}
					var data struct {
						Node map[string]json.RawMessage `json:"node"`
					}
					resp.decode(t, &data)
					if c.required {
						// The non-null edge fails and takes its parent with it.
						wantError(t, resp, graph.CodeNotFound, "")
						if data.Node != nil {
							t.Fatalf("got %s, want node null", resp.Data)
						}
					} else {
						if len(resp.Errors) > 0 {
							t.Fatalf("got errors %+v, want none", resp.Errors)
						}
						for name, v := range data.Node {
							if name != "id" && string(v) != "null" {
								t.Fatalf("got %s: %s, want null", name, v)
							}
						}
					}
					// The same rows read as A are not found at all.
					resp = api.do(t, a.Owner, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": c.id})
					wantError(t, resp, graph.CodeNotFound, "")
				})
			}
		})

		t.Run("viewerOrganization", func(t *testing.T) {
			const q = `{ viewerOrganization { id slug } }`
			for _, s := range seats {
				t.Run(s.name, func(t *testing.T) {
					resp := api.do(t, s.v, q, nil)
					if s.org == nil {
						wantError(t, resp, graph.CodeUnauthenticated, "")
						if resp.hasData() {
							t.Fatalf("got data %s without a viewer, want none", resp.Data)
						}
						return
					}
					if len(resp.Errors) > 0 {
						t.Fatalf("got errors %+v, want none", resp.Errors)
					}
					var data struct {
						ViewerOrganization struct{ ID, Slug string } `json:"viewerOrganization"`
					}
					resp.decode(t, &data)
					if data.ViewerOrganization.ID != s.org.OrgID {
						t.Fatalf("got organization %+v, want %s", data.ViewerOrganization, s.org.OrgID)
					}
				})
			}
		})
	})
}
