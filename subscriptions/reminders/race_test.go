package reminders

import (
	"context"
	"testing"
	"time"

	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/ent/subscription"
	"github.com/tandemhq/tandem/ent/trialreminder"
	"github.com/tandemhq/tandem/keys"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/subscriptions/pauselink"
)

// The race RunOnce's pre-check cannot see: two workers both decided to send
// the same reminder. The unique index lets the first commit and the second
// roll back, email included, reporting "not sent" rather than an error.
func TestLosingTheRaceRollsBackTheEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := b.Open(t)
		sys := rule.AsSystem(context.Background())
		now := time.Date(2026, 7, 12, 8, 0, 0, 0, time.UTC)
		w := &Worker{Client: db.Client, Now: func() time.Time { return now },
			Links: pauselink.New(keys.Random(), "https://kordi.test", func() time.Time { return now })}
		u := db.Client.User.Create().SetEmail("ada@example.com").SaveX(sys)
		sub := db.Client.Subscription.Create().SetUserID(u.ID).SetName("Netflix").SetNormalizedName("netflix").
			SetAmountCents(1599).SetSource("mcp").SetTrialEndDate("2026-07-15").SaveX(sys)
		sub = db.Client.Subscription.Query().Where(subscription.ID(sub.ID)).WithUser().OnlyX(sys)

		due := []Due{{Sub: sub, Kind: trialreminder.KindTrial3d, DaysLeft: 3}}
		for i, want := range []int{1, 0} {
			sent, conflict, err := w.sendTx(context.Background(), sub.Edges.User, due, now)
			if err != nil || sent != want || conflict != (want == 0) {
				t.Fatalf("sendTx #%d = %d, %v, %v; want %d, %v, nil", i+1, sent, conflict, err, want, want == 0)
			}
		}
		if n := db.Client.OutboxMessage.Query().CountX(sys); n != 1 {
			t.Errorf("%d emails, want 1: the loser's email must roll back", n)
		}
		r := db.Client.TrialReminder.Query().OnlyX(sys)
		if m := db.Client.OutboxMessage.GetX(sys, r.OutboxMessageID); m.ToAddress != "ada@example.com" {
			t.Errorf("the reminder points at %+v", m)
		}
	})
}
