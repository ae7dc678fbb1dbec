package account_test

import (
	"context"
	"testing"
	"time"

	"github.com/tandemhq/tandem/account"
	"github.com/tandemhq/tandem/auth"
	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/logintoken"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/ent/usertoken"
	"github.com/tandemhq/tandem/keys"
	"github.com/tandemhq/tandem/store/storetest"
)

// Spending any emailed link proves the address, so on a shadow account (one
// a partner or the /token page created) it claims the account: verified,
// claimed, and every token issued before revoked, in the same transaction.
func TestSpendingAnyLinkClaimsShadowAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := b.Open(t)
		now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
		svc := account.New(db.Client, account.Options{Keys: keys.Random(), Now: func() time.Time { return now },
			Argon2: auth.Argon2Params{Memory: 64, Time: 1, Threads: 1}})
		ctx := context.Background()
		sys := rule.AsSystem(ctx)
		mint := func(u *ent.User) *ent.UserToken {
			tok, _ := credential.New(credential.KindPartnerUserToken)
			return db.Client.UserToken.Create().SetUserID(u.ID).SetName("partner").SetSecretHash(credential.Hash(tok)).
				SetHint(credential.Redact(tok)).SetExpiresAt(now.Add(time.Hour)).SaveX(sys)
		}
		live := func(u *ent.User) int {
			return db.Client.UserToken.Query().Where(usertoken.UserID(u.ID), usertoken.RevokedAtIsNil()).CountX(sys)
		}
		spends := map[string]struct {
			purpose logintoken.Purpose
			spend   func(token string) error
		}{
			"signInWithLink": {logintoken.PurposeSignIn, func(tok string) error { _, err := svc.SignInWithLink(ctx, tok); return err }},
			"verifyEmail":    {logintoken.PurposeVerifyEmail, func(tok string) error { _, err := svc.VerifyEmail(ctx, tok); return err }},
			"SpendLink":      {logintoken.PurposeSignIn, func(tok string) error { _, err := svc.SpendLink(ctx, tok, logintoken.PurposeSignIn); return err }},
		}
		for name, sp := range spends {
			shadow := db.Client.User.Create().SetEmail(name + "-shadow@example.com").SetProvisionedBySourceID("src_partner").SaveX(sys)
			mint(shadow)
			mint(shadow)
			plain := db.Client.User.Create().SetEmail(name + "-plain@example.com").SaveX(sys)
			mint(plain)
			for _, u := range []*ent.User{shadow, plain} {
				link, err := svc.IssueLink(ctx, u.ID, sp.purpose, time.Hour)
				if err != nil {
					t.Fatal(err)
				}
				if err := sp.spend(link); err != nil {
					t.Fatalf("%s on %s: %v", name, u.Email, err)
				}
			}
			got := db.Client.User.GetX(sys, shadow.ID)
			if got.ClaimedAt == nil || !got.ClaimedAt.Equal(now) || got.EmailVerifiedAt == nil || live(shadow) != 0 {
				t.Fatalf("%s on a shadow account: claimed %v verified %v, %d live tokens; want claimed, verified, none live",
					name, got.ClaimedAt, got.EmailVerifiedAt, live(shadow))
			}
			// An account nobody else created is only verified.
			if got := db.Client.User.GetX(sys, plain.ID); got.ClaimedAt != nil || got.EmailVerifiedAt == nil || live(plain) != 1 {
				t.Fatalf("%s on a plain account: claimed %v, %d live tokens; want unclaimed with its token", name, got.ClaimedAt, live(plain))
			}
			// Claimed once: the person's own later tokens survive their next link.
			mint(shadow)
			link, _ := svc.IssueLink(ctx, shadow.ID, sp.purpose, time.Hour)
			if err := sp.spend(link); err != nil {
				t.Fatal(err)
			}
			if live(shadow) != 1 {
				t.Fatalf("%s again on a claimed account revoked the person's own token", name)
			}
		}
	})
}
