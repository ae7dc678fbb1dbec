package identity_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/identity"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/viewer"
)

func (f *fixture) member() context.Context {
	return viewer.NewContext(context.Background(), &viewer.Viewer{OrgID: f.orgID, UserID: f.ownerID, Role: viewer.RoleOwner, ActorType: viewer.ActorUser})
}

func orgName(t *testing.T, inst *instance, ctx context.Context, id string) string {
	t.Helper()
	org, err := inst.cache.Organization(ctx, inst.client, id)
	if err != nil {
		t.Fatal(err)
	}
	return org.Name
}

// The snapshot is served until the organization changes: a write through
// the ent client drops it at once, in or out of a transaction, and a
// transaction's own reads see its uncommitted change.
func TestOrganizationSnapshotFollowsWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := setup(t, b)
		inst := newInstance(t, f.db, f.keys, f.clk, nil)
		ctx := f.member()
		if got := orgName(t, inst, ctx, f.orgID); got != "Acme" {
			t.Fatalf("name %q, want Acme", got)
		}
		// A write that bypasses ent (so no hook sees it) shows how reads are
		// served from the snapshot: only the TTL ends it.
		if _, err := f.db.SQL.ExecContext(context.Background(), rebind(b, "UPDATE organizations SET name = ? WHERE id = ?"), "Behind ent's back", f.orgID); err != nil {
			t.Fatal(err)
		}
		if got := orgName(t, inst, ctx, f.orgID); got != "Acme" {
			t.Fatalf("served %q; the read should have come from the snapshot", got)
		}
		f.clk.Add(identity.MaxCacheTTL)
		if got := orgName(t, inst, ctx, f.orgID); got != "Behind ent's back" {
			t.Fatalf("after the TTL: %q", got)
		}

		// A write through ent drops the snapshot at once.
		inst.client.Organization.UpdateOneID(f.orgID).SetName("Acme Inc").ExecX(ctx)
		if got := orgName(t, inst, ctx, f.orgID); got != "Acme Inc" {
			t.Fatalf("after an update: %q", got)
		}

		// In a transaction: the transaction reads its own change, others
		// read the old row until the commit (and may cache it meanwhile),
		// and everyone reads the new row after it.
		tx, err := inst.client.Tx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tx.Organization.UpdateOneID(f.orgID).SetName("Acme Labs").ExecX(ctx)
		if got := orgName(t, inst, ent.NewTxContext(ctx, tx), f.orgID); got != "Acme Labs" {
			t.Fatalf("inside the transaction: %q", got)
		}
		if got := orgName(t, inst, ctx, f.orgID); got != "Acme Inc" {
			t.Fatalf("outside the uncommitted transaction: %q", got)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if got := orgName(t, inst, ctx, f.orgID); got != "Acme Labs" {
			t.Fatalf("after the commit: %q", got)
		}
	})
}

// A snapshot never lets a viewer read another organization: only the
// viewer's own organization is served from one; any other read goes through
// the privacy rules.
func TestOrganizationSnapshotKeepsTenancy(t *testing.T) {
	f := setup(t, storetest.Backends(t)[0])
	inst := newInstance(t, f.db, f.keys, f.clk, nil)
	_ = orgName(t, inst, f.member(), f.orgID) // cached now
	stranger := viewer.NewContext(context.Background(), &viewer.Viewer{OrgID: "org_other", Role: viewer.RoleOwner, ActorType: viewer.ActorUser})
	if org, err := inst.cache.Organization(stranger, inst.client, f.orgID); err == nil {
		t.Fatalf("another organization's viewer read %s", org.ID)
	}
	if _, err := inst.cache.Organization(context.Background(), inst.client, f.orgID); err == nil {
		t.Fatal("read an organization without a viewer")
	}
}

// With Redis, a change on one instance drops the other instances'
// snapshots too, without waiting for the TTL.
func TestOrganizationSnapshotAcrossInstances(t *testing.T) {
	url := os.Getenv("TANDEM_TEST_REDIS_URL")
	if url == "" {
		t.Skip("TANDEM_TEST_REDIS_URL not set")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		rdb := redis.NewClient(opt)
		defer rdb.Close()
		f := setup(t, b)
		a, other := newInstance(t, f.db, f.keys, f.clk, rdb), newInstance(t, f.db, f.keys, f.clk, rdb)
		ctx := f.member()
		if got := orgName(t, other, ctx, f.orgID); got != "Acme" {
			t.Fatalf("before: %q", got)
		}
		a.client.Organization.UpdateOneID(f.orgID).SetName("Acme Inc").ExecX(rule.AsSystem(ctx))
		deadline := time.Now().Add(5 * time.Second)
		for orgName(t, other, ctx, f.orgID) != "Acme Inc" {
			if time.Now().After(deadline) {
				t.Fatal("the other instance kept serving its snapshot after the change")
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func rebind(b storetest.Backend, q string) string {
	if b.Name != "postgres" {
		return q
	}
	out, n := []byte{}, 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			out = append(out, '$', byte('0'+n))
			continue
		}
		out = append(out, q[i])
	}
	return string(out)
}
