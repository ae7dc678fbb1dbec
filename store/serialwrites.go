package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// SQLite lets one connection write at a time. With a pool of connections,
// two writers collide and the loser waits in SQLite's busy handler, which
// sleeps and polls (1, 2, 5, 10… ms): under concurrent writes most of the
// time goes to sleeping. serialWrites queues writers in Go instead, so the
// lock passes from one writer to the next in microseconds. Reads are not
// queued; WAL lets them run beside the writer.
type serialWrites struct {
	*entsql.Driver
	sem   chan struct{} // holds one token while a write or write transaction runs
	reads *stmtCache
	// writes keeps prepared statements for the writes sent outside
	// transactions, such as the audit log's group-committed INSERTs, which
	// repeat a few shapes: parsing one cost SQLite as much as running it.
	writes *stmtCache
}

// maxCachedWriteArgs bounds which writes are prepared once and kept: a
// statement with more arguments (a large import, a bulk change pinned to
// thousands of IDs) is a one-off, and would only push the common ones out.
const maxCachedWriteArgs = 512

// writeWait bounds how long a writer queues, like busy_timeout: code that
// writes outside a transaction while its own transaction holds the lock
// fails after this instead of hanging.
const writeWait = 10 * time.Second

var errWriteBusy = errors.New("db: database is locked: another write held it for more than 10s")

func newSerialWrites(drv *entsql.Driver, db *sql.DB) *serialWrites {
	return &serialWrites{Driver: drv, sem: make(chan struct{}, 1), reads: newStmtCache(db, 256), writes: newStmtCache(db, 128)}
}

func (d *serialWrites) lock(ctx context.Context) error {
	select {
	case d.sem <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(writeWait)
	defer t.Stop()
	select {
	case d.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return errWriteBusy
	}
}

func (d *serialWrites) unlock() { <-d.sem }

// Exec runs a statement outside a transaction: a write.
func (d *serialWrites) Exec(ctx context.Context, query string, args, v any) error {
	if err := d.lock(ctx); err != nil {
		return err
	}
	defer d.unlock()
	if cacheable(args) {
		return d.writes.exec(ctx, query, args, v)
	}
	return d.Driver.Exec(ctx, query, args, v)
}

func cacheable(args any) bool {
	argv, ok := args.([]any)
	return ok && len(argv) <= maxCachedWriteArgs
}

// Query queues only statements that write (INSERT … RETURNING and the like).
func (d *serialWrites) Query(ctx context.Context, query string, args, v any) error {
	if !isWrite(query) {
		return d.reads.query(ctx, query, args, v)
	}
	if err := d.lock(ctx); err != nil {
		return err
	}
	run := d.Driver.Query
	if cacheable(args) {
		run = d.writes.query
	}
	if err := run(ctx, query, args, v); err != nil {
		d.unlock()
		return err
	}
	// SQLite holds the write lock until an INSERT … RETURNING's rows are
	// closed, so the queue's turn ends then too.
	// Other row-returning writes (PRAGMAs from the schema tool) finish in
	// Query and keep ent's *sql.Rows, which the schema tool type-asserts.
	if vr, ok := v.(*entsql.Rows); ok && vr.ColumnScanner != nil && hasReturning(query) {
		vr.ColumnScanner = &unlockOnClose{ColumnScanner: vr.ColumnScanner, unlock: sync.OnceFunc(d.unlock)}
		return nil
	}
	d.unlock()
	return nil
}

type unlockOnClose struct {
	entsql.ColumnScanner
	unlock func()
}

func (r *unlockOnClose) Close() error {
	defer r.unlock()
	return r.ColumnScanner.Close()
}

// ExecContext and QueryContext are ent's raw-SQL entry points
// (client.ExecContext); they queue like Exec and Query.
func (d *serialWrites) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := d.lock(ctx); err != nil {
		return nil, err
	}
	defer d.unlock()
	return d.Driver.ExecContext(ctx, query, args...)
}

// QueryContext: see ExecContext. It returns *sql.Rows, which cannot carry
// the release, so a write's turn ends when the call returns; ent sends its
// RETURNING writes through Query, which holds the turn until the rows close.
func (d *serialWrites) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if !isWrite(query) {
		return d.Driver.QueryContext(ctx, query, args...)
	}
	if err := d.lock(ctx); err != nil {
		return nil, err
	}
	defer d.unlock()
	return d.Driver.QueryContext(ctx, query, args...)
}

// Tx starts a transaction; with _txlock=immediate every SQLite transaction
// takes the write lock, so it queues for the whole of its life.
func (d *serialWrites) Tx(ctx context.Context) (dialect.Tx, error) { return d.BeginTx(ctx, nil) }

// BeginTx is Tx with options (ent's client.BeginTx uses it).
func (d *serialWrites) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	if err := d.lock(ctx); err != nil {
		return nil, err
	}
	tx, err := d.Driver.BeginTx(ctx, opts)
	if err != nil {
		d.unlock()
		return nil, err
	}
	return &serialTx{Tx: tx, release: sync.OnceFunc(d.unlock)}, nil
}

type serialTx struct {
	dialect.Tx
	release func()
}

func (t *serialTx) Commit() error {
	defer t.release()
	return t.Tx.Commit()
}

func (t *serialTx) Rollback() error {
	defer t.release()
	return t.Tx.Rollback()
}

// isWrite reports whether a statement may write. Only a plain SELECT (or
// EXPLAIN, or PRAGMA reads are not sent by ent) is a read: anything else,
// including WITH … INSERT and statements behind comments, queues as a write.
func isWrite(query string) bool {
	q := query
	for {
		q = strings.TrimLeft(q, " \t\r\n(\ufeff")
		switch {
		case strings.HasPrefix(q, "--"):
			if i := strings.IndexByte(q, '\n'); i >= 0 {
				q = q[i+1:]
				continue
			}
			return true
		case strings.HasPrefix(q, "/*"):
			if i := strings.Index(q, "*/"); i >= 0 {
				q = q[i+2:]
				continue
			}
			return true
		}
		break
	}
	if len(q) < 6 {
		return true
	}
	return !strings.EqualFold(q[:6], "SELECT")
}

// hasReturning reports whether a write statement returns rows it produces
// as it writes (INSERT/UPDATE/DELETE … RETURNING).
func hasReturning(query string) bool {
	return strings.Contains(strings.ToUpper(query), "RETURNING")
}
