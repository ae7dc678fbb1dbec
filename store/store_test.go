package store_test

import (
	"context"
	"strings"
	"testing"

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
