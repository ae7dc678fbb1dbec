package mailer

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/outboxmessage"
	"github.com/tandemhq/tandem/ent/schema/rule"
)

// Defaults of the Worker and the interval the serve command polls at.
const (
	DefaultBatch       = 20
	DefaultMaxAttempts = 8
	// DefaultInterval is how often Run looks for due messages. Sign-in
	// links are waited for by a person at a browser, so it is short; the
	// query it runs is one indexed range scan on (status, next_attempt_at).
	DefaultInterval = 5 * time.Second
)

const (
	// Lease is how far a worker pushes next_attempt_at when it claims a
	// message. Other workers skip the message until then; if the claiming
	// worker dies mid-send, the message becomes due again when the lease
	// ends, with the interrupted attempt counted.
	Lease = 5 * time.Minute
	// SendTimeout bounds one delivery. It is well under Lease so that a
	// worker cannot still be sending when its lease runs out and another
	// worker claims the same message.
	SendTimeout = time.Minute
	// firstBackoff and maxBackoff shape the retry delays: 1m, 2m, 4m, …
	// capped at an hour. The default 8 attempts thus span about two hours,
	// enough to ride out a mail provider's outage without retrying a
	// dead address for days.
	firstBackoff = time.Minute
	maxBackoff   = time.Hour
	// bookkeepingTimeout bounds recording an outcome. Recording uses a
	// context that outlives the caller's, so that a shutdown mid-send still
	// writes what happened instead of leaving the lease to expire.
	bookkeepingTimeout = 10 * time.Second
	// maxErrorLen is the schema's limit on last_error, in bytes.
	maxErrorLen = 1000
)

// Worker delivers due outbox messages through Sender. Any number of workers,
// in one process or many, may run against the same database: each message is
// claimed with an optimistic UPDATE before it is sent, and only the worker
// whose UPDATE changed the row sends it.
//
// Every time the Worker reasons about (what is due, leases, backoff, sent_at)
// comes from Now, so tests can drive it with a fake clock.
type Worker struct {
	Client      *ent.Client
	Sender      Sender
	Now         func() time.Time // nil: time.Now
	Log         *slog.Logger     // nil: discard
	Batch       int              // messages read per RunOnce; 0: DefaultBatch
	MaxAttempts int              // attempts before a message is marked failed; 0: DefaultMaxAttempts
}

// outcome is what became of one due message.
type outcome int

const (
	skipped outcome = iota // another worker claimed it first
	delivered
	retrying
	gaveUp
)

// RunOnce delivers the messages that are pending and due (next_attempt_at at
// or before Now), oldest first, at most Batch of them. sent counts messages
// delivered; failed counts attempts that did not deliver, whether a retry was
// scheduled or the message was marked failed. Messages another worker
// claimed first are in neither count. err is a database error or ctx's end;
// a Sender's errors are recorded on their messages, not returned.
func (w *Worker) RunOnce(ctx context.Context) (sent, failed int, err error) {
	if w.Client == nil || w.Sender == nil {
		return 0, 0, errors.New("mailer: Worker needs a Client and a Sender")
	}
	sys := rule.AsSystem(ctx)
	due, err := w.Client.OutboxMessage.Query().
		Where(outboxmessage.StatusEQ(outboxmessage.StatusPending), outboxmessage.NextAttemptAtLTE(w.now())).
		Order(ent.Asc(outboxmessage.FieldNextAttemptAt), ent.Asc(outboxmessage.FieldID)).
		Limit(w.batch()).
		All(sys)
	if err != nil {
		return 0, 0, err
	}
	for _, m := range due {
		if err := ctx.Err(); err != nil {
			return sent, failed, err
		}
		out, err := w.deliver(ctx, m)
		switch out {
		case delivered:
			sent++
		case retrying, gaveUp:
			failed++
		}
		if err != nil {
			return sent, failed, err
		}
	}
	return sent, failed, nil
}

