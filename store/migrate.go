package store

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql/schema"
)

// migrations holds the versioned schema changes, one folder per dialect. New
// files are written by `make migration NAME=…` and committed; they are never
// edited once released.
//
//go:embed migrations
var embedded embed.FS

// migrationsFS is where Migrate reads from; the migration generator points it
// at the files on disk.
var migrationsFS fs.FS = embedded

// Migration is one versioned schema change.
type Migration struct {
	Version string // the file name without .sql, e.g. "0001_init"
	SQL     string
}

// Migrations returns the migrations for a dialect, oldest first.
func Migrations(dialectName string) ([]Migration, error) {
	return migrationsIn(migrationsFS, dialectName)
}

// UseMigrationsFrom makes Migrate read migrations from fsys (a folder that
// holds migrations/sqlite and migrations/postgres). For the generator only.
func UseMigrationsFrom(fsys fs.FS) { migrationsFS = fsys }

func migrationsIn(fsys fs.FS, dialectName string) ([]Migration, error) {
	dir := path.Join("migrations", folderFor(dialectName))
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("migrate: reading %s: %w", dir, err)
	}
	var out []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: strings.TrimSuffix(e.Name(), ".sql"), SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// FolderFor returns the migrations folder name for a dialect.
func FolderFor(dialectName string) string { return folderFor(dialectName) }

func folderFor(dialectName string) string {
	if dialectName == dialect.Postgres {
		return "postgres"
	}
	return "sqlite"
}

const migrationsTable = "tandem_schema_migrations"

// Migrate applies every migration the database has not seen yet, each in its
// own transaction, and returns the versions it applied. Two instances
// migrating at once on PostgreSQL take turns on an advisory lock; on SQLite
// the IMMEDIATE transaction does the same.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	return db.migrateUpTo(ctx, "")
}

// migrateUpTo applies pending migrations up to and including version ("" for all).
func (db *DB) migrateUpTo(ctx context.Context, version string) ([]string, error) {
	all, err := Migrations(db.Dialect)
	if err != nil {
		return nil, err
	}
	if _, err := db.SQL.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+migrationsTable+` (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return nil, fmt.Errorf("migrate: creating %s: %w", migrationsTable, err)
	}
	var applied []string
	for _, m := range all {
		if version != "" && m.Version > version {
			break
		}
		done, err := db.applyOne(ctx, m)
		if err != nil {
			return applied, err
		}
		if done {
			applied = append(applied, m.Version)
		}
	}
	return applied, nil
}

// Pending returns the versions not yet applied.
func (db *DB) Pending(ctx context.Context) ([]string, error) {
	all, err := Migrations(db.Dialect)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	rows, err := db.SQL.QueryContext(ctx, `SELECT version FROM `+migrationsTable)
	if err == nil {
		defer rows.Close()
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				return nil, err
			}
			seen[v] = true
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	var out []string
	for _, m := range all {
		if !seen[m.Version] {
			out = append(out, m.Version)
		}
	}
	return out, nil
}

func (db *DB) applyOne(ctx context.Context, m Migration) (bool, error) {
	// One connection for the whole migration: SQLite's foreign_keys pragma is
	// per connection and ignored inside a transaction, and a table rebuild
	// (create new, copy, drop old, rename) must run with it off, or dropping
	// the old table trips the foreign keys that point at it.
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("migrate %s: %w", m.Version, err)
	}
	defer conn.Close()
	if db.Dialect == dialect.SQLite {
		if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = off"); err != nil {
			return false, fmt.Errorf("migrate %s: %w", m.Version, err)
		}
		defer func() { _, _ = conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = on") }()
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migrate %s: %w", m.Version, err)
	}
	defer func() { _ = tx.Rollback() }()
	if db.Dialect == dialect.Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7243001)`); err != nil {
			return false, fmt.Errorf("migrate %s: taking the migration lock: %w", m.Version, err)
		}
	}
	var exists int
	err = tx.QueryRowContext(ctx, db.rebind(`SELECT 1 FROM `+migrationsTable+` WHERE version = ?`), m.Version).Scan(&exists)
	if err == nil {
		return false, nil
	}
	if err != sql.ErrNoRows {
		return false, fmt.Errorf("migrate %s: %w", m.Version, err)
	}
	for _, stmt := range splitStatements(m.SQL) {
		if strings.HasPrefix(strings.ToUpper(stmt), "PRAGMA FOREIGN_KEYS") {
			continue // handled above, outside the transaction
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return false, fmt.Errorf("migrate %s: %w\n  in: %s", m.Version, err, firstLine(stmt))
		}
	}
	if db.Dialect == dialect.SQLite {
		// With the checks off, prove the rebuilt tables still satisfy every foreign key.
		var table string
		err := tx.QueryRowContext(ctx, "SELECT \"table\" FROM pragma_foreign_key_check LIMIT 1").Scan(&table)
		if err == nil {
			return false, fmt.Errorf("migrate %s: leaves rows in %s that break a foreign key", m.Version, table)
		}
		if err != sql.ErrNoRows {
			return false, fmt.Errorf("migrate %s: checking foreign keys: %w", m.Version, err)
		}
	}
	if _, err := tx.ExecContext(ctx, db.rebind(`INSERT INTO `+migrationsTable+` (version, applied_at) VALUES (?, ?)`),
		m.Version, time.Now().UTC().Format(time.RFC3339)); err != nil {
		return false, fmt.Errorf("migrate %s: recording it: %w", m.Version, err)
	}
	return true, tx.Commit()
}

func (db *DB) rebind(q string) string {
	if db.Dialect != dialect.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// splitStatements splits a migration file on the ";" that ends a line. The
// files are machine-written DDL, one statement per line, without semicolons
// inside string literals.
func splitStatements(src string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(src, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(trimmed, ";") {
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// SchemaDiff returns the DDL that would bring the database's schema to the
// ent schema, one statement a line, or "" when they agree. The migration
// generator writes it to a file; tests require it empty after Migrate.
func (db *DB) SchemaDiff(ctx context.Context) (string, error) {
	var buf bytes.Buffer
	if err := db.Client.Schema.WriteTo(ctx, &buf, schema.WithDropIndex(true), schema.WithDropColumn(true)); err != nil {
		return "", fmt.Errorf("schema diff: %w", err)
	}
	var out strings.Builder
	for _, line := range strings.Split(buf.String(), "\n") {
		t := strings.TrimSpace(line)
		if t == "" || t == "BEGIN;" || t == "COMMIT;" {
			continue
		}
		out.WriteString(t)
		out.WriteByte('\n')
	}
	return out.String(), nil
}
