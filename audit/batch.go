package audit

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/viewer"
)

// Batcher records reads by AI assistants and partners' servers (one audit
// row per call) with group commit: calls that arrive while a batch is being
// written go into the next one, written by a single INSERT. Each caller
// still waits until its own row is stored, so a read that cannot be audited
// is refused exactly as with RecordOperation; what changes is that a
// hundred concurrent reads cost a few inserts instead of a hundred
// competing for the database's write lock.
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
	v := viewer.FromContext(ctx)
	if v == nil {
		return ErrNoViewer
	}
	q := &queued{v: v, e: entry{action: action, entityType: entityType, entityID: entityID, after: withoutSecrets(after)}, done: make(chan error, 1)}
	select {
	case b.queue <- q:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-q.done:
		return err
	case <-ctx.Done():
		// The row may still be written; the caller is gone either way.
		return ctx.Err()
	}
}

func (b *Batcher) run() {
	batch := make([]*queued, 0, batchMax)
	for q := range b.queue {
		batch = append(batch[:0], q)
	more:
		for len(batch) < batchMax {
			select {
			case q := <-b.queue:
				batch = append(batch, q)
			default:
				break more
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