// Run calls RunOnce every interval (DefaultInterval if not positive) until
// ctx ends, starting at once. A full batch is followed by another batch
// straight away, so a backlog drains at the speed of the mail server rather
// than Batch messages per interval. Errors are logged, never fatal: the
// database may come back.
func (w *Worker) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = DefaultInterval
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for ctx.Err() == nil {
			sent, failed, err := w.RunOnce(ctx)
			if err != nil {
				if ctx.Err() == nil {
					w.log().Error("outbox: delivering emails", "err", err)
				}
				break
			}
			if sent+failed < w.batch() {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// deliver claims m, sends it if the claim succeeded, and records the outcome.
func (w *Worker) deliver(ctx context.Context, m *ent.OutboxMessage) (outcome, error) {
	sys := rule.AsSystem(ctx)
	now := w.now()
	// The claim is optimistic: it moves next_attempt_at a lease ahead only
	// if the row is still pending, still due, and still at the attempt
	// count read. Every claim bumps attempts, so attempts is the row's
	// version: of two workers that read the same row, the second one's
	// UPDATE matches nothing once the first has claimed (it is neither at
	// the read count nor due any more), and so never sends. On PostgreSQL a
	// concurrent UPDATE of the same row waits for the first to commit and
	// then re-checks its WHERE clause against the new row; on SQLite
	// writers are serialised outright.
	//
	// The version is attempts, not equality with the next_attempt_at read,
	// because a time does not survive a round trip through SQLite: the
	// driver stores time.Time.String(), which for a time.Now() (how account
	// queues messages) ends in a monotonic clock reading, "m=+0.01", that
	// the value read back lacks, so such an equality would never match.
	//
	// Counting the attempt at the claim, not after sending, makes a crash
	// mid-send count too, so a message that kills the worker cannot be
	// retried forever.
	n, err := w.Client.OutboxMessage.Update().
		Where(outboxmessage.ID(m.ID), outboxmessage.StatusEQ(outboxmessage.StatusPending),
			outboxmessage.Attempts(m.Attempts), outboxmessage.NextAttemptAtLTE(now)).
		SetNextAttemptAt(now.Add(Lease)).
		SetAttempts(m.Attempts + 1).
		Save(sys)
	if err != nil || n != 1 {
		return skipped, err
	}
	attempt := m.Attempts + 1
	log := w.log().With("message", m.ID, "kind", m.Kind, "attempt", attempt)
	if attempt > w.maxAttempts() {
		// Earlier attempts were claimed and never finished (the worker
		// stopped mid-send), and this claim is over the limit: give up
		// without sending, as the last failed attempt would have.
		const reason = "gave up: the last attempts did not finish"
		log.Error("outbox: email failed", "err", reason)
		return gaveUp, w.finish(ctx, m.ID, attempt, func(u *ent.OutboxMessageUpdate) {
			u.SetStatus(outboxmessage.StatusFailed).SetLastError(reason)
		})
	}

	sendCtx, cancel := context.WithTimeout(ctx, SendTimeout)
	sendErr := w.Sender.Send(sendCtx, Message{To: m.ToAddress, Subject: m.Subject, Text: m.TextBody, HTML: m.HTMLBody})
	cancel()

	now = w.now()
	switch {
	case sendErr == nil:
		log.Info("outbox: email sent")
		return delivered, w.finish(ctx, m.ID, attempt, func(u *ent.OutboxMessageUpdate) {
			u.SetStatus(outboxmessage.StatusSent).SetSentAt(now)
		})
	case ctx.Err() != nil:
		// We are shutting down, not the mail server failing: make the
		// message due again at once for whichever worker runs next. The
		// attempt stays counted, since the server may have accepted it.
		return retrying, w.finish(ctx, m.ID, attempt, func(u *ent.OutboxMessageUpdate) {
			u.SetNextAttemptAt(now).SetLastError("interrupted: the worker stopped while sending")
		})
	case attempt >= w.maxAttempts():
		reason := errorText(sendErr)
		log.Error("outbox: email failed, giving up", "err", reason)
		return gaveUp, w.finish(ctx, m.ID, attempt, func(u *ent.OutboxMessageUpdate) {
			u.SetStatus(outboxmessage.StatusFailed).SetLastError(reason)
		})
	default:
		reason := errorText(sendErr)
		next := now.Add(backoff(attempt))
		log.Warn("outbox: email not sent, will retry", "err", reason, "next_attempt_at", next)
		return retrying, w.finish(ctx, m.ID, attempt, func(u *ent.OutboxMessageUpdate) {
			u.SetNextAttemptAt(next).SetLastError(reason)
		})
	}
}

// finish records an outcome on the message this worker claimed as its
// attempt-th attempt. The update is guarded by that count: if it no longer
// matches, the lease ran out and another worker claimed the message since,
// and its record must not be overwritten.
func (w *Worker) finish(ctx context.Context, id string, attempt int, set func(*ent.OutboxMessageUpdate)) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
	defer cancel()
	u := w.Client.OutboxMessage.Update().Where(outboxmessage.ID(id),
		outboxmessage.StatusEQ(outboxmessage.StatusPending), outboxmessage.Attempts(attempt))
	set(u)
	n, err := u.Save(rule.AsSystem(ctx))
	if err == nil && n != 1 {
		w.log().Warn("outbox: lease on a message ran out before its outcome was recorded; another worker has it",
			"message", id)
	}
	return err
}

// backoff is the delay after the attempt-th failed attempt: 1m, 2m, 4m, …,
// at most an hour.
func backoff(attempt int) time.Duration {
	d := firstBackoff
	for i := 1; i < attempt && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// errorText is err as stored in last_error and logged: with any credential
// Scrub recognises removed, on one line, and within the column's limit.
// Senders already keep their own passwords out of their errors.
func errorText(err error) string {
	s := credential.Scrub(err.Error())
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxErrorLen {
		cut := maxErrorLen - len("…")
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	if s == "" {
		s = "unknown error"
	}
	return s
}

// now is the Worker's clock without a monotonic reading, which the SQLite
// driver would otherwise store as part of the time ("… m=+0.01").
func (w *Worker) now() time.Time {
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	return now().Round(0)
}

func (w *Worker) batch() int {
	if w.Batch > 0 {
		return w.Batch
	}
	return DefaultBatch
}

func (w *Worker) maxAttempts() int {
	if w.MaxAttempts > 0 {
		return w.MaxAttempts
	}
	return DefaultMaxAttempts
}

func (w *Worker) log() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.New(slog.DiscardHandler)
}
