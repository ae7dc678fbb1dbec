package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/ent/trialreminder"
	"github.com/tandemhq/tandem/keys"
)

// serve runs the trial-reminder worker: a trial ending tomorrow gets its
// 1-day reminder, which the mailer then delivers (to the log, without SMTP)
// with the pause link scrubbed like every other credential.
func TestServeSendsTrialReminders(t *testing.T) {
	db, applied, err := openMigrated(context.Background(), sqliteURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sys := rule.AsSystem(context.Background())
	u := db.Client.User.Create().SetEmail("ada@example.com").SaveX(sys)
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format("2006-01-02")
	sub := db.Client.Subscription.Create().SetUserID(u.ID).SetName("Netflix").SetNormalizedName("netflix").
		SetAmountCents(1599).SetSource("mcp").SetTrialEndDate(tomorrow).SaveX(sys)

	ctx, cancel := context.WithCancel(context.Background())
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		addr, empty := "127.0.0.1:0", ""
		cfg := serveConfig{db: db, keys: keys.Random(), flags: serveFlags{addr: &addr, publicURL: &empty, redisURL: &empty, smtpURL: &empty}, applied: applied}
		done <- serve(ctx, cfg, &output{stdout: io.Discard, stderr: &logs}, nil)
	}()
	deadline := time.Now().Add(15 * time.Second)
	// "tomorrow", or "today" if the test straddles midnight UTC: 1-day either way.
	for !strings.Contains(logs.String(), "Your Netflix trial ends to") {
		if time.Now().After(deadline) {
			t.Fatalf("the reminder never reached the log:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	r := db.Client.TrialReminder.Query().OnlyX(sys)
	if r.SubscriptionID != sub.ID || r.Kind != trialreminder.KindTrial1d {
		t.Errorf("reminder %+v", r)
	}
	if !strings.Contains(logs.String(), "/pause/kpl_REDACTED") {
		t.Errorf("the pause link in the logged email is not scrubbed:\n%s", logs.String())
	}
}
