package subscriptions

import (
	"context"
	"testing"
	"time"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/ent/subscription"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/viewer"
)

// personCtx is a context whose viewer is a new person in c.
func personCtx(t *testing.T, c *ent.Client, email string) context.Context {
	t.Helper()
	u := c.User.Create().SetEmail(email).SaveX(rule.AsSystem(context.Background()))
	return viewer.NewContext(context.Background(), &viewer.Viewer{UserID: u.ID, ActorType: viewer.ActorPerson, ActorID: u.ID, TokenID: "utk_test"})
}

func TestIngestAddOnlyLeavesAnExistingSubscriptionAlone(t *testing.T) {
	c := storetest.SQLite(t).Client
	ctx := personCtx(t, c, "ada@example.com")
	clk := now
	svc := Service{Now: func() time.Time { return clk }}
	first, err := svc.Ingest(ctx, c, IngestInput{Name: "Netflix", Amount: 15.99, BillDate: BillDay(3)}, SourceMCP)
	if err != nil || !first.Created {
		t.Fatalf("first ingest = %+v, %v", first, err)
	}
	if _, err := svc.Cancel(ctx, c, first.Subscription.ID); err != nil {
		t.Fatal(err)
	}
	before := c.Subscription.GetX(ctx, first.Subscription.ID)

	clk = now.Add(48 * time.Hour)
	visa := subscription.CardNetworkVisa
	res, err := svc.IngestWith(ctx, c, IngestInput{Name: " NETFLIX ", Amount: 22.99, BillDate: BillDay(20),
		TrialEndDate: ptr("2026-08-01"), CardNetwork: &visa, Category: ptr("other")}, "partner:acme", IngestOptions{AddOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Created || res.Subscription.ID != before.ID || res.Subscription.AmountCents != 1599 {
		t.Errorf("add-only re-ingest = created %v, %+v; want created=false and the stored subscription", res.Created, res.Subscription)
	}
	after := c.Subscription.GetX(ctx, first.Subscription.ID)
	if !after.UpdatedAt.Equal(before.UpdatedAt) || after.AmountCents != 1599 || *after.BillDay != 3 ||
		after.TrialEndDate != nil || after.CardNetwork != nil || after.Status != subscription.StatusCancelled ||
		!after.LastChargedAt.Equal(*before.LastChargedAt) {
		t.Errorf("add-only re-ingest changed the subscription:\nbefore %+v\nafter  %+v", before, after)
	}
	if n := c.PricePoint.Query().CountX(ctx); n != 1 {
		t.Errorf("%d price points, want only the first", n)
	}

	// A new name is still created under AddOnly.
	res, err = svc.IngestWith(ctx, c, IngestInput{Name: "Hulu", Amount: 7.99}, "partner:acme", IngestOptions{AddOnly: true})
	if err != nil || !res.Created || res.Subscription.AmountCents != 799 {
		t.Fatalf("add-only new = %+v, %v", res, err)
	}
}

// An ingest is a sign the subscription still bills: one a source keeps
// re-pushing is not dormant, however old it is.
func TestReIngestKeepsASubscriptionFromDormancy(t *testing.T) {
	c := storetest.SQLite(t).Client
	ctx := personCtx(t, c, "ada@example.com")
	clk := now
	svc := Service{Now: func() time.Time { return clk }}
	res, err := svc.Ingest(ctx, c, IngestInput{Name: "Netflix", Amount: 15.99}, SourceMCP)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Subscription.LastChargedAt; got == nil || !got.Equal(now) {
		t.Errorf("after create last_charged_at = %v, want %s", got, now)
	}
	for month := 1; month <= 4; month++ {
		clk = now.AddDate(0, month, 0)
		if _, err := svc.Ingest(ctx, c, IngestInput{Name: "Netflix", Amount: 15.99}, "partner:acme"); err != nil {
			t.Fatal(err)
		}
	}
	s := c.Subscription.GetX(ctx, res.Subscription.ID)
	if s.LastChargedAt == nil || !s.LastChargedAt.Equal(clk) {
		t.Errorf("after re-ingests last_charged_at = %v, want %s", s.LastChargedAt, clk)
	}
	if d := dormant([]*ent.Subscription{s}, clk.Add(24*time.Hour)); len(d) != 0 {
		t.Errorf("re-pushed monthly for 4 months, yet dormant: %+v", d[0])
	}
	if d := dormant([]*ent.Subscription{s}, clk.AddDate(0, 3, 0)); len(d) != 1 {
		t.Errorf("not pushed for 3 months, yet not dormant")
	}
}

// A statement descriptor and an agent's plain name of one catalog service
// are one subscription: the second ingest updates the first.
func TestIngestDedupesCatalogNamesAcrossSpellings(t *testing.T) {
	c := storetest.SQLite(t).Client
	ctx := personCtx(t, c, "ada@example.com")
	svc := Service{Now: func() time.Time { return now }}
	first, err := svc.Ingest(ctx, c, IngestInput{Name: "Spotify", Amount: 11.99}, SourceMCP)
	if err != nil || !first.Created {
		t.Fatalf("first ingest = %+v, %v", first, err)
	}
	second, err := svc.Ingest(ctx, c, IngestInput{Name: "SPOTIFY USA 877-778-1161 NY", Amount: 12.99}, "partner:bank")
	if err != nil {
		t.Fatal(err)
	}
	if second.Created || second.Subscription.ID != first.Subscription.ID || second.Subscription.AmountCents != 1299 {
		t.Fatalf("descriptor ingest = created %v, id %s, %d cents; want an update of %s to 1299",
			second.Created, second.Subscription.ID, second.Subscription.AmountCents, first.Subscription.ID)
	}
	// An unknown service still dedupes by its own normalized name.
	if got, want := DedupeKey("  Corner Bakery Club "), "corner bakery club"; got != want {
		t.Errorf("DedupeKey = %q, want %q", got, want)
	}
}
