package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/graph"
	"github.com/tandemhq/tandem/provision"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/viewer"
)

// A nested query costs the same number of SQL statements whether the pages
// hold one row or many: edges are loaded per level, never per row.
func TestNestedConnectionsAreNotNPlusOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := b.Open(t)
		ctx := context.Background()
		org, err := provision.CreateOrg(ctx, db.Client, provision.OrgInput{Name: "Acme", Slug: "acme", OwnerEmail: "o@acme.test"})
		if err != nil {
			t.Fatal(err)
		}
		var statements atomic.Int64
		counted := ent.NewClient(ent.Driver(dialect.DebugWithContext(entsql.OpenDB(db.Dialect, db.SQL),
			func(context.Context, ...any) { statements.Add(1) })))

		query := `{ campaigns(first: 20) { edges { node { name affiliates(first: 20) { totalCount edges { node { email campaign { name } conversions(first: 5) { edges { node { amountCents } } } } } } } } } }`
		v := &viewer.Viewer{OrgID: org.OrgID, Role: viewer.RoleOwner, ActorType: viewer.ActorUser}
		measure := func() int64 {
			statements.Store(0)
			body := postAs(t, counted, v, query)
			if strings.Contains(body, `"errors"`) {
				t.Fatalf("query failed: %s", body)
			}
			return statements.Load()
		}

		seedTree(t, db.Client, org.OrgID, 1, 1, 1)
		small := measure()
		seedTree(t, db.Client, org.OrgID, 4, 6, 3)
		large := measure()
		if small < 4 {
			t.Fatalf("counted %d statements; the driver wrapper is not counting", small)
		}
		if large != small {
			t.Fatalf("statements: %d for 1 campaign, %d for 5 campaigns with 6 affiliates each; want the same count", small, large)
		}
	})
}

var seedRun int

func seedTree(t *testing.T, c *ent.Client, orgID string, campaigns, affiliates, conversions int) {
	t.Helper()
	ctx := rule.AsSystem(context.Background())
	for i := 0; i < campaigns; i++ {
		seedRun++
		cmp := c.Campaign.Create().SetOrgID(orgID).SetName("C").SetSlug(fmt.Sprintf("c-%d", seedRun)).SaveX(ctx)
		for j := 0; j < affiliates; j++ {
			aff := c.Affiliate.Create().SetOrgID(orgID).SetCampaignID(cmp.ID).
				SetEmail(fmt.Sprintf("a%d-%d@x.test", seedRun, j)).SetSlug(fmt.Sprintf("a-%d-%d", seedRun, j)).SaveX(ctx)
			for k := 0; k < conversions; k++ {
				c.Conversion.Create().SetOrgID(orgID).SetAffiliateID(aff.ID).SetCampaignID(cmp.ID).
					SetAmountCents(1000).SetCurrency("USD").SetCommissionCents(200).
					SetHomeAmountCents(1000).SetHomeCommissionCents(200).SetHomeCurrency("USD").SaveX(ctx)
			}
		}
	}
}

func postAs(t *testing.T, c *ent.Client, v *viewer.Viewer, query string) string {
	t.Helper()
	srv := handler.New(graph.NewSchema(c, testDeps()))
	srv.AddTransport(transport.POST{})
	graph.Configure(srv, c, graph.Options{})
	body, _ := json.Marshal(map[string]any{"query": query})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req = req.WithContext(viewer.NewContext(req.Context(), v))
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec.Body.String()
}
