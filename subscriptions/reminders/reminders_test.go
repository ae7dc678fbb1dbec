package reminders_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/outboxmessage"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/ent/subscription"
	"github.com/tandemhq/tandem/ent/trialreminder"
	"github.com/tandemhq/tandem/keys"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/subscriptions/pauselink"
	"github.com/tandemhq/tandem/subscriptions/reminders"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func sys() context.Context { return rule.AsSystem(context.Background()) }

// The trial ends on 15 July 2026; days are counted in UTC.
const trialEnd = "2026-07-15"

var endDay = time.Date(2026, 7, 15, 0, 0, 0, 0, time.UTC)

func worker(c *ent.Client, clk *clock, k keys.Keys) *reminders.Worker {
	return &reminders.Worker{
		Client: c, Now: clk.Now, BaseURL: "https://kordi.test",
		Links: pauselink.New(k, "https://kordi.test", clk.Now),
	}
}

func addUser(t *testing.T, c *ent.Client, email string) *ent.User {
	t.Helper()
	return c.User.Create().SetEmail(email).SaveX(sys())
}

func addSub(t *testing.T, c *ent.Client, u *ent.User, name, trialEnd string) *ent.Subscription {
	t.Helper()
	return c.Subscription.Create().SetUserID(u.ID).SetName(name).SetNormalizedName(strings.ToLower(name)).
		SetAmountCents(1599).SetCurrency("USD").SetSource("mcp").SetTrialEndDate(trialEnd).SaveX(sys())
}

func reminderKinds(t *testing.T, c *ent.Client, subID string) []string {
	t.Helper()
	rows := c.TrialReminder.Query().Where(trialreminder.SubscriptionID(subID)).
		Order(ent.Asc(trialreminder.FieldCreatedAt), ent.Asc(trialreminder.FieldID)).AllX(sys())
	var out []string
	for _, r := range rows {
		out = append(out, string(r.Kind)+"@"+r.TrialEndDate)
	}
	return out
}

func outbox(t *testing.T, c *ent.Client) []*ent.OutboxMessage {
	t.Helper()
	return c.OutboxMessage.Query().Order(ent.Asc(outboxmessage.FieldID)).AllX(sys())
}

func TestSequenceSendsEachReminderOnce(t *testing.T) {
	db := storetest.SQLite(t)
	clk := &clock{}
	w := worker(db.Client, clk, keys.Random())
	u := addUser(t, db.Client, "ada@example.com")
	sub := addSub(t, db.Client, u, "Netflix", trialEnd)

	// Every 6 hours from 5 days before the end to 2 days after; at each step
	// RunOnce runs twice, the second time finding nothing to do.
	var log []string
	for at := endDay.AddDate(0, 0, -5); !at.After(endDay.AddDate(0, 0, 2)); at = at.Add(6 * time.Hour) {
		clk.set(at)
		for run := range 2 {
			sent, err := w.RunOnce(context.Background())
			if err != nil {
				t.Fatalf("%s run %d: %v", at, run, err)
			}
			if run == 1 && sent != 0 {
				t.Errorf("%s: a second run the same moment sent %d", at, sent)
			}
			for range sent {
				log = append(log, at.Format("2006-01-02T15"))
			}
		}
	}
	if want := []string{"2026-07-12T00", "2026-07-14T00"}; fmt.Sprint(log) != fmt.Sprint(want) {
		t.Errorf("sent at %v, want %v (3 days before, then 1 day before)", log, want)
	}
	if got, want := reminderKinds(t, db.Client, sub.ID), []string{"trial_3d@" + trialEnd, "trial_1d@" + trialEnd}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("reminders %v, want %v", got, want)
	}
	msgs := outbox(t, db.Client)
	if len(msgs) != 2 {
		t.Fatalf("%d emails, want 2", len(msgs))
	}
	if msgs[0].Subject != "Your Netflix trial ends in 3 days" || msgs[1].Subject != "Your Netflix trial ends tomorrow" {
		t.Errorf("subjects %q, %q", msgs[0].Subject, msgs[1].Subject)
	}
	if msgs[0].Kind != "subscription_trial_3d" || msgs[0].ToAddress != "ada@example.com" || msgs[0].OrgID != "" {
		t.Errorf("email kind %q to %q org %q", msgs[0].Kind, msgs[0].ToAddress, msgs[0].OrgID)
	}
}

