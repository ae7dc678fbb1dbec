package main

import (
	"context"
	"testing"
	"time"

	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/ent/subscription"
	"github.com/tandemhq/tandem/ent/usertoken"
	"github.com/tandemhq/tandem/store/storetest"
)

// make run seeds the demo person once and, on every run, leaves exactly one
// live demo token: the one it prints.
func TestDemoPersonSeedsOnceAndRotatesItsToken(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	sys := rule.AsSystem(ctx)

	first, err := demoPersonToken(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	second, err := demoPersonToken(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{first, second} {
		if kind, err := credential.Parse(tok); err != nil || kind != credential.KindUserToken {
			t.Fatalf("demo token %q: kind %q, err %v; want a kordi_ token", credential.Redact(tok), kind, err)
		}
	}
	if first == second {
		t.Fatal("the second run printed the first run's token again")
	}

	subs, err := db.Client.Subscription.Query().Order(subscription.ByName()).All(sys)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(subs), len(demoSubscriptions(time.Now())); got != want {
		t.Fatalf("after two runs the demo person has %d subscriptions, want %d (seeded once)", got, want)
	}
	prices, err := db.Client.PricePoint.Query().Count(sys)
	if err != nil {
		t.Fatal(err)
	}
	if prices != len(subs)+1 {
		t.Fatalf("%d price points, want one per subscription plus Netflix's hike (%d)", prices, len(subs)+1)
	}

	live, err := db.Client.UserToken.Query().Where(usertoken.RevokedAtIsNil()).All(sys)
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 1 || live[0].SecretHash != credential.Hash(second) {
		t.Fatalf("%d live demo tokens, want exactly the one printed last", len(live))
	}
}
