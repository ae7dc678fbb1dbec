// Package reminders sends the trial-ending emails of the Subscriptions
// product: one 3 days before a subscription's trial_end_date and one the day
// before, each exactly once, each carrying a pause link.
//
// Exactly once, across any number of workers and instances: a reminder is
// the TrialReminder row and its OutboxMessage, inserted in one transaction.
// The unique index on (subscription, kind, trial_end_date) lets only one
// such transaction commit; the loser's insert fails, its transaction rolls
// back with its email, and it counts the reminder as already sent. A changed
// trial_end_date is a new key, so it gets fresh reminders.
//
// Who is reminded: every account, including shadow accounts a partner with
// a key provisioned: the reminder before a trial converts is the product's
// core promise, and the address is the one that partner vouches for. The
// exception is an unclaimed, unverified shadow account created by a keyless
// push (provisioned_by_source_id "guest" or "guest:…"): anyone can make one
// for any address, so it gets no reminders until its owner verifies the
// email or claims it. Cancelled subscriptions get none; paused ones do (a
// pause in Kordi does not stop the provider's trial converting).
//
// At most one reminder email per person per UTC day: the reminders due for
// one person are sent together, as one digest when there are several, with
// one TrialReminder row per subscription pointing at that one email. A
// reminder that becomes due after the person's email of the day went out
// waits for the next day (the windows are two days wide). Exactly once is
// per subscription, guaranteed by the index; the daily cap is checked
// before each send, so concurrent workers racing on different reminders of
// one person could, rarely, each send one.
package reminders

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/tandemhq/tandem/account"
	"github.com/tandemhq/tandem/enrollment"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/ent/subscription"
	"github.com/tandemhq/tandem/ent/trialreminder"
	"github.com/tandemhq/tandem/notify"
	"github.com/tandemhq/tandem/subscriptions"
	"github.com/tandemhq/tandem/subscriptions/catalog"
	"github.com/tandemhq/tandem/subscriptions/pauselink"
)

// DefaultInterval is how often the serve command runs the worker. A
// reminder is due for a whole day, so a minute is prompt and cheap: one
// indexed range scan on trial_end_date.
const DefaultInterval = time.Minute

// The windows, in whole days from today (UTC) to trial_end_date: the 3-day
// reminder while 3 ≥ days left > 1, the 1-day reminder while 1 ≥ days left ≥ 0.
const (
	firstDays = 3
	lastDays  = 1
)

// batch is how many subscriptions one query reads.
const batch = 200

// Worker sends the reminders that are due. Any number may run at once.
type Worker struct {
	Client *ent.Client
	// Links signs the pause link each email carries.
	Links pauselink.Signer
	// Now is the clock: "today" is its UTC date. nil: time.Now.
	Now func() time.Time
	// Log reports failures; nil: discard.
	Log *slog.Logger
	// BaseURL is where people reach Kordi, named in the email's last line.
	BaseURL string
}

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now().UTC()
	}
	return time.Now().UTC()
}

func (w *Worker) log() *slog.Logger {
	if w.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Log
}

// Kind returns the reminder due for a trial ending on end when today is
// today (both UTC dates), and the whole days left; ok is false when none is.
// When both windows have passed unseen (the worker was down), only the
// 1-day reminder is due: it is the one that still helps.
func Kind(today, end time.Time) (kind trialreminder.Kind, daysLeft int, ok bool) {
	daysLeft = int(end.Sub(today).Hours() / 24)
	switch {
	case daysLeft < 0 || daysLeft > firstDays:
		return "", daysLeft, false
	case daysLeft > lastDays:
		return trialreminder.KindTrial3d, daysLeft, true
	default:
		return trialreminder.KindTrial1d, daysLeft, true
	}
}

