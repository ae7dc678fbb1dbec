package audit_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/tandemhq/tandem/audit"
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
