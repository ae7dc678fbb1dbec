package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/ent/partnersource"
	"github.com/tandemhq/tandem/partners"
	"github.com/tandemhq/tandem/store/storetest"
)

// A leaked partner key can be switched off, and replaced, from the CLI.
func TestPartnerRevokeAndRotate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := b.URL(t)
		c, ctx := dbClient(t, db)
		works := func(key string) bool {
			t.Helper()
			_, err := partners.SourceForKey(context.Background(), c, key)
			if err != nil && !errors.Is(err, partners.ErrInvalidPartnerKey) {
				t.Fatal(err)
			}
			return err == nil
		}
		first := jsonObject(t, mustRun(t, "partner", "create", "--db", db, "--json", "--source", "acme-bank"), "key")["key"]
		if !works(first) {
			t.Fatal("a new key does not work")
		}

		// rotate: a new key at once, and the old one stops at once.
		out := mustRun(t, "partner", "rotate", "--db", db, "--json", "--source", "acme-bank")
		second := jsonObject(t, out, "key")["key"]
		if k, err := credential.Parse(second); err != nil || k != credential.KindPartnerKey || second == first {
			t.Fatalf("rotate printed %s; want a new kpk_ key", credential.Scrub(out))
		}
		if works(first) || !works(second) {
			t.Fatalf("after rotate: old key works=%v, new key works=%v; want only the new one", works(first), works(second))
		}
		src := c.PartnerSource.Query().Where(partnersource.Source("acme-bank")).OnlyX(ctx)
		if src.KeyHash != credential.Hash(second) || src.Hint != credential.Redact(second) {
			t.Fatalf("stored %+v; want the new key's hash and hint", src)
		}

		// revoke: the key stops; revoking again keeps the first time.
		out = mustRun(t, "partner", "revoke", "--db", db, "--json", "--source", "acme-bank")
		var revoked struct {
			Source    string    `json:"source"`
			RevokedAt time.Time `json:"revokedAt"`
		}
		var keys map[string]any
		_ = json.Unmarshal([]byte(out), &keys)
		if err := json.Unmarshal([]byte(out), &revoked); err != nil || revoked.Source != "acme-bank" || revoked.RevokedAt.IsZero() || len(keys) != 2 {
			t.Fatalf("revoke printed %s; want exactly {source, revokedAt}", out)
		}
		if works(second) {
			t.Fatal("a revoked key still works")
		}
		again := mustRun(t, "partner", "revoke", "--db", db, "--json", "--source", "acme-bank")
		var twice struct {
			RevokedAt time.Time `json:"revokedAt"`
		}
		if err := json.Unmarshal([]byte(again), &twice); err != nil || !twice.RevokedAt.Equal(revoked.RevokedAt) {
			t.Fatalf("revoking twice printed %s; want the first revocation time %v", again, revoked.RevokedAt)
		}
		if human := mustRun(t, "partner", "revoke", "--db", db, "--source", "acme-bank"); !strings.Contains(human, "partner rotate") {
			t.Fatalf("human revoke output %q; want the next step", human)
		}

		// rotating a revoked source lets the partner back in with the new key only.
		third := jsonObject(t, mustRun(t, "partner", "rotate", "--db", db, "--json", "--source", "acme-bank"), "key")["key"]
		if !works(third) || works(second) || works(first) {
			t.Fatal("after rotating a revoked source, only the newest key may work")
		}
	})
}

func TestPartnerRevokeRotateErrors(t *testing.T) {
	db := sqliteURL(t)
	for _, cmd := range []string{"revoke", "rotate"} {
		for _, tt := range []struct {
			args []string
			code int
			want string
		}{
			{nil, 2, "--source is required"},
			{[]string{"--source", "Acme Bank"}, 1, "is not a source"},
			{[]string{"--source", "nobody"}, 1, "tandem partner create --source nobody"},
		} {
			args := append([]string{"partner", cmd, "--db", db}, tt.args...)
			if code, out, errOut := tandem(t, args...); code != tt.code || !strings.Contains(out+errOut, tt.want) {
				t.Errorf("tandem %s: exit %d %s%s; want exit %d mentioning %q", strings.Join(args, " "), code, out, errOut, tt.code, tt.want)
			}
		}
	}
}