func TestEmailContent(t *testing.T) {
	db := storetest.SQLite(t)
	clk := &clock{now: endDay.AddDate(0, 0, -3).Add(9 * time.Hour)}
	k := keys.Random()
	w := worker(db.Client, clk, k)
	sub := addSub(t, db.Client, addUser(t, db.Client, "ada@example.com"), "Netflix", trialEnd)
	if sent, err := w.RunOnce(context.Background()); err != nil || sent != 1 {
		t.Fatalf("RunOnce = %d, %v", sent, err)
	}
	m := outbox(t, db.Client)[0]
	for _, body := range []string{m.TextBody, m.HTMLBody} {
		for _, want := range []string{"Wednesday, 15 July 2026", "USD 15.99 a month", "cancel with Netflix", "Pause for 30 days", "Kordi"} {
			if !strings.Contains(body, want) {
				t.Errorf("email lacks %q:\n%s", want, body)
			}
		}
	}
	link := regexp.MustCompile(`https://kordi\.test/pause/(kpl_[A-Za-z0-9_.-]+)`).FindStringSubmatch(m.TextBody)
	if link == nil {
		t.Fatalf("no pause link in:\n%s", m.TextBody)
	}
	if !strings.Contains(m.HTMLBody, `href="`+link[0]+`"`) {
		t.Errorf("the HTML button does not carry the same link")
	}
	// The page's signer (same server keys) accepts it, for this subscription.
	id, _, err := pauselink.New(k, "https://kordi.test", clk.Now).Verify(link[1])
	if err != nil || id != sub.ID {
		t.Errorf("Verify(link) = %q, %v; want %s", id, err, sub.ID)
	}
}

func TestWorkerDownThroughBothWindowsSendsOnlyTheLast(t *testing.T) {
	db := storetest.SQLite(t)
	clk := &clock{now: endDay.Add(-20 * time.Hour)} // the day before the end
	w := worker(db.Client, clk, keys.Random())
	sub := addSub(t, db.Client, addUser(t, db.Client, "ada@example.com"), "Netflix", trialEnd)
	if sent, err := w.RunOnce(context.Background()); err != nil || sent != 1 {
		t.Fatalf("RunOnce = %d, %v", sent, err)
	}
	clk.set(endDay.Add(3 * time.Hour)) // the last day
	if sent, err := w.RunOnce(context.Background()); err != nil || sent != 0 {
		t.Fatalf("on the last day RunOnce = %d, %v; want nothing more", sent, err)
	}
	if got := reminderKinds(t, db.Client, sub.ID); fmt.Sprint(got) != fmt.Sprint([]string{"trial_1d@" + trialEnd}) {
		t.Errorf("reminders %v, want only trial_1d", got)
	}
}

func TestCancelledAndOthersGetNone(t *testing.T) {
	db := storetest.SQLite(t)
	clk := &clock{now: endDay.AddDate(0, 0, -1)}
	w := worker(db.Client, clk, keys.Random())
	u := addUser(t, db.Client, "ada@example.com")
	cancelled := addSub(t, db.Client, u, "Netflix", trialEnd)
	db.Client.Subscription.UpdateOneID(cancelled.ID).SetStatus(subscription.StatusCancelled).SetCancelledAt(clk.Now()).ExecX(sys())
	// No trial; a trial ending too far ahead; one already over.
	db.Client.Subscription.Create().SetUserID(u.ID).SetName("Hulu").SetNormalizedName("hulu").SetAmountCents(799).SetSource("mcp").SaveX(sys())
	addSub(t, db.Client, u, "Max", "2026-07-20")
	addSub(t, db.Client, u, "Peacock", "2026-07-13")
	paused := addSub(t, db.Client, u, "Disney+", trialEnd)
	db.Client.Subscription.UpdateOneID(paused.ID).SetStatus(subscription.StatusPaused).ExecX(sys())

	sent, err := w.RunOnce(context.Background())
	if err != nil || sent != 1 {
		t.Fatalf("RunOnce = %d, %v; want 1 (the paused trial only)", sent, err)
	}
	if got := reminderKinds(t, db.Client, paused.ID); len(got) != 1 {
		t.Errorf("the paused trial got %v", got)
	}
	if got := reminderKinds(t, db.Client, cancelled.ID); len(got) != 0 {
		t.Errorf("the cancelled subscription got %v", got)
	}
}

