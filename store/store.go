// Package store opens Tandem's database, embedded SQLite by default or
// PostgreSQL, and keeps its schema current with versioned migrations.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver

	"github.com/tandemhq/tandem/audit"
	"github.com/tandemhq/tandem/ent"
	_ "github.com/tandemhq/tandem/ent/runtime" // registers the schema's hooks and privacy policies
)

// DefaultURL is the embedded database used when no --db is given.
const DefaultURL = "sqlite://./data/tandem.db"

// DB is an open database: the ent client every surface uses, and the raw
// handle for migrations and bulk work.
type DB struct {
	Client  *ent.Client
	SQL     *sql.DB
	Dialect string // dialect.SQLite or dialect.Postgres
}

// Close closes the database.
func (db *DB) Close() error { return db.Client.Close() }

// Open connects to the database named by rawURL: "sqlite://PATH" (a file,
// created with its folder when missing), "sqlite://:memory:" is refused, and
// "postgres://…" or "postgresql://…" for PostgreSQL. It does not migrate.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	if rawURL == "" {
		rawURL = DefaultURL
	}
	switch {
	case strings.HasPrefix(rawURL, "sqlite://"), strings.HasPrefix(rawURL, "file:"):
		return openSQLite(ctx, rawURL)
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		return openPostgres(ctx, rawURL)
	default:
		return nil, fmt.Errorf("db: unsupported database URL %q: use sqlite://PATH or postgres://USER@HOST/DB", Redact(rawURL))
	}
}

func openSQLite(ctx context.Context, rawURL string) (*DB, error) {
	path := strings.TrimPrefix(strings.TrimPrefix(rawURL, "sqlite://"), "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if path == "" || path == ":memory:" {
		return nil, errors.New("db: sqlite needs a file path, e.g. sqlite://./data/tandem.db")
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("db: creating %s: %w", dir, err)
		}
	}
	// WAL lets readers run beside the writer; IMMEDIATE transactions take the
	// write lock up front so two writers queue on busy_timeout instead of
	// failing with "database is locked" when a reader upgrades.
	q := url.Values{}
	for _, p := range []string{"foreign_keys(1)", "journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(10000)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	// Times are written in UTC, in one sortable text format without Go's
	// monotonic-clock suffix, so SQL compares and orders them correctly
	// whatever the server's time zone.
	q.Set("_time_format", "sqlite")
	q.Set("_timezone", "UTC")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("db: opening sqlite: %w", err)
	}
	db.SetMaxOpenConns(4)
	// Keep every connection: database/sql keeps 2 idle by default, and
	// reopening one costs the file open, the pragmas and every prepared
	// statement again.
	db.SetMaxIdleConns(4)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("db: opening sqlite %s: %w", path, err)
	}
	return wrap(db, dialect.SQLite), nil
}

func openPostgres(ctx context.Context, rawURL string) (*DB, error) {
	db, err := sql.Open("pgx", rawURL)
	if err != nil {
		return nil, fmt.Errorf("db: opening postgres %s: %w", Redact(rawURL), err)
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(10)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("db: connecting to postgres %s: %s", Redact(rawURL), scrub(err, rawURL))
	}
	return wrap(db, dialect.Postgres), nil
}

func wrap(db *sql.DB, dialectName string) *DB {
	var drv dialect.Driver = entsql.OpenDB(dialectName, db)
	if dialectName == dialect.SQLite {
		drv = newSerialWrites(drv.(*entsql.Driver), db)
	}
	client := ent.NewClient(ent.Driver(drv))
	client.Use(audit.Hook())
	return &DB{Client: client, SQL: db, Dialect: dialectName}
}

// Redact returns rawURL with any password replaced, for logs and errors.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable database URL)"
	}
	return u.Redacted()
}

// scrub removes a database URL's password from a driver error message.
func scrub(err error, rawURL string) string {
	msg := err.Error()
	if u, perr := url.Parse(rawURL); perr == nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
	}
	return msg
}
