package reports_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tandemhq/tandem/demo"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/provision"
	"github.com/tandemhq/tandem/reports"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/viewer"
)

// BenchmarkDashboardSummary measures the dashboard's summary and a
// timeseries over a demo program on each backend. The size is
// TANDEM_BENCH_CONVERSIONS conversions (default 100000) with four clicks
// per conversion, a year of history; set it to 1000000 for the load the
// reports are built for.
func BenchmarkDashboardSummary(b *testing.B) {
	conversions := 100_000
	if s := os.Getenv("TANDEM_BENCH_CONVERSIONS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("TANDEM_BENCH_CONVERSIONS=%q is not a positive number", s)
		}
		conversions = n
	}
	now := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
	for _, backend := range storetest.Backends(b) {
		b.Run(backend.Name, func(b *testing.B) {
			db := backend.Open(b)
			org, err := provision.CreateOrg(rule.AsSystem(context.Background()), db.Client,
				provision.OrgInput{Name: "Bench", Slug: "bench", OwnerEmail: "o@bench.test", Plan: "pro"})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := demo.Seed(context.Background(), db, demo.Options{OrgID: org.OrgID,
				Affiliates: conversions / 25, Conversions: conversions, Clicks: 4 * conversions, Now: now}); err != nil {
				b.Fatal(err)
			}
			ctx := viewer.NewContext(context.Background(), &viewer.Viewer{OrgID: org.OrgID, Role: viewer.RoleOwner, ActorType: viewer.ActorUser, Plan: "Pro"})
			for _, rng := range []string{"30d", "all"} {
				b.Run("summary/"+rng, func(b *testing.B) {
					for b.Loop() {
						if _, err := reports.Summary(ctx, db.Client, now, &rng); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
			for _, metric := range []string{"revenue", "clicks"} {
				b.Run("timeseries/"+metric+"/ytd", func(b *testing.B) {
					ytd := "ytd"
					for b.Loop() {
						if _, err := reports.Timeseries(ctx, db.Client, now, metric, &ytd); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
