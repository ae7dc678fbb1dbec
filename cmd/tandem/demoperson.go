package main

import (
	"context"
	"fmt"
	"time"

	"github.com/tandemhq/tandem/account"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/ent/user"
	"github.com/tandemhq/tandem/ent/usertoken"
	"github.com/tandemhq/tandem/partners"
	"github.com/tandemhq/tandem/store"
	"github.com/tandemhq/tandem/subscriptions"
	"github.com/tandemhq/tandem/viewer"
)

// demoPerson is the Subscriptions demo: a person whose AI client `make run`
// connects to /mcp, with a handful of subscriptions to talk about.
const demoPerson = "you@demo.tandem.test"

// demoSubscriptions are the demo person's subscriptions, relative to the
// first run: a trial about to convert (a proactive task and reminders) and
// a price hike (billing health) among ordinary bills.
func demoSubscriptions(now time.Time) []subscriptions.IngestInput {
	trialEnd := now.AddDate(0, 0, 2).UTC().Format(time.DateOnly)
	return []subscriptions.IngestInput{
		{Name: "Netflix", Amount: 15.49, BillDate: subscriptions.BillDay(14)},
		{Name: "Spotify", Amount: 11.99, BillDate: subscriptions.BillDay(3)},
		{Name: "Disney+", Amount: 13.99, BillDate: subscriptions.BillDay(4), TrialEndDate: &trialEnd},
		{Name: "iCloud+", Amount: 2.99, BillDate: subscriptions.BillDay(5)},
		{Name: "Peloton", Amount: 44, BillDate: subscriptions.BillDay(21)},
		{Name: "The New York Times", Amount: 17, BillDate: subscriptions.BillDateText("every 4 weeks")},
	}
}

// demoPersonToken seeds the demo person on the first run and, on every run,
// revokes the previous run's token and mints a fresh one to print (a
// token's plaintext is never stored).
func demoPersonToken(ctx context.Context, db *store.DB) (string, error) {
	sys := rule.AsSystem(ctx) // the CLI acts for the machine's operator
	u, err := db.Client.User.Query().Where(user.Email(demoPerson)).Only(sys)
	if ent.IsNotFound(err) {
		if u, err = account.New(db.Client, account.Options{}).CreateUser(ctx, demoPerson, ""); err != nil {
			return "", err
		}
		as := viewer.NewContext(ctx, &viewer.Viewer{UserID: u.ID, ActorType: viewer.ActorPerson, ActorID: u.ID})
		for _, in := range demoSubscriptions(time.Now()) {
			if _, err := subscriptions.Ingest(as, db.Client, in, "dashboard"); err != nil {
				return "", fmt.Errorf("demo subscription %s: %w", in.Name, err)
			}
		}
		// A price hike the billing-health check finds: Netflix went up.
		hike := subscriptions.IngestInput{Name: "Netflix", Amount: 17.99, BillDate: subscriptions.BillDay(14)}
		if _, err := subscriptions.Ingest(as, db.Client, hike, "dashboard"); err != nil {
			return "", fmt.Errorf("demo price hike: %w", err)
		}
	} else if err != nil {
		return "", err
	}
	if err := db.Client.UserToken.Update().
		Where(usertoken.UserID(u.ID), usertoken.Name(demoTokenName), usertoken.RevokedAtIsNil()).
		SetRevokedAt(time.Now()).Exec(sys); err != nil {
		return "", err
	}
	res, err := partners.CreateUserTokenForEmail(ctx, db.Client, demoPerson, demoTokenName, time.Now())
	if err != nil {
		return "", err
	}
	return res.Token, nil
}
