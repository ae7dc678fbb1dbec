package graph_test

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tandemhq/tandem/demo"
	"github.com/tandemhq/tandem/ent/conversion"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/graph"
	"github.com/tandemhq/tandem/provision"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/viewer"
)

// BenchmarkConversionPages pages through a filtered conversion list through
// the whole GraphQL stack. Keyset cursors make the first, a middle and the
// last page cost the same however many rows there are: compare the
// sub-benchmarks, and raise TANDEM_BENCH_CONVERSIONS (default 50000) to see
// it hold at a million.
func BenchmarkConversionPages(b *testing.B) {
	n := 50000
	if s := os.Getenv("TANDEM_BENCH_CONVERSIONS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	db := storetest.SQLite(b)
	ctx := context.Background()
	org, err := provision.CreateOrg(ctx, db.Client, provision.OrgInput{Name: "Bench", Slug: "bench", OwnerEmail: "o@bench.test", Plan: "pro"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := demo.Seed(ctx, db, demo.Options{OrgID: org.OrgID, Conversions: n, Affiliates: 500, Clicks: 1000,
		Now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		b.Fatal(err)
	}
	v := &viewer.Viewer{OrgID: org.OrgID, Role: viewer.RoleOwner, ActorType: viewer.ActorUser, Plan: "Pro"}
	api := newAPI(db.Client, graph.Options{})

	// The cursor of a conversion halfway through the approved ones.
	approved := db.Client.Conversion.Query().Where(conversion.OrgID(org.OrgID), conversion.StatusEQ(conversion.StatusApproved))
	mid := approved.Clone().Order(conversion.ByID()).Offset(approved.CountX(rule.AsSystem(ctx)) / 2).FirstX(rule.AsSystem(ctx))
	var got struct {
		Conversions struct{ Edges []struct{ Cursor string } }
	}
	api.do(b, v, `{ conversions(first: 1, where: {status: Approved, idGTE: "`+mid.ID+`"}) { edges { cursor } } }`, nil).decode(b, &got)
	if len(got.Conversions.Edges) != 1 {
		b.Fatal("no cursor in the middle")
	}
	middle, _ := json.Marshal(got.Conversions.Edges[0].Cursor)
	const fields = `pageInfo { hasNextPage hasPreviousPage endCursor } edges { node { id amountCents currency status occurredAt } }`
	pages := map[string]string{
		"first":  `{ conversions(first: 50, where: {status: Approved}) { ` + fields + ` } }`,
		"last":   `{ conversions(last: 50, where: {status: Approved}) { ` + fields + ` } }`,
		"middle": `{ conversions(first: 50, after: ` + string(middle) + `, where: {status: Approved}) { ` + fields + ` } }`,
	}
	for _, name := range []string{"first", "middle", "last"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				resp := api.do(b, v, pages[name], nil)
				if len(resp.Errors) > 0 {
					b.Fatalf("%v", resp.Errors)
				}
			}
		})
	}
}
