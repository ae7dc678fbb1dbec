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
}

// writeWait bounds how long a writer queues, like busy_timeout: code that
// writes outside a transaction while its own transaction holds the lock
// fails after this instead of hanging.
const writeWait = 10 * time.Second

var errWriteBusy = errors.New("db: database is locked: another write held it for more than 10s")

func newSerialWrites(drv *entsql.Driver, db *sql.DB) *serialWrites {
	return &serialWrites{Driver: drv, sem: make(chan struct{}, 1), reads: newStmtCache(db, 256)}
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
	return d.Driver.Exec(ctx, query, args, v)
}

// Query queues only statements that write (INSERT … RETURNING and the like).
func (d *serialWrites) Query(ctx context.Context, query string, args, v any) error {
	if !isWrite(query) {
		return d.reads.query(ctx, query, args, v)
	}
	if err := d.lock(ctx); err != nil {
		return err
	}
	defer d.unlock()
	return d.Driver.Query(ctx, query, args, v)
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

func isWrite(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n(")
	if len(q) < 6 {
		return false
	}
	switch strings.ToUpper(q[:6]) {
	case "INSERT", "UPDATE", "DELETE", "REPLAC":
		return true
	}
	return false
}
