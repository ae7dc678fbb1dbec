package store

import (
	"container/list"
	"context"
	"database/sql"
	"fmt"
	"sync"

	entsql "entgo.io/ent/dialect/sql"
)

// stmtCache keeps prepared statements for the reads ent sends outside
// transactions. database/sql prepares, runs and discards a statement per
// query, and SQLite (modernc, transpiled C) spends a tenth of a busy
// server's CPU parsing the same few SELECTs again; a prepared statement is
// parsed once per connection. The cache is a small LRU, since ent's IN
// lists make some query texts one-offs.
type stmtCache struct {
	db  *sql.DB
	max int

	mu    sync.Mutex
	order *list.List // front: most recently used *cachedStmt
	byKey map[string]*list.Element
}

type cachedStmt struct {
	query   string
	stmt    *sql.Stmt
	users   int  // queries between get and the start of their rows
	evicted bool // out of the cache: the last user closes it
}

func newStmtCache(db *sql.DB, max int) *stmtCache {
	return &stmtCache{db: db, max: max, order: list.New(), byKey: map[string]*list.Element{}}
}

// query runs a read with a cached statement and hands ent the rows.
func (c *stmtCache) query(ctx context.Context, query string, args, v any) error {
	vr, ok := v.(*entsql.Rows)
	if !ok {
		return fmt.Errorf("store: invalid type %T, expect *sql.Rows", v)
	}
	argv, ok := args.([]any)
	if !ok {
		return fmt.Errorf("store: invalid type %T for args, expect []any", args)
	}
	cs, err := c.get(ctx, query)
	if err != nil {
		return err
	}
	// Once QueryContext returns, open rows keep the statement alive by
	// themselves (database/sql defers the close); until then this use does.
	rows, err := cs.stmt.QueryContext(ctx, argv...)
	c.release(cs)
	if err != nil {
		return err
	}
	*vr = entsql.Rows{ColumnScanner: rows}
	return nil
}

// exec runs a statement that returns no rows with a cached statement; v is
// nil or the *sql.Result to fill, as ent's Exec takes it.
func (c *stmtCache) exec(ctx context.Context, query string, args, v any) error {
	argv, ok := args.([]any)
	if !ok {
		return fmt.Errorf("store: invalid type %T for args, expect []any", args)
	}
	cs, err := c.get(ctx, query)
	if err != nil {
		return err
	}
	res, err := cs.stmt.ExecContext(ctx, argv...)
	c.release(cs)
	if err != nil {
		return err
	}
	switch v := v.(type) {
	case nil:
	case *sql.Result:
		*v = res
	default:
		return fmt.Errorf("store: invalid type %T, expect *sql.Result", v)
	}
	return nil
}

func (c *stmtCache) get(ctx context.Context, query string) (*cachedStmt, error) {
	c.mu.Lock()
	if el, ok := c.byKey[query]; ok {
		c.order.MoveToFront(el)
		cs := el.Value.(*cachedStmt)
		cs.users++
		c.mu.Unlock()
		return cs, nil
	}
	c.mu.Unlock()
	stmt, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[query]; ok { // prepared concurrently: keep the first
		_ = stmt.Close()
		cs := el.Value.(*cachedStmt)
		cs.users++
		return cs, nil
	}
	cs := &cachedStmt{query: query, stmt: stmt, users: 1}
	c.byKey[query] = c.order.PushFront(cs)
	if c.order.Len() > c.max {
		old := c.order.Remove(c.order.Back()).(*cachedStmt)
		delete(c.byKey, old.query)
		old.evicted = true
		if old.users == 0 {
			_ = old.stmt.Close()
		}
	}
	return cs, nil
}

// release ends a use; an evicted statement closes with its last use.
func (c *stmtCache) release(cs *cachedStmt) {
	c.mu.Lock()
	cs.users--
	closeIt := cs.evicted && cs.users == 0
	c.mu.Unlock()
	if closeIt {
		_ = cs.stmt.Close()
	}
}
