package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/keys"
	"github.com/tandemhq/tandem/store/storetest"
)

// tandem runs the CLI in-process and returns its exit code and output.
func tandem(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func sqliteURL(t *testing.T) string {
	return "sqlite://" + filepath.Join(t.TempDir(), "tandem.db")
}

func TestOrgCreate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := b.URL(t)
		code, out, errOut := tandem(t, "org", "create", "--db", db, "--json",
			"--name", "Acme", "--slug", "acme", "--owner-email", "owner@acme.test", "--plan", "GROWTH")
		if code != 0 {
			t.Fatalf("exit %d: %s%s", code, out, errOut)
		}
		var res struct{ OrgID, OwnerUserID string }
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("output is not JSON: %q", out)
		}
		if !strings.HasPrefix(res.OrgID, "org_") || !strings.HasPrefix(res.OwnerUserID, "usr_") {
			t.Fatalf("got %+v, want org_… and usr_… IDs", res)
		}

		// The same owner may own a second organization; the slug must be new.
		code, out, _ = tandem(t, "org", "create", "--db", db, "--json",
			"--name", "Acme Two", "--slug", "acme", "--owner-email", "owner@acme.test")
		if code == 0 || !strings.Contains(out, `slug \"acme\"`) {
			t.Fatalf("duplicate slug: exit %d, %s; want an error naming the slug", code, out)
		}
		code, out, _ = tandem(t, "org", "create", "--db", db, "--json",
			"--name", "Acme Two", "--slug", "acme-two", "--owner-email", "owner@acme.test", "--plan", "pro")
		var res2 struct{ OwnerUserID string }
		_ = json.Unmarshal([]byte(out), &res2)
		if code != 0 || res2.OwnerUserID != res.OwnerUserID {
			t.Fatalf("second org for the same owner: exit %d, %s; want owner %s reused", code, out, res.OwnerUserID)
		}
	})
}

func TestOrgCreateRefusesBadInput(t *testing.T) {
	db := sqliteURL(t)
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		wantMsg  string
	}{
		{"missing name", []string{"--slug", "a", "--owner-email", "o@a.test"}, 2, "--name is required"},
		{"bad plan", []string{"--name", "A", "--slug", "a", "--owner-email", "o@a.test", "--plan", "gold"}, 1, "use free, trial, starter, growth or pro"},
		{"bad slug", []string{"--name", "A", "--slug", "Not A Slug", "--owner-email", "o@a.test"}, 1, "lowercase letters, digits and single hyphens"},
		{"bad email", []string{"--name", "A", "--slug", "a", "--owner-email", "nobody"}, 1, "not an email address"},
		{"unknown flag", []string{"--colour", "red"}, 2, "flag provided but not defined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := tandem(t, append([]string{"org", "create", "--db", db}, tc.args...)...)
			if code != tc.wantCode || !strings.Contains(errOut, tc.wantMsg) {
				t.Fatalf("got exit %d, %q; want exit %d mentioning %q", code, errOut, tc.wantCode, tc.wantMsg)
			}
		})
	}
}

func TestMigrateAndEnvironment(t *testing.T) {
	t.Setenv("TANDEM_DB", sqliteURL(t))
	code, out, errOut := tandem(t, "migrate")
	if code != 0 || !strings.Contains(out, "applied 0001_init") {
		t.Fatalf("first migrate: exit %d, %q %q", code, out, errOut)
	}
	code, out, _ = tandem(t, "migrate", "--json")
	if code != 0 || strings.TrimSpace(out) != `{
  "applied": []
}` {
		t.Fatalf("second migrate: exit %d, %q; want nothing applied", code, out)
	}
}

func TestUnknownCommand(t *testing.T) {
	if code, _, errOut := tandem(t, "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Fatalf("got %d %q", code, errOut)
	}
	if code, out, _ := tandem(t, "help"); code != 0 || !strings.Contains(out, "tandem serve") {
		t.Fatalf("help: %d %q", code, out)
	}
}

// syncBuffer is a bytes.Buffer safe for the server's logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeAnswersAndShutsDownGracefully(t *testing.T) {
	db, applied, err := openMigrated(context.Background(), sqliteURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var logs syncBuffer
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		addr, empty := "127.0.0.1:0", ""
		cfg := serveConfig{db: db, keys: keys.Random(), flags: serveFlags{addr: &addr, publicURL: &empty, redisURL: &empty, smtpURL: &empty}, applied: applied}
		done <- serve(ctx, cfg, &output{stdout: io.Discard, stderr: &logs}, func(a string) { addrc <- a })
	}()
	var base string
	select {
	case a := <-addrc:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("serve stopped early: %v", err)
	}

	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/graphiql": 404} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, want)
		}
	}
	resp, err := http.Post(base+"/graphql", "application/json", strings.NewReader(`{"query":"{ viewerOrganization { id } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"UNAUTHENTICATED"`) {
		t.Errorf("anonymous /graphql = %s, want UNAUTHENTICATED", body)
	}
	// An MCP token sent straight to the API, without the relay's signature.
	tok, _ := credential.New(credential.KindMCP)
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(`{"query":"{ viewerOrganization { id } }"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `"mcp_relay_required"`) {
		t.Errorf("direct rk_mcp_ call = %d %s, want 401 mcp_relay_required", resp.StatusCode, body)
	}
	if strings.Contains(logs.String(), tok) {
		t.Errorf("the token reached the logs")
	}

	resp, err = http.Post(base+"/graphql", "application/json", strings.NewReader(`{"query":"{ __schema { types { name } } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), `"types"`) && !strings.Contains(string(body), "errors") {
		t.Errorf("introspection answered without --dev: %s", body)
	}

	// Signing up queues a verification email; with no SMTP configured the
	// outbox worker prints it, link included, to the log.
	signUp := `{"query":"mutation { signUp(input: {email: \"ann@example.com\", password: \"correct horse battery\", fullName: \"Ann\", organizationName: \"Ann Co\", organizationSlug: \"ann-co\"}) { expiresAt } }"}`
	resp, err = http.Post(base+"/graphql", "application/json", strings.NewReader(signUp))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), `"errors"`) {
		t.Fatalf("signUp: %s", body)
	}
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(logs.String(), "/verify-email?token=") {
		if time.Now().After(deadline) {
			t.Fatalf("the verification email never reached the log:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after shutdown", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop after its context ended")
	}
	if !strings.Contains(logs.String(), "stopped") {
		t.Errorf("logs do not show a graceful stop:\n%s", logs.String())
	}
}

// demo run is development mode: it refuses to listen beyond this machine.
func TestDemoRunListensOnLoopbackOnly(t *testing.T) {
	code, _, errOut := tandem(t, "demo", "run", "--addr", "0.0.0.0:0", "--db", sqliteURL(t))
	if code != 2 || !strings.Contains(errOut, "loopback") {
		t.Fatalf("demo run on 0.0.0.0: exit %d %q, want a usage error about loopback", code, errOut)
	}
}
