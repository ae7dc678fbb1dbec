package identity_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/viewer"
)

// A Subscriptions user token (kordi_ or clerk_reg_) acts for one person,
// only through the relay, until it expires or is revoked.
func TestPersonTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := setup(t, b)
		inst := newInstance(t, f.db, f.keys, f.clk, nil)
		ctx := rule.AsSystem(context.Background())
		verified := f.clk.Now()
		u := f.db.Client.User.Create().SetEmail("ada@example.com").SetIsAdmin(true).SetEmailVerifiedAt(verified).SaveX(ctx)
		mint := func(kind credential.Kind, ttl time.Duration) (string, string) {
			tok, _ := credential.New(kind)
			row := f.db.Client.UserToken.Create().SetUserID(u.ID).SetName("laptop").SetSecretHash(credential.Hash(tok)).
				SetHint(credential.Redact(tok)).SetExpiresAt(f.clk.Now().Add(ttl)).SaveX(ctx)
			return tok, row.ID
		}
		kordi, kordiID := mint(credential.KindUserToken, 90*24*time.Hour)
		clerk, _ := mint(credential.KindPartnerUserToken, 30*24*time.Hour)

		for _, tok := range []string{kordi, clerk} {
			if r := f.call(t, inst, tok, false, `{}`, nil); r.status != 401 || r.code != "mcp_relay_required" || !strings.Contains(r.body, "/mcp") {
				t.Fatalf("%s without the relay: %d %s; want 401 mcp_relay_required naming /mcp", tok[:6], r.status, r.body)
			}
		}
		r := f.call(t, inst, kordi, true, `{"query":"{ a }"}`, nil)
		if r.status != 200 || r.viewer == nil {
			t.Fatalf("relayed kordi_ token: %d %s", r.status, r.body)
		}
		want := viewer.Viewer{UserID: u.ID, ActorType: viewer.ActorPerson, ActorID: u.ID, TokenID: kordiID, Admin: true, EmailVerified: true}
		got := *r.viewer
		got.RequestID = ""
		if got != want {
			t.Fatalf("viewer = %+v\nwant %+v", got, want)
		}
		if !got.ActsForPerson() || got.OrgID != "" {
			t.Fatalf("a person viewer acts for the person and no organization: %+v", got)
		}

		// A look-alike (bad checksum) is refused without a lookup.
		last := "A"
		if kordi[len(kordi)-1] == 'A' {
			last = "B"
		}
		bad := kordi[:len(kordi)-1] + last
		if r := f.call(t, inst, bad, true, `{"query":"{ b }"}`, nil); r.status != 401 || r.code != "unauthorized" {
			t.Fatalf("look-alike token: %d %s", r.status, r.body)
		}

		// Expiry: the partner's 30-day token stops at its expires_at even
		// while cached; the 90-day one still works.
		if r := f.call(t, inst, clerk, true, `{"query":"{ c }"}`, nil); r.status != 200 {
			t.Fatalf("clerk_reg_ before expiry: %d %s", r.status, r.body)
		}
		f.clk.Add(30 * 24 * time.Hour)
		if r := f.call(t, inst, clerk, true, `{"query":"{ d }"}`, nil); r.status != 401 || !strings.Contains(r.body, "expired") || !strings.Contains(r.body, "/token") {
			t.Fatalf("clerk_reg_ at its expiry: %d %s; want 401 saying it expired and where to get a new one", r.status, r.body)
		}
		if r := f.call(t, inst, kordi, true, `{"query":"{ e }"}`, nil); r.status != 200 {
			t.Fatalf("kordi_ after 30 days: %d %s", r.status, r.body)
		}

		// Revocation is immediate on this instance (the cache forgets it).
		inst.client.UserToken.UpdateOneID(kordiID).SetRevokedAt(f.clk.Now()).ExecX(ctx)
		if r := f.call(t, inst, kordi, true, `{"query":"{ f }"}`, nil); r.status != 401 || !strings.Contains(r.body, "revoked") {
			t.Fatalf("revoked kordi_: %d %s; want 401 saying it was revoked", r.status, r.body)
		}
	})
}

// last_used_at is written at most once a minute.
func TestPersonTokenLastUsed(t *testing.T) {
	f := setup(t, storetest.Backends(t)[0])
	inst := newInstance(t, f.db, f.keys, f.clk, nil)
	ctx := rule.AsSystem(context.Background())
	u := f.db.Client.User.Create().SetEmail("bo@example.com").SaveX(ctx)
	tok, _ := credential.New(credential.KindUserToken)
	row := f.db.Client.UserToken.Create().SetUserID(u.ID).SetName("x").SetSecretHash(credential.Hash(tok)).
		SetHint(credential.Redact(tok)).SetExpiresAt(f.clk.Now().Add(time.Hour)).SaveX(ctx)
	lastUsed := func() time.Time {
		got := f.db.Client.UserToken.GetX(ctx, row.ID).LastUsedAt
		if got == nil {
			return time.Time{}
		}
		return got.UTC()
	}
	start := f.clk.Now()
	f.call(t, inst, tok, true, `{"query":"{ a }"}`, nil)
	if !lastUsed().Equal(start) {
		t.Fatalf("last_used_at = %v after the first call, want %v", lastUsed(), start)
	}
	f.clk.Add(30 * time.Second)
	f.call(t, inst, tok, true, `{"query":"{ b }"}`, nil)
	if !lastUsed().Equal(start) {
		t.Fatalf("last_used_at = %v 30 s later, want it unchanged (%v)", lastUsed(), start)
	}
	f.clk.Add(31 * time.Second)
	f.call(t, inst, tok, true, `{"query":"{ c }"}`, nil)
	if want := start.Add(61 * time.Second); !lastUsed().Equal(want) {
		t.Fatalf("last_used_at = %v after a minute, want %v", lastUsed(), want)
	}
}
