package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/auth"
	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/mcptoken"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/ent/user"
	"github.com/tandemhq/tandem/keys"
	"github.com/tandemhq/tandem/store/storetest"
)

// jsonObject decodes out as one JSON object and checks it has exactly the keys want.
func jsonObject(t *testing.T, out string, want ...string) map[string]string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("output is not a JSON object of strings: %q", out)
	}
	var got []string
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("output keys %v, want %v: %s", got, want, out)
	}
	return m
}

// mustRun runs the CLI and fails the test unless it exits 0.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := tandem(t, args...)
	if code != 0 {
		t.Fatalf("tandem %s: exit %d: %s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// dbClient opens the database at url for looking at what a command wrote.
func dbClient(t *testing.T, url string) (*ent.Client, context.Context) {
	t.Helper()
	return storetest.OpenURL(t, url).Client, rule.AsSystem(context.Background())
}

func TestTokenCommands(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := b.URL(t)
		mustRun(t, "org", "create", "--db", db, "--name", "Acme", "--slug", "acme", "--owner-email", "owner@acme.test")

		out := mustRun(t, "token", "create", "--db", db, "--json", "--org", "acme", "--name", "Claude Desktop laptop", "--read-only")
		created := jsonObject(t, out, "id", "token")
		if k, err := credential.Parse(created["token"]); err != nil || k != credential.KindMCP || !strings.HasPrefix(created["id"], "mcp_") {
			t.Fatalf("got %s; want an mcp_ id and a well-formed rk_mcp_ token", credential.Scrub(out))
		}
		c, ctx := dbClient(t, db)
		row, err := c.MCPToken.Get(ctx, created["id"])
		if err != nil {
			t.Fatal(err)
		}
		if row.SecretHash != credential.Hash(created["token"]) || !row.ReadOnly || row.Name != "Claude Desktop laptop" || row.CreatedByID != "" {
			t.Fatalf("stored %+v; want the token's hash, read-only, no creating user", row)
		}

		// People get the token and the warning that it is shown once.
		out = mustRun(t, "token", "create", "--db", db, "--org", "acme", "--name", "phone")
		if !regexpToken.MatchString(out) || !strings.Contains(out, "shown only this once") {
			t.Fatalf("human output %q lacks the token or the warning", credential.Scrub(out))
		}

		// The cap holds on the command line too.
		for i := 2; i < 10; i++ {
			mustRun(t, "token", "create", "--db", db, "--org", "acme", "--name", fmt.Sprintf("device %d", i))
		}
		code, out, _ := tandem(t, "token", "create", "--db", db, "--json", "--org", "acme", "--name", "one too many")
		if code != 1 || !strings.Contains(out, "at most 10 active MCP tokens; revoke one first") {
			t.Fatalf("11th token: exit %d, %s; want the cap's error", code, out)
		}
		if n, _ := c.MCPToken.Query().Where(mcptoken.RevokedAtIsNil()).Count(ctx); n != 10 {
			t.Fatalf("%d active tokens, want 10", n)
		}

		out = mustRun(t, "token", "revoke", "--db", db, "--json", "--id", created["id"])
		revoked := jsonObject(t, out, "id", "revokedAt")
		at, err := time.Parse(time.RFC3339, revoked["revokedAt"])
		if err != nil || revoked["id"] != created["id"] {
			t.Fatalf("got %s; want the id and an RFC 3339 time", out)
		}
		// Revoking again succeeds and changes nothing.
		again := jsonObject(t, mustRun(t, "token", "revoke", "--db", db, "--json", "--id", created["id"]), "id", "revokedAt")
		if again["revokedAt"] != revoked["revokedAt"] {
			t.Fatalf("revoked at %s, then %s", revoked["revokedAt"], again["revokedAt"])
		}
		if row, _ := c.MCPToken.Get(ctx, created["id"]); row.RevokedAt == nil || !row.RevokedAt.Truncate(time.Second).Equal(at) {
			t.Fatalf("stored revoked_at %v, printed %v", row.RevokedAt, at)
		}
		// With one revoked, there is room for one more.
		mustRun(t, "token", "create", "--db", db, "--org", "acme", "--name", "replacement")
	})
}

