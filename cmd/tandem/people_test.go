package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/ent/partnersource"
	"github.com/tandemhq/tandem/ent/user"
	"github.com/tandemhq/tandem/ent/usertoken"
	"github.com/tandemhq/tandem/store/storetest"
)

func TestUserTokenAndGrantAdmin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := b.URL(t)
		created := jsonObject(t, mustRun(t, "user", "create", "--db", db, "--json", "--email", "ada@example.com"), "id", "email")

		out := mustRun(t, "user", "token", "--db", db, "--json", "--email", "ada@example.com", "--name", "Claude Desktop")
		tok := jsonObject(t, out, "token")["token"]
		if k, err := credential.Parse(tok); err != nil || k != credential.KindUserToken {
			t.Fatalf("user token printed %s; want a kordi_ token", credential.Scrub(out))
		}
		c, ctx := dbClient(t, db)
		row := c.UserToken.Query().Where(usertoken.SecretHash(credential.Hash(tok))).OnlyX(ctx)
		if row.UserID != created["id"] || row.Name != "Claude Desktop" || row.PartnerSourceID != nil {
			t.Fatalf("stored %+v", row)
		}
		if d := row.ExpiresAt.Sub(row.CreatedAt); d < 90*24*time.Hour-time.Minute || d > 90*24*time.Hour+time.Minute {
			t.Fatalf("token lives %v, want 90 days", d)
		}
		// People see the token once, with where to use it.
		if human := mustRun(t, "user", "token", "--db", db, "--email", "ada@example.com"); !strings.Contains(human, "kordi_") || !strings.Contains(human, "/mcp") {
			t.Fatalf("human output: %s", credential.Scrub(human))
		}

		out = mustRun(t, "user", "grant-admin", "--db", db, "--json", "--email", "ADA@example.com")
		var granted struct {
			ID      string
			Email   string
			IsAdmin bool
		}
		if err := json.Unmarshal([]byte(out), &granted); err != nil || !granted.IsAdmin || granted.ID != created["id"] || granted.Email != "ada@example.com" {
			t.Fatalf("grant-admin printed %s", out)
		}
		if !c.User.Query().Where(user.Email("ada@example.com")).OnlyX(ctx).IsAdmin {
			t.Fatal("grant-admin did not set is_admin")
		}
	})
}

func TestPartnerCreate(t *testing.T) {
	db := sqliteURL(t)
	out := mustRun(t, "partner", "create", "--db", db, "--json", "--source", "acme-bank", "--name", "Acme Bank")
	key := jsonObject(t, out, "key")["key"]
	if k, err := credential.Parse(key); err != nil || k != credential.KindPartnerKey {
		t.Fatalf("partner create printed %s; want a kpk_ key", credential.Scrub(out))
	}
	c, ctx := dbClient(t, db)
	src := c.PartnerSource.Query().Where(partnersource.Source("acme-bank")).OnlyX(ctx)
	if src.KeyHash != credential.Hash(key) || src.Name != "Acme Bank" || strings.Contains(src.Hint, key[8:]) {
		t.Fatalf("stored %+v; want the key's hash and a redacted hint", src)
	}
	if code, out, _ := tandem(t, "partner", "create", "--db", db, "--json", "--source", "acme-bank"); code != 1 || !strings.Contains(out, "exists") {
		t.Fatalf("duplicate source: exit %d %s; want a clear error", code, out)
	}
}

func TestPeopleCommandErrors(t *testing.T) {
	db := sqliteURL(t)
	mustRun(t, "user", "create", "--db", db, "--email", "ada@example.com")
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"user", "create", "--email", "ada@example.com"}, 1, "exists"},
		{[]string{"user", "token"}, 2, "--email is required"},
		{[]string{"user", "token", "--email", "nobody@example.com"}, 1, "tandem user create"},
		{[]string{"user", "token", "--email", "ada@example.com", "--name", strings.Repeat("n", 101)}, 1, "at most 100"},
		{[]string{"user", "grant-admin", "--email", "nobody@example.com"}, 1, "no user has email"},
		{[]string{"partner", "create"}, 2, "--source is required"},
		{[]string{"partner", "create", "--source", "Acme Bank"}, 1, "is not a source"},
		{[]string{"partner", "create", "--source", "a"}, 1, "is not a source"},
	}
	for _, tt := range tests {
		code, out, errOut := tandem(t, append(tt.args, "--db", db)...)
		if code != tt.code || !strings.Contains(out+errOut, tt.want) {
			t.Errorf("tandem %s: exit %d %s%s; want exit %d mentioning %q", strings.Join(tt.args, " "), code, out, errOut, tt.code, tt.want)
		}
	}
}
