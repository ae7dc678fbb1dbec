package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	entsql "entgo.io/ent/dialect/sql"
)

// Evicting a statement another query is about to run must not close it
// under that query: a tiny cache, many texts, many goroutines.
func TestStmtCacheEvictionNeverClosesAStatementInUse(t *testing.T) {
	db, err := Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cache := newStmtCache(db.SQL, 2)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				q := fmt.Sprintf("SELECT %d + ?", (g+i)%5)
				var rows entsql.Rows
				if err := cache.query(context.Background(), q, []any{1}, &rows); err != nil {
					errs <- err
					return
				}
				for rows.Next() {
				}
				if err := rows.Close(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestIsWrite(t *testing.T) {
	for q, want := range map[string]bool{
		"SELECT * FROM t":                        false,
		"  select 1":                             false,
		"(SELECT 1)":                             false,
		"INSERT INTO t VALUES (1)":               true,
		"WITH x AS (SELECT 1) INSERT INTO t ...": true,
		"/* c */ DELETE FROM t":                  true,
		"-- c\nUPDATE t SET a = 1":               true,
		"/* c */ SELECT 1":                       false,
		"":                                       true,
	} {
		if got := isWrite(q); got != want {
			t.Errorf("isWrite(%q) = %v, want %v", q, got, want)
		}
	}
}