// RunOnce sends every reminder due today and returns how many it sent
// (reminders, not emails: a digest carries several). Reminders another
// worker sent first are not counted. A failure for one person is logged and
// the rest still run; err reports the first failure (or a failed query, or
// ctx's end).
func (w *Worker) RunOnce(ctx context.Context) (sent int, err error) {
	if w.Client == nil || len(w.Links.Secret) == 0 {
		return 0, errors.New("reminders: Worker needs a Client and Links (pauselink.New)")
	}
	sys := rule.AsSystem(ctx) // the system reminds everyone; no person asks
	now := w.now()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	from, to := today.Format(time.DateOnly), today.AddDate(0, 0, firstDays).Format(time.DateOnly)

	// Collect every due reminder first: one person's subscriptions may
	// span batches, and they get one email.
	var people []*ent.User
	byPerson := map[string][]Due{}
	after := ""
	for {
		// trial_end_date is YYYY-MM-DD text, which sorts as dates do.
		subs, err := w.Client.Subscription.Query().
			Where(subscription.StatusNEQ(subscription.StatusCancelled),
				subscription.TrialEndDateGTE(from), subscription.TrialEndDateLTE(to),
				subscription.IDGT(after)).
			Order(ent.Asc(subscription.FieldID)).
			Limit(batch).
			WithUser().
			All(sys)
		if err != nil {
			return 0, err
		}
		if len(subs) == 0 {
			break
		}
		after = subs[len(subs)-1].ID
		done, err := w.alreadySent(sys, subs)
		if err != nil {
			return 0, err
		}
		for _, sub := range subs {
			u := sub.Edges.User
			if u == nil || !Remindable(u) {
				continue
			}
			end, err := time.Parse(time.DateOnly, *sub.TrialEndDate)
			if err != nil {
				continue // the schema's pattern admits 2026-02-31; no such day ends a trial
			}
			kind, daysLeft, ok := Kind(today, end)
			if !ok || done[key{sub.ID, kind, *sub.TrialEndDate}] {
				continue
			}
			if _, seen := byPerson[u.ID]; !seen {
				people = append(people, u)
			}
			byPerson[u.ID] = append(byPerson[u.ID], Due{Sub: sub, Kind: kind, DaysLeft: daysLeft})
		}
		if len(subs) < batch {
			break
		}
	}

	var firstErr error
	for _, u := range people {
		if err := ctx.Err(); err != nil {
			return sent, err
		}
		n, err := w.send(ctx, u, byPerson[u.ID], today, now)
		if err != nil {
			w.log().Error("reminders: sending trial reminders", "user", u.ID, "err", err)
			if firstErr == nil {
				firstErr = err
			}
		}
		sent += n
	}
	return sent, firstErr
}

// Remindable reports whether u may get trial reminders: not while u is an
// unclaimed shadow account with an unverified email that a keyless
// partner push created, since anyone can create one for any address.
func Remindable(u *ent.User) bool {
	return u.EmailVerifiedAt != nil || !account.IsKeylessShadow(u)
}

// Due is one reminder due for one subscription.
type Due struct {
	Sub      *ent.Subscription
	Kind     trialreminder.Kind
	DaysLeft int
}

type key struct {
	subscription string
	kind         trialreminder.Kind
	end          string
}

// alreadySent returns the reminders recorded for subs, so that a worker
// running every minute does not open a transaction per person only to have
// the unique index refuse it. It is an optimisation: the index is what
// guarantees exactly once.
func (w *Worker) alreadySent(sys context.Context, subs []*ent.Subscription) (map[key]bool, error) {
	ids := make([]string, len(subs))
	for i, s := range subs {
		ids[i] = s.ID
	}
	rows, err := w.Client.TrialReminder.Query().Where(trialreminder.SubscriptionIDIn(ids...)).All(sys)
	if err != nil {
		return nil, err
	}
	done := make(map[key]bool, len(rows))
	for _, r := range rows {
		done[key{r.SubscriptionID, r.Kind, r.TrialEndDate}] = true
	}
	return done, nil
}

// send emails u the reminders in due (one email; a digest when several)
// and records one TrialReminder per reminder, in one transaction, unless u
// already got a reminder email today (UTC). It returns how many reminders
// it recorded. When another worker recorded one of them first, the
// transaction rolls back and send tries once more with the rest, which the
// daily cap then usually defers.
func (w *Worker) send(ctx context.Context, u *ent.User, due []Due, today, now time.Time) (int, error) {
	sys := rule.AsSystem(ctx)
	for attempt := 0; ; attempt++ {
		emailed, err := w.Client.TrialReminder.Query().
			Where(trialreminder.UserID(u.ID), trialreminder.CreatedAtGTE(today), trialreminder.CreatedAtLT(today.AddDate(0, 0, 1))).
			Exist(sys)
		if err != nil || emailed || len(due) == 0 {
			return 0, err
		}
		n, conflict, err := w.sendTx(ctx, u, due, now)
		if !conflict || attempt > 0 {
			return n, err
		}
		subs := make([]*ent.Subscription, len(due))
		for i, d := range due {
			subs[i] = d.Sub
		}
		done, err := w.alreadySent(sys, subs)
		if err != nil {
			return 0, err
		}
		due = slices.DeleteFunc(due, func(d Due) bool { return done[key{d.Sub.ID, d.Kind, *d.Sub.TrialEndDate}] })
	}
}

