package audit

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/viewer"
)

// Batcher records reads by AI assistants and partners' servers (one audit
// row per call) with group commit: calls that arrive while a batch is being
// written, or while other requests can still run, go into one batch,
// written by a single INSERT. Each caller still waits for its own row to be
// stored before it answers, so a read that cannot be audited is refused
// exactly as with RecordOperation; what changes is that a hundred
// concurrent reads cost a few inserts instead of a hundred competing for
// the database's write lock.
type Batcher struct {
	client *ent.Client
	queue  chan *queued
	log    *slog.Logger
}

type queued struct {
	v    *viewer.Viewer
	e    entry
	done chan error
}

// batchMax bounds one batch: big enough to absorb a burst, small enough that
// one INSERT stays quick.
const batchMax = 4 * writeChunk

// NewBatcher starts the batch writer. It runs for the life of the process.
func NewBatcher(client *ent.Client, log *slog.Logger) *Batcher {
	if log == nil {
		log = slog.Default()
	}
	b := &Batcher{client: client, queue: make(chan *queued, batchMax), log: log}
	go b.run()
	return b
}

// Record is RecordOperation, batched: it returns once the row is stored.
func (b *Batcher) Record(ctx context.Context, action, entityType, entityID string, after map[string]any) error {
	return b.Begin(ctx, action, entityType, entityID, after)()
}

// Begin queues the row and returns at once; wait returns once the row is
// stored (nil) or could not be (the read must then be refused). The caller
// may run the read meanwhile, as long as it answers only after wait. wait
// may be called more than once.
func (b *Batcher) Begin(ctx context.Context, action, entityType, entityID string, after map[string]any) (wait func() error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return func() error { return ErrNoViewer }
	}
	q := &queued{v: v, e: entry{action: action, entityType: entityType, entityID: entityID, after: withoutSecrets(after)}, done: make(chan error, 1)}
	select {
	case b.queue <- q:
	case <-ctx.Done():
		err := ctx.Err()
		return func() error { return err }
	}
	var (
		once sync.Once
		err  error
	)
	return func() error {
		once.Do(func() {
			select {
			case err = <-q.done:
			case <-ctx.Done():
				// The row may still be written; the caller is gone either way.
				err = ctx.Err()
			}
		})
		return err
	}
}

// gatherYields is how many times in a row the writer yields the processor,
// finding no new row, before it writes what it has. Each INSERT commits on
// its own, and a commit costs SQLite as much as a dozen rows or more (a WAL
// frame for the table and for each of its indexes), so under load a larger
// batch costs far less per read. Yielding, rather than sleeping a fixed
// time, lets every request that can run reach its own Begin first, and
// stops gathering the moment nothing else can run: a caller alone waits a
// few microseconds, and when every request is already waiting on this
// batch, none is kept waiting for a timer. The read itself runs meanwhile
// (graph's auditReads).
const gatherYields = 3

// gatherMax bounds how long the first row of a batch waits for company
// while rows keep arriving, so a flood of reads cannot hold it back.
const gatherMax = time.Millisecond

func (b *Batcher) run() {
	batch := make([]*queued, 0, batchMax)
	for q := range b.queue {
		batch = append(batch[:0], q)
		began := time.Now()
		for idle := 0; len(batch) < batchMax && idle < gatherYields && time.Since(began) < gatherMax; {
			select {
			case q := <-b.queue:
				batch = append(batch, q)
				idle = 0
			default:
				idle++
				runtime.Gosched()
			}
		}
		b.write(batch)
	}
}

// write stores the batch one chunk (one INSERT) at a time and answers each
// caller with its own chunk's outcome, so a failed chunk refuses only its
// own reads. A panic fails the chunk instead of stopping the writer.
func (b *Batcher) write(batch []*queued) {
	// The rows belong to many requests; none of their contexts may cancel
	// the others' rows, so the batch is written on its own context.
	ctx := systemCtx(context.Background())
	for start := 0; start < len(batch); start += writeChunk {
		chunk := batch[start:min(start+writeChunk, len(batch))]
		err := b.insert(ctx, chunk)
		if err != nil {
			b.log.Error("audit: writing a batch of reads failed", "rows", len(chunk), "err", err)
		}
		for _, q := range chunk {
			q.done <- err
		}
	}
}

func (b *Batcher) insert(ctx context.Context, chunk []*queued) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("audit: writing reads panicked: %v", p)
		}
	}()
	builders := make([]*ent.AuditLogEntryCreate, len(chunk))
	for i, q := range chunk {
		builders[i] = create(b.client, q.v, q.e)
	}
	return b.client.AuditLogEntry.CreateBulk(builders...).Exec(ctx)
}