var regexpToken = regexp.MustCompile(`\brk_mcp_[A-Za-z0-9_-]{49}\b`)

func TestTokenCommandErrors(t *testing.T) {
	db := sqliteURL(t)
	mustRun(t, "org", "create", "--db", db, "--name", "Acme", "--slug", "acme", "--owner-email", "owner@acme.test")
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		wantMsg  string
	}{
		{"create without org", []string{"token", "create", "--name", "x"}, 2, "--org is required"},
		{"create without name", []string{"token", "create", "--org", "acme"}, 2, "--name is required"},
		{"create in unknown org", []string{"token", "create", "--org", "nope", "--name", "x"}, 1, `no organization with slug "nope"`},
		{"create with a long name", []string{"token", "create", "--org", "acme", "--name", strings.Repeat("n", 101)}, 1, "name is too long"},
		{"create for an unknown affiliate", []string{"token", "create", "--org", "acme", "--name", "x", "--affiliate", "aff_nope"}, 1, `affiliate "aff_nope" not found`},
		{"revoke without id", []string{"token", "revoke"}, 2, "--id is required"},
		{"revoke unknown", []string{"token", "revoke", "--id", "mcp_nope"}, 1, `no MCP token has id "mcp_nope"`},
		{"apikey without org", []string{"apikey", "create", "--name", "x"}, 2, "--org is required"},
		{"apikey in unknown org", []string{"apikey", "create", "--org", "nope", "--name", "x"}, 1, `no organization with slug "nope"`},
		{"user without email", []string{"user", "create"}, 2, "--email is required"},
		{"unknown subcommand", []string{"token", "list"}, 2, "unknown command"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := tandem(t, append(tc.args, "--db", db)...)
			if code != tc.wantCode || !strings.Contains(errOut, tc.wantMsg) {
				t.Fatalf("got exit %d, %q; want exit %d mentioning %q", code, errOut, tc.wantCode, tc.wantMsg)
			}
		})
	}
	// With --json the error is JSON on stdout.
	code, out, _ := tandem(t, "token", "create", "--db", db, "--json", "--org", "nope", "--name", "x")
	if m := jsonObject(t, out, "error"); code != 1 || !strings.Contains(m["error"], "nope") {
		t.Fatalf("got exit %d, %s", code, out)
	}
}

func TestAPIKeyCreate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := b.URL(t)
		var keysPath string
		if b.Name == "sqlite" {
			// The keys are made on first use, beside the database.
			keysPath = filepath.Join(filepath.Dir(strings.TrimPrefix(db, "sqlite://")), "keys.json")
		} else {
			// PostgreSQL deployments set the keys in the environment (the
			// file would otherwise go in ./data).
			k := keys.Random()
			enc := base64.StdEncoding.EncodeToString
			t.Setenv(keys.EnvSessionKey, enc(k.Session))
			t.Setenv(keys.EnvRelaySecret, enc(k.RelaySecrets[0]))
			t.Setenv(keys.EnvEncryptionKey, enc(k.Encryption))
		}
		mustRun(t, "org", "create", "--db", db, "--name", "Acme", "--slug", "acme", "--owner-email", "owner@acme.test")
		out := mustRun(t, "apikey", "create", "--db", db, "--json", "--org", "acme", "--name", "checkout server")
		m := jsonObject(t, out, "id", "key", "signingSecret")
		if k, err := credential.Parse(m["key"]); err != nil || k != credential.KindAPIKey || !strings.HasPrefix(m["id"], "key_") {
			t.Fatalf("got %s; want a key_ id and an rk_live_ key", credential.Scrub(out))
		}
		if k, err := credential.Parse(m["signingSecret"]); err != nil || k != credential.KindSigningSecret {
			t.Fatalf("got %s; want an rks_ signing secret", credential.Scrub(out))
		}
		k, err := keys.Load(keysPath)
		if err != nil {
			t.Fatal(err)
		}
		if keysPath != "" {
			if fi, err := os.Stat(keysPath); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("keys file %s: %v, %v; want it, private", keysPath, fi, err)
			}
		}
		c, ctx := dbClient(t, db)
		row, err := c.APIKey.Get(ctx, m["id"])
		if err != nil {
			t.Fatal(err)
		}
		secret, err := credential.Unseal(k.Encryption, row.SigningSecretSealed)
		if err != nil || secret != m["signingSecret"] || row.SecretHash != credential.Hash(m["key"]) {
			t.Fatalf("stored key: hash ok %v, secret opens %v (%v); want both", row.SecretHash == credential.Hash(m["key"]), secret == m["signingSecret"], err)
		}

		out = mustRun(t, "apikey", "create", "--db", db, "--org", "acme", "--name", "second")
		if !strings.Contains(out, "rk_live_") || !strings.Contains(out, "rks_") || !strings.Contains(out, "shown only this once") {
			t.Fatalf("human output %q lacks the key, the secret or the warning", credential.Scrub(out))
		}
	})
}

