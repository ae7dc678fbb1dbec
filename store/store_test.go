package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/organization"
	"github.com/tandemhq/tandem/ent/schema/rule"

	"github.com/tandemhq/tandem/store"
	"github.com/tandemhq/tandem/store/storetest"
)

// The committed migrations must produce exactly the ent schema, on every
// backend: a schema change without its migration fails here.
func TestMigrationsMatchSchema(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := b.Open(t)
		diff, err := db.SchemaDiff(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if diff != "" {
			t.Fatalf("the ent schema differs from the committed migrations; run `make migration NAME=…`:\n%s", diff)
		}
	})
}

// Migrating twice, or an already current database, changes nothing; a
// database that stopped at an older version is brought up to date.
func TestMigrateUpgradesExistingDatabase(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		url := b.URL(t)
		db, err := store.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		all, err := store.Migrations(db.Dialect)
		if err != nil || len(all) == 0 {
			t.Fatalf("migrations: %v (%d)", err, len(all))
		}
		pending, err := db.Pending(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(pending) != len(all) {
			t.Fatalf("fresh database: pending = %v, want all %d", pending, len(all))
		}
		applied, err := db.Migrate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(applied) != len(all) {
			t.Fatalf("applied %v, want %d migrations", applied, len(all))
		}
		again, err := db.Migrate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(again) != 0 {
			t.Fatalf("second migrate applied %v, want nothing", again)
		}
		if pending, _ := db.Pending(ctx); len(pending) != 0 {
			t.Fatalf("pending after migrate: %v", pending)
		}
	})
}

func TestOpenRefusesUnknownURLsWithoutLeakingPasswords(t *testing.T) {
	_, err := store.Open(context.Background(), "mysql://root:hunter2@localhost/db")
	if err == nil {
		t.Fatal("want an error for mysql://")
	}
	if got := err.Error(); strings.Contains(got, "hunter2") {
		t.Fatalf("error leaks the password: %s", got)
	}
}

// A database with data, stopped at the first migration, upgrades to the
// latest without losing a row: table rebuilds keep their rows and the rows
// that point at them.
func TestUpgradeKeepsData(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db, err := store.Open(ctx, b.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.MigrateUpTo(ctx, "0001_init"); err != nil {
			t.Fatal(err)
		}
		now := "2026-01-02 03:04:05"
		for _, q := range []string{
			`INSERT INTO organizations (id, created_at, updated_at, name, slug, brand_color, plan_tier, subscription_status, payout_grace_days, home_currency) VALUES ('org_1', '` + now + `', '` + now + `', 'Acme', 'acme', '#000000', 'Pro', 'active', 30, 'USD')`,
			`INSERT INTO users (id, created_at, updated_at, email) VALUES ('usr_1', '` + now + `', '` + now + `', 'o@acme.test')`,
			`INSERT INTO memberships (id, created_at, updated_at, role, org_id, user_id) VALUES ('mem_1', '` + now + `', '` + now + `', 'owner', 'org_1', 'usr_1')`,
		} {
			if _, err := db.SQL.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatalf("upgrading a database with data: %v", err)
		}
		var email, userID string
		if err := db.SQL.QueryRowContext(ctx, `SELECT u.email, m.user_id FROM memberships m JOIN users u ON u.id = m.user_id`).Scan(&email, &userID); err != nil {
			t.Fatalf("after upgrade: %v", err)
		}
		if email != "o@acme.test" || userID != "usr_1" {
			t.Fatalf("after upgrade got %s/%s", email, userID)
		}
		diff, err := db.SchemaDiff(ctx)
		if err != nil || diff != "" {
			t.Fatalf("schema after upgrade differs: %v\n%s", err, diff)
		}
	})
}

// Times written from any time zone compare and sort as instants, and a time
// read back finds its own row: SQLite stores them as UTC text in one format.
func TestTimesCompareAsInstants(t *testing.T) {
	ctx := rule.AsSystem(context.Background())
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := b.Open(t)
		newYork := time.FixedZone("EDT", -4*3600)
		base := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
		// Later as an instant, but earlier on New York's wall clock (09:00 EDT).
		later := db.Client.Organization.Create().SetName("Later").SetSlug("later").SetCreatedAt(base.Add(time.Hour).In(newYork)).SaveX(ctx)
		earlier := db.Client.Organization.Create().SetName("Earlier").SetSlug("earlier").SetCreatedAt(time.Now().Add(-time.Since(base))).SaveX(ctx)
		got := db.Client.Organization.Query().Order(ent.Asc(organization.FieldCreatedAt)).AllX(ctx)
		if len(got) != 2 || got[0].ID != earlier.ID || got[1].ID != later.ID {
			t.Fatalf("ordered by created_at: %v, want earlier then later", got)
		}
		back := db.Client.Organization.GetX(ctx, earlier.ID) // written with a monotonic clock reading
		if n := db.Client.Organization.Query().Where(organization.CreatedAt(back.CreatedAt)).CountX(ctx); n != 1 {
			t.Fatalf("querying by a time read back found %d rows, want 1", n)
		}
		if n := db.Client.Organization.Query().Where(organization.CreatedAtGT(base.Add(30 * time.Minute).In(newYork))).CountX(ctx); n != 1 {
			t.Fatalf("created after 12:30 UTC (given in EDT): %d rows, want 1", n)
		}
	})
}
