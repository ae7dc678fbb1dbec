package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// Writes outside transactions run as prepared statements kept for reuse,
// with the same results as unprepared ones; a write with very many
// arguments is not kept.
func TestWritesReusePreparedStatements(t *testing.T) {
	db, err := Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	drv := newSerialWrites(entsql.OpenDB(dialect.SQLite, db.SQL), db.SQL)
	if err := drv.Exec(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)", []any{}, nil); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		var res sql.Result
		if err := drv.Exec(ctx, "INSERT INTO t (v) VALUES (?)", []any{"x"}, &res); err != nil {
			t.Fatal(err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			t.Fatalf("insert %d affected %d rows", i, n)
		}
		var rows entsql.Rows
		if err := drv.Query(ctx, "INSERT INTO t (v) VALUES (?) RETURNING id", []any{"y"}, &rows); err != nil {
			t.Fatal(err)
		}
		if !rows.Next() {
			t.Fatal("RETURNING returned no row")
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if got := drv.writes.order.Len(); got != 3 { // CREATE, INSERT, INSERT … RETURNING
		t.Fatalf("%d write statements kept, want 3", got)
	}
	args := make([]any, maxCachedWriteArgs+1)
	for i := range args {
		args[i] = i
	}
	big := "INSERT INTO t (v) VALUES " + strings.TrimSuffix(strings.Repeat("(?),", len(args)), ",")
	if err := drv.Exec(ctx, big, args, nil); err != nil {
		t.Fatal(err)
	}
	if got := drv.writes.order.Len(); got != 3 {
		t.Fatalf("a %d-argument write was kept", len(args))
	}
	var n int
	if err := db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 6+len(args) {
		t.Fatalf("table holds %d rows (%v), want %d", n, err, 6+len(args))
	}
	// The write lock was released after each write: a transaction can start.
	tx, err := drv.Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = tx.Rollback()
}
