package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/auth"
	"github.com/tandemhq/tandem/keys"
	"github.com/tandemhq/tandem/relay"
	"github.com/tandemhq/tandem/store/storetest"
)

// Two `tandem serve` instances on one database (and one Redis, when the
// tests have it): a token minted with the CLI works on both through the
// relay, is refused without it, and once its owner revokes it on one
// instance, the other refuses it within the auth cache TTL, at once with
// Redis. The plaintext token appears in neither instance's logs nor in the
// database.
func TestTwoInstancesShareRevocation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		dbURL := b.URL(t)
		mustRun := func(args ...string) string {
			t.Helper()
			code, out, errOut := tandem(t, append(args, "--db", dbURL, "--json")...)
			if code != 0 {
				t.Fatalf("tandem %v: exit %d %s %s", args, code, out, errOut)
			}
			return out
		}
		var org struct{ OrgID, OwnerUserID string }
		_ = json.Unmarshal([]byte(mustRun("org", "create", "--name", "Acme", "--slug", "acme", "--owner-email", "o@acme.test", "--plan", "growth")), &org)
		var tok struct{ ID, Token string }
		_ = json.Unmarshal([]byte(mustRun("token", "create", "--org", "acme", "--name", "laptop")), &tok)
		if !strings.HasPrefix(tok.Token, "rk_mcp_") {
			t.Fatalf("token create gave %+v", tok)
		}

		k := keys.Random()
		redisURL := os.Getenv("TANDEM_TEST_REDIS_URL")
		type inst struct {
			base string
			logs *syncBuffer
		}
		start := func() inst {
			db, applied, err := openMigrated(context.Background(), dbURL)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			ctx, cancel := context.WithCancel(context.Background())
			logs := &syncBuffer{}
			addr, public := "127.0.0.1:0", ""
			addrc, done := make(chan string, 1), make(chan error, 1)
			go func() {
				done <- serve(ctx, serveConfig{db: db, keys: k, applied: applied,
					flags: serveFlags{addr: &addr, publicURL: &public, redisURL: &redisURL, smtpURL: &public}},
					&output{stdout: io.Discard, stderr: logs}, func(a string) { addrc <- a })
			}()
			t.Cleanup(func() { cancel(); <-done })
			select {
			case a := <-addrc:
				return inst{base: "http://" + a, logs: logs}
			case err := <-done:
				t.Fatalf("serve: %v", err)
			}
			return inst{}
		}
		a, other := start(), start()

		post := func(in inst, bearer string, signed bool, body string) (int, string) {
			t.Helper()
			req, _ := http.NewRequest(http.MethodPost, in.base+"/graphql", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+bearer)
			if signed {
				relay.Signer{Secret: k.RelaySecrets[0]}.SignRequest(req, []byte(body))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(raw)
		}
		// Each request carries a nonce, as the relay's request id does: the
		// replay cache (shared through Redis) refuses an identical signed request.
		nonce := b.Name + "-" + time.Now().Format(time.RFC3339Nano)
		read := func(i int) string {
			return `{"query":"query get_org_profile { viewerOrganization { name planTier } }","variables":{"nonce":"` + nonce + `-` + strconv.Itoa(i) + `"}}`
		}

		for i, in := range []inst{a, other} {
			if code, body := post(in, tok.Token, true, read(i)); code != 200 || !strings.Contains(body, `"Acme"`) {
				t.Fatalf("relayed call to instance %d: %d %s", i, code, body)
			}
		}
		if code, body := post(other, tok.Token, false, read(2)); code != 401 || !strings.Contains(body, "mcp_relay_required") {
			t.Fatalf("direct call: %d %s, want 401 mcp_relay_required", code, body)
		}

		session, _, _ := auth.Sessions{Key: k.Session}.Sign(org.OwnerUserID, 0)
		revoke := `{"query":"mutation($id: ID!) { revokeMCPToken(id: $id) { revokedAt } }","variables":{"id":"` + tok.ID + `"}}`
		if code, body := post(a, session, false, revoke); code != 200 || strings.Contains(body, "errors") {
			t.Fatalf("revoke on instance a: %d %s", code, body)
		}

		// The other instance must refuse within its cache TTL (5 s); with
		// Redis the broadcast makes it immediate. Bounded poll, no timing assertion.
		deadline := time.Now().Add(12 * time.Second)
		for i := 3; ; i++ {
			code, _ := post(other, tok.Token, true, read(i))
			if code == 401 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the other instance still accepts the revoked token after 12 s")
			}
			time.Sleep(50 * time.Millisecond)
		}

		for name, text := range map[string]string{"instance a logs": a.logs.String(), "other instance logs": other.logs.String(), "database": dumpDatabase(t, dbURL)} {
			if strings.Contains(text, tok.Token) || strings.Contains(text, tok.Token[7:]) {
				t.Errorf("the plaintext token appears in the %s", name)
			}
		}
	})
}

// dumpDatabase renders every row of every table as text.
func dumpDatabase(t *testing.T, dbURL string) string {
	t.Helper()
	db := storetest.OpenURL(t, dbURL)
	var out strings.Builder
	for _, table := range []string{"organizations", "users", "memberships", "mcp_tokens", "api_keys", "audit_log_entries", "outbox_messages", "login_tokens"} {
		rows, err := db.SQL.Query("SELECT * FROM " + table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				switch x := v.(type) {
				case []byte:
					out.Write(x)
				case string:
					out.WriteString(x)
				}
				out.WriteByte('|')
			}
		}
		rows.Close()
	}
	return out.String()
}