func TestChangedTrialEndRearms(t *testing.T) {
	db := storetest.SQLite(t)
	clk := &clock{now: endDay.AddDate(0, 0, -1)}
	w := worker(db.Client, clk, keys.Random())
	sub := addSub(t, db.Client, addUser(t, db.Client, "ada@example.com"), "Netflix", trialEnd)
	if sent, err := w.RunOnce(context.Background()); err != nil || sent != 1 {
		t.Fatalf("RunOnce = %d, %v", sent, err)
	}
	// The provider extended the trial by a week.
	db.Client.Subscription.UpdateOneID(sub.ID).SetTrialEndDate("2026-07-22").ExecX(sys())
	var sentAt []string
	for at := clk.Now(); !at.After(time.Date(2026, 7, 23, 0, 0, 0, 0, time.UTC)); at = at.Add(12 * time.Hour) {
		clk.set(at)
		sent, err := w.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for range sent {
			sentAt = append(sentAt, at.Format("01-02"))
		}
	}
	if fmt.Sprint(sentAt) != "[07-19 07-21]" {
		t.Errorf("after the change, sent on %v; want [07-19 07-21]", sentAt)
	}
	want := []string{"trial_1d@2026-07-15", "trial_3d@2026-07-22", "trial_1d@2026-07-22"}
	if got := reminderKinds(t, db.Client, sub.ID); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("reminders %v, want %v", got, want)
	}
}

// Two instances, each with its own connection pool to one database, run at
// the same moment: every reminder goes out once.
func TestTwoWorkersSendOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		url := b.URL(t)
		dbA, dbB := storetest.OpenURL(t, url), storetest.OpenURL(t, url)
		clk := &clock{now: endDay.AddDate(0, 0, -3)}
		k := keys.Random()
		const n = 40
		for i := range n {
			u := addUser(t, dbA.Client, fmt.Sprintf("p%d@example.com", i))
			addSub(t, dbA.Client, u, "Netflix", trialEnd)
		}
		workers := []*reminders.Worker{worker(dbA.Client, clk, k), worker(dbB.Client, clk, k), worker(dbA.Client, clk, k), worker(dbB.Client, clk, k)}
		total := 0
		for _, day := range []time.Time{endDay.AddDate(0, 0, -3), endDay.AddDate(0, 0, -1)} {
			clk.set(day)
			var wg sync.WaitGroup
			var mu sync.Mutex
			start := make(chan struct{})
			for _, w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					sent, err := w.RunOnce(context.Background())
					if err != nil {
						t.Errorf("RunOnce: %v", err)
					}
					mu.Lock()
					total += sent
					mu.Unlock()
				}()
			}
			close(start)
			wg.Wait()
		}
		if total != 2*n {
			t.Errorf("workers report %d sent, want %d", total, 2*n)
		}
		if got := len(outbox(t, dbA.Client)); got != 2*n {
			t.Errorf("%d emails in the outbox, want %d", got, 2*n)
		}
		if got := dbB.Client.TrialReminder.Query().CountX(sys()); got != 2*n {
			t.Errorf("%d reminder rows, want %d", got, 2*n)
		}
	})
}

func TestKindWindows(t *testing.T) {
	for days, want := range map[int]string{-1: "", 0: "trial_1d", 1: "trial_1d", 2: "trial_3d", 3: "trial_3d", 4: ""} {
		kind, left, ok := reminders.Kind(endDay.AddDate(0, 0, -days), endDay)
		if string(kind) != want || ok != (want != "") || left != days {
			t.Errorf("%d days before: Kind = %q, %d, %v; want %q", days, kind, left, ok, want)
		}
	}
}

