// Package storetest opens real, freshly migrated databases for tests: a
// SQLite file always, and PostgreSQL when TANDEM_TEST_POSTGRES_URL is set.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/tandemhq/tandem/store"
)

// PostgresEnv names the PostgreSQL server the tests may use.
const PostgresEnv = "TANDEM_TEST_POSTGRES_URL"

// Backend is a database kind a test can run against.
type Backend struct {
	Name string // "sqlite" or "postgres"
	open func(t testing.TB) string
}

// Backends returns SQLite and, when TANDEM_TEST_POSTGRES_URL is set, PostgreSQL.
func Backends(t testing.TB) []Backend {
	bs := []Backend{{Name: "sqlite", open: sqliteURL}}
	if os.Getenv(PostgresEnv) != "" {
		bs = append(bs, Backend{Name: "postgres", open: postgresURL})
	}
	return bs
}

// Each runs f once per backend, as a subtest named after it.
func Each(t *testing.T, f func(t *testing.T, b Backend)) {
	for _, b := range Backends(t) {
		t.Run(b.Name, func(t *testing.T) { f(t, b) })
	}
}

// URL returns the URL of a new, empty database on the backend, removed when
// the test ends.
func (b Backend) URL(t testing.TB) string { return b.open(t) }

// Open returns a new database on the backend with every migration applied.
func (b Backend) Open(t testing.TB) *store.DB {
	t.Helper()
	return OpenURL(t, b.URL(t))
}

// OpenURL opens and migrates the database at rawURL, closed at the end of the test.
func OpenURL(t testing.TB, rawURL string) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, rawURL)
	if err != nil {
		t.Fatalf("open %s: %v", store.Redact(rawURL), err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db
}

// SQLite returns a new migrated SQLite database in the test's temp folder.
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	return OpenURL(t, sqliteURL(t))
}

func sqliteURL(t testing.TB) string {
	return "sqlite://" + filepath.Join(t.TempDir(), "tandem.db")
}

// postgresURL creates a schema of its own on the test server and returns a
// URL whose search_path points at it, so tests never see each other's rows.
func postgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE SCHEMA " + name); err != nil {
		t.Fatalf("postgres %s: creating schema: %v", store.Redact(base), err)
	}
	t.Cleanup(func() { _, _ = admin.Exec("DROP SCHEMA " + name + " CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("postgres: %s is not a URL", PostgresEnv)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}