// sendTx queues the email and records the reminders in one transaction.
// conflict is true when the unique index refused a reminder another worker
// recorded first: nothing was written, the email included.
func (w *Worker) sendTx(ctx context.Context, u *ent.User, due []Due, now time.Time) (n int, conflict bool, err error) {
	var msg notify.Message
	if len(due) == 1 {
		msg = w.email(due[0].Sub, due[0].Kind, due[0].DaysLeft)
	} else {
		msg = w.digest(due)
	}
	sys := rule.AsSystem(ctx)
	tx, err := w.Client.Tx(ctx)
	if err != nil {
		return 0, false, err
	}
	msgID, err := notify.QueuePerson(ctx, tx.Client(), u.Email, msg, now)
	if err != nil {
		_ = tx.Rollback()
		return 0, false, err
	}
	for _, d := range due {
		err = tx.TrialReminder.Create().
			SetUserID(u.ID).
			SetSubscriptionID(d.Sub.ID).
			SetKind(d.Kind).
			SetTrialEndDate(*d.Sub.TrialEndDate).
			SetOutboxMessageID(msgID).
			SetCreatedAt(now). // the daily cap counts on the worker's clock
			Exec(sys)
		if ent.IsConstraintError(err) {
			// Another worker sent it; its email stands, ours rolls back. The
			// index is checked at the insert (on PostgreSQL a concurrent insert
			// of the same key waits for the other transaction, then fails).
			_ = tx.Rollback()
			return 0, true, nil
		} else if err != nil {
			_ = tx.Rollback()
			return 0, false, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, false, err
	}
	return len(due), false, nil
}

// digest is one email for several trials ending soon: each with its end
// date, what it becomes, and its own pause link.
func (w *Worker) digest(due []Due) notify.Message {
	subject := notify.Subject(fmt.Sprintf("%d of your trials end soon", len(due)))
	paras := []string{"These free trials end in the next few days. Unless you cancel before then, they may become paid subscriptions."}
	var expires time.Time
	for _, d := range due {
		sub := d.Sub
		end, _ := time.Parse(time.DateOnly, *sub.TrialEndDate)
		line := fmt.Sprintf("%s: ends %s (%s)", sub.Name, end.Format("Monday, 2 January 2006"), subscriptions.InDays(d.DaysLeft))
		if sub.AmountCents > 0 {
			line += fmt.Sprintf(", then %s a month", enrollment.FormatMoney(sub.AmountCents, sub.Currency))
		}
		if url := cancelURL(sub); url != "" {
			line += ". Cancel: " + url
		}
		var pauseURL string
		pauseURL, expires = w.Links.Link(sub.ID)
		paras = append(paras, line+". Pause for 30 days: "+pauseURL)
	}
	paras = append(paras,
		fmt.Sprintf("The pause links need no sign-in and work until %s.", expires.Format("2 January 2006")),
		"Kordi keeps track of your subscriptions at "+w.base()+".")
	return notify.Message{Kind: "subscription_trial_digest", Subject: subject, Heading: subject, Paragraphs: paras}
}

// cancelURL is the catalog's cancel page for sub, or "".
func cancelURL(sub *ent.Subscription) string {
	lookup := sub.Name
	if sub.ProviderKey != "" {
		lookup = sub.ProviderKey
	}
	if p, ok := catalog.Lookup(lookup); ok {
		return p.CancelURL
	}
	return ""
}

func (w *Worker) base() string {
	if base := strings.TrimRight(w.BaseURL, "/"); base != "" {
		return base
	}
	return strings.TrimRight(w.Links.BaseURL, "/")
}

// email is the reminder for sub: when the trial ends, what it becomes, the
// pause link, and how to cancel.
func (w *Worker) email(sub *ent.Subscription, kind trialreminder.Kind, daysLeft int) notify.Message {
	end, _ := time.Parse(time.DateOnly, *sub.TrialEndDate)
	endText := end.Format("Monday, 2 January 2006")
	subject := notify.Subject(fmt.Sprintf("Your %s trial ends %s", sub.Name, subscriptions.InDays(daysLeft)))

	converts := fmt.Sprintf("Unless you cancel before then, it becomes a paid subscription at %s a month.",
		enrollment.FormatMoney(sub.AmountCents, sub.Currency))
	if sub.AmountCents == 0 {
		converts = "Unless you cancel before then, it may become a paid subscription."
	}
	cancel := fmt.Sprintf("To avoid the charge, cancel with %s before the trial ends, or ask your assistant for the way to cancel.", sub.Name)
	if url := cancelURL(sub); url != "" {
		cancel = fmt.Sprintf("To avoid the charge, cancel with %s before the trial ends: %s", sub.Name, url)
	}
	pauseURL, expires := w.Links.Link(sub.ID)
	return notify.Message{
		Kind:    "subscription_" + string(kind),
		Subject: subject,
		Heading: subject,
		Paragraphs: []string{
			fmt.Sprintf("Your %s trial ends on %s. %s", sub.Name, endText, converts),
			cancel,
			fmt.Sprintf("Still deciding? Pause %s in Kordi for 30 days with the button below: no sign-in needed, and the link works until %s.",
				sub.Name, expires.Format("2 January 2006")),
			"Kordi keeps track of your subscriptions at " + w.base() + ".",
		},
		ActionLabel: "Pause for 30 days",
		ActionURL:   pauseURL,
	}
}

// Run calls RunOnce every interval (DefaultInterval if not positive) until
// ctx ends, starting at once. Errors are logged, never fatal: the database
// may come back.
func (w *Worker) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = DefaultInterval
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if sent, err := w.RunOnce(ctx); err != nil && ctx.Err() == nil {
			w.log().Error("reminders: sending trial reminders", "err", err)
		} else if sent > 0 {
			w.log().Info("reminders: trial reminders queued", "sent", sent)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