// Several trials due the same day for one person make one email listing
// each with its own pause link; each reminder is still recorded once.
func TestSeveralTrialsDueMakeOneDigest(t *testing.T) {
	db := storetest.SQLite(t)
	clk := &clock{now: endDay.AddDate(0, 0, -3).Add(9 * time.Hour)}
	k := keys.Random()
	w := worker(db.Client, clk, k)
	ada := addUser(t, db.Client, "ada@example.com")
	subs := []*ent.Subscription{
		addSub(t, db.Client, ada, "Netflix", trialEnd),
		addSub(t, db.Client, ada, "Hulu", trialEnd),
		addSub(t, db.Client, ada, "Max", "2026-07-14"), // 2 days left: also the 3-day reminder
	}
	addSub(t, db.Client, addUser(t, db.Client, "bob@example.com"), "Netflix", trialEnd)

	sent, err := w.RunOnce(context.Background())
	if err != nil || sent != 4 {
		t.Fatalf("RunOnce = %d, %v; want 4 reminders", sent, err)
	}
	msgs := outbox(t, db.Client)
	byTo := map[string][]*ent.OutboxMessage{}
	for _, m := range msgs {
		byTo[m.ToAddress] = append(byTo[m.ToAddress], m)
	}
	if len(byTo["ada@example.com"]) != 1 || len(byTo["bob@example.com"]) != 1 {
		t.Fatalf("emails per person: ada %d, bob %d; want one each", len(byTo["ada@example.com"]), len(byTo["bob@example.com"]))
	}
	digest := byTo["ada@example.com"][0]
	if digest.Subject != "3 of your trials end soon" || digest.Kind != "subscription_trial_digest" {
		t.Errorf("digest subject %q kind %q", digest.Subject, digest.Kind)
	}
	if m := byTo["bob@example.com"][0]; m.Subject != "Your Netflix trial ends in 3 days" {
		t.Errorf("a single reminder is the usual email; got %q", m.Subject)
	}
	links := regexp.MustCompile(`https://kordi\.test/pause/(kpl_[A-Za-z0-9_.-]+)`).FindAllStringSubmatch(digest.TextBody, -1)
	signer := pauselink.New(k, "https://kordi.test", clk.Now)
	got := map[string]bool{}
	for _, l := range links {
		id, _, err := signer.Verify(l[1])
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		got[id] = true
	}
	for _, s := range subs {
		if !got[s.ID] {
			t.Errorf("the digest has no pause link for %s:\n%s", s.Name, digest.TextBody)
		}
		if !strings.Contains(digest.TextBody, s.Name+": ends") {
			t.Errorf("the digest does not list %s", s.Name)
		}
		if kinds := reminderKinds(t, db.Client, s.ID); fmt.Sprint(kinds) != "[trial_3d@"+*s.TrialEndDate+"]" {
			t.Errorf("%s reminders %v", s.Name, kinds)
		}
	}
	for _, r := range db.Client.TrialReminder.Query().Where(trialreminder.UserID(ada.ID)).AllX(sys()) {
		if r.OutboxMessageID != digest.ID {
			t.Errorf("reminder %s points at %s, want the digest %s", r.ID, r.OutboxMessageID, digest.ID)
		}
	}

	// A trial added later the same day waits for tomorrow: one email a day.
	late := addSub(t, db.Client, ada, "Peacock", trialEnd)
	clk.set(clk.Now().Add(6 * time.Hour))
	if sent, err := w.RunOnce(context.Background()); err != nil || sent != 0 {
		t.Fatalf("later the same day RunOnce = %d, %v; want 0", sent, err)
	}
	clk.set(endDay.AddDate(0, 0, -2))
	if sent, err := w.RunOnce(context.Background()); err != nil || sent != 2 {
		t.Fatalf("the next day RunOnce = %d, %v; want 2 (Peacock's 3-day and Max's 1-day reminders)", sent, err)
	}
	if kinds := reminderKinds(t, db.Client, late.ID); fmt.Sprint(kinds) != "[trial_3d@"+trialEnd+"]" {
		t.Errorf("the late trial's reminders %v", kinds)
	}
	if n := len(outbox(t, db.Client)); n != 3 {
		t.Errorf("%d emails in all, want 3", n)
	}
}

// A keyless partner push can name any address: its unclaimed, unverified
// shadow account gets no reminders until verified. A shadow a keyed partner
// made, or a verified one, does.
func TestKeylessShadowAccountsGetNoReminders(t *testing.T) {
	db := storetest.SQLite(t)
	clk := &clock{now: endDay.AddDate(0, 0, -1)}
	w := worker(db.Client, clk, keys.Random())
	shadow := func(email, source string) *ent.User {
		u := db.Client.User.Create().SetEmail(email).SetProvisionedBySourceID(source).SaveX(sys())
		addSub(t, db.Client, u, "Netflix", trialEnd)
		return u
	}
	victim := shadow("victim@example.com", "guest:spam")
	bare := shadow("bare@example.com", "guest")
	keyed := shadow("keyed@example.com", "psrc_acme")
	verified := shadow("verified@example.com", "guest:label")
	db.Client.User.UpdateOne(verified).SetEmailVerifiedAt(clk.Now()).ExecX(sys())

	if sent, err := w.RunOnce(context.Background()); err != nil || sent != 2 {
		t.Fatalf("RunOnce = %d, %v; want 2 (the keyed and the verified shadow)", sent, err)
	}
	to := map[string]bool{}
	for _, m := range outbox(t, db.Client) {
		to[m.ToAddress] = true
	}
	if to[victim.Email] || to[bare.Email] || !to[keyed.Email] || !to[verified.Email] {
		t.Errorf("emailed %v", to)
	}

	// Once the person claims the account, the reminder goes out.
	db.Client.User.UpdateOne(victim).SetClaimedAt(clk.Now()).SetEmailVerifiedAt(clk.Now()).ExecX(sys())
	if sent, err := w.RunOnce(context.Background()); err != nil || sent != 1 {
		t.Fatalf("after the claim RunOnce = %d, %v; want 1", sent, err)
	}
}
