package audit_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/tandemhq/tandem/audit"
	"github.com/tandemhq/tandem/provision"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/viewer"
)

// Concurrent reads are stored in batches, each row attributed to its own
// caller, and every caller returns only after its row is stored.
func TestBatcherStoresEveryConcurrentReadWithItsCaller(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := setup(t, b)
		batcher := audit.NewBatcher(f.db.Client, nil)
		const n = 60
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				org := f.org
				if i%2 == 1 {
					org = f.other
				}
				ctx := viewer.NewContext(context.Background(), &viewer.Viewer{
					OrgID: org, Role: viewer.RoleAdmin, ActorType: viewer.ActorMCP,
					TokenID: fmt.Sprintf("mcp_%d", i), RequestID: fmt.Sprintf("req_%d", i)})
				errs <- batcher.Record(ctx, "query.tool", "", "", map[string]any{"n": i, "secret_hash": "x"})
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		rows := f.entries(t)
		if len(rows) != n {
			t.Fatalf("stored %d rows, want %d", len(rows), n)
		}
		for _, r := range rows {
			var i int
			fmt.Sscanf(r.TokenID, "mcp_%d", &i)
			wantOrg := f.org
			if i%2 == 1 {
				wantOrg = f.other
			}
			if r.OrgID != wantOrg || r.RequestID != fmt.Sprintf("req_%d", i) || r.After["secret_hash"] != nil {
				t.Errorf("row %+v is not its caller's", r)
			}
		}
	})
}

// A read that cannot be stored is refused to its caller.
func TestBatcherReportsAFailedWrite(t *testing.T) {
	f := setup(t, storetest.Backends(t)[0])
	batcher := audit.NewBatcher(f.db.Client, nil)
	_ = f.db.Close()
	err := batcher.Record(f.mcp(), "query.tool", "", "", nil)
	if err == nil {
		t.Fatal("a read whose audit row could not be written was accepted")
	}
	if err := batcher.Record(context.Background(), "query.tool", "", "", nil); err != audit.ErrNoViewer {
		t.Errorf("no viewer: %v", err)
	}
}

// Begin returns at once; its wait reports the row's fate, every time it is
// asked, so a read can run while its row is written and still be refused
// when the row could not be.
func TestBatcherBeginWaitsForItsRow(t *testing.T) {
	f := setup(t, storetest.Backends(t)[0])
	batcher := audit.NewBatcher(f.db.Client, nil)
	stored := batcher.Begin(f.mcp(), "query.tool", "", "", nil)
	for range 2 {
		if err := stored(); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(f.entries(t)); n != 1 {
		t.Fatalf("stored %d rows, want 1", n)
	}
	_ = f.db.Close()
	failed := batcher.Begin(f.mcp(), "query.tool", "", "", nil)
	if err := failed(); err == nil || failed() == nil {
		t.Fatal("a row that could not be written was reported stored")
	}
}

// BenchmarkBatcher is 32 callers recording reads at once, as 32 agents
// calling read tools would: what one audited read costs the writer.
func BenchmarkBatcher(b *testing.B) {
	db := storetest.SQLite(b)
	res, err := provision.CreateOrg(context.Background(), db.Client, provision.OrgInput{Name: "Acme", Slug: "acme", OwnerEmail: "owner@acme.test"})
	if err != nil {
		b.Fatal(err)
	}
	batcher := audit.NewBatcher(db.Client, nil)
	ctx := viewer.NewContext(context.Background(), &viewer.Viewer{
		OrgID: res.OrgID, Role: viewer.RoleOwner, ActorType: viewer.ActorMCP, TokenID: "mcp_x", ActorID: "usr_x", RequestID: "req_1"})
	b.SetParallelism(16) // 32 callers on 2 cores
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := batcher.Record(ctx, "query.get_org_profile", "", "", map[string]any{"fields": []string{"viewerOrganization"}}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