func TestUserCreate(t *testing.T) {
	withStdin := func(t *testing.T, s string) {
		t.Helper()
		old := stdin
		stdin = strings.NewReader(s)
		t.Cleanup(func() { stdin = old })
	}
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := b.URL(t)
		withStdin(t, "correct horse battery\r\nignored second line\n")
		m := jsonObject(t, mustRun(t, "user", "create", "--db", db, "--json", "--email", "Ada@Example.test", "--password-stdin"), "id", "email")
		if !strings.HasPrefix(m["id"], "usr_") || m["email"] != "ada@example.test" {
			t.Fatalf("got %v", m)
		}
		c, ctx := dbClient(t, db)
		u, err := c.User.Get(ctx, m["id"])
		if err != nil {
			t.Fatal(err)
		}
		if err := auth.VerifyPassword("correct horse battery", u.PasswordHash); err != nil {
			t.Fatalf("stored hash does not verify the password from stdin: %v", err)
		}
		if u.EmailVerifiedAt != nil {
			t.Fatal("the address starts verified")
		}

		// Without --password-stdin the person signs in by link only.
		out := mustRun(t, "user", "create", "--db", db, "--email", "grace@example.test")
		if !strings.Contains(out, "grace@example.test") || !strings.Contains(out, "email link") {
			t.Fatalf("got %q", out)
		}
		if g, err := c.User.Query().Where(user.Email("grace@example.test")).Only(ctx); err != nil || g.PasswordHash != "" {
			t.Fatalf("grace: %v, %v; want a user without a password", g, err)
		}

		for _, tc := range []struct {
			name, email, stdin string
			wantCode           int
			wantMsg            string
		}{
			{"taken", "ADA@example.test", "another password\n", 1, "a user with email ada@example.test exists"},
			{"short password", "linus@example.test", "short\n", 1, "password must be at least 10 characters"},
			{"no password", "linus@example.test", "", 2, "no password on standard input"},
			{"empty line", "linus@example.test", "\nsecond line\n", 2, "no password on standard input"},
			{"bad email", "linus", "correct horse battery\n", 1, "email is not an email address"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				withStdin(t, tc.stdin)
				code, _, errOut := tandem(t, "user", "create", "--db", db, "--email", tc.email, "--password-stdin")
				if code != tc.wantCode || !strings.Contains(errOut, tc.wantMsg) {
					t.Fatalf("got exit %d, %q; want exit %d mentioning %q", code, errOut, tc.wantCode, tc.wantMsg)
				}
			})
		}
		if n, _ := c.User.Query().Count(ctx); n != 2 {
			t.Fatalf("%d users, want 2", n)
		}
	})
}

func TestReadPasswordBounds(t *testing.T) {
	long := strings.Repeat("x", auth.MaxPasswordLength+50)
	pw, err := readPassword(strings.NewReader(long))
	if err != nil || len(pw) <= auth.MaxPasswordLength || auth.CheckPasswordPolicy(pw) == nil {
		t.Fatalf("a %d-character password read as %d characters (%v); want more than the maximum, so it is refused", len(long), len(pw), err)
	}
	if pw, err := readPassword(strings.NewReader("no newline at end")); err != nil || pw != "no newline at end" {
		t.Fatalf("got %q, %v", pw, err)
	}
}
