package subscriptions

import (
	"context"
	"testing"

	"github.com/tandemhq/tandem/ent/provider"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/subscriptions/catalog"
)

func TestSyncCatalogIsIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		c := b.Open(t).Client
		ctx := context.Background()
		sys := rule.AsSystem(ctx)
		if err := SyncCatalog(ctx, c); err != nil {
			t.Fatal(err)
		}
		all := catalog.All()
		if n := c.Provider.Query().CountX(sys); n != len(all) {
			t.Fatalf("%d providers after the first sync, want %d", n, len(all))
		}
		netflix := c.Provider.Query().Where(provider.Key("netflix")).OnlyX(sys)
		if netflix.CancelURL != "https://www.netflix.com/cancelplan" || netflix.Category != "streaming" || len(netflix.Aliases) == 0 {
			t.Fatalf("netflix: %+v", netflix)
		}
		// A drifted row is put back; the rest are not written again.
		c.Provider.UpdateOne(netflix).SetCancelURL("https://example.test/").ExecX(sys)
		hulu := c.Provider.Query().Where(provider.Key("hulu")).OnlyX(sys)
		if err := SyncCatalog(ctx, c); err != nil {
			t.Fatal(err)
		}
		if got := c.Provider.Query().Where(provider.Key("netflix")).OnlyX(sys); got.CancelURL != "https://www.netflix.com/cancelplan" {
			t.Errorf("netflix cancel URL %q after the second sync", got.CancelURL)
		}
		if got := c.Provider.Query().Where(provider.Key("hulu")).OnlyX(sys); !got.UpdatedAt.Equal(hulu.UpdatedAt) {
			t.Errorf("hulu rewritten: updated_at %s → %s", hulu.UpdatedAt, got.UpdatedAt)
		}
		if n := c.Provider.Query().CountX(sys); n != len(all) {
			t.Errorf("%d providers after the second sync, want %d", n, len(all))
		}
	})
}
