package identity_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tandemhq/tandem/auth"
	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/identity"
	"github.com/tandemhq/tandem/keys"
	"github.com/tandemhq/tandem/provision"
	"github.com/tandemhq/tandem/relay"
	"github.com/tandemhq/tandem/store"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/viewer"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// instance is one running Tandem API: its own ent client, cache and
// replay cache over the shared database, as a second `tandem serve` would be.
type instance struct {
	client *ent.Client
	cache  *identity.Cache
	srv    *httptest.Server
}

func newInstance(t *testing.T, db *store.DB, k keys.Keys, clk *clock, rdb redis.UniversalClient) *instance {
	t.Helper()
	inst := &instance{cache: identity.NewCache(5*time.Second, clk.Now)}
	reopened, err := store.Open(context.Background(), storeURL(t, db))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reopened.Close() })
	inst.client = reopened.Client
	inst.client.Use(identity.InvalidateOnChange(inst.cache))
	var replay relay.ReplayCache = relay.NewMemoryReplayCache(clk.Now)
	if rdb != nil {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		inst.cache.UseRedis(ctx, rdb, nil)
		replay = relay.NewRedisReplayCache(rdb, "tandem-test:"+randomHex()+":")
	}
	a := &identity.Authenticator{Client: inst.client, Keys: k, Replay: replay, Cache: inst.cache, Now: clk.Now}
	inst.srv = httptest.NewServer(a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(viewer.FromContext(r.Context()))
	})))
	t.Cleanup(inst.srv.Close)
	return inst
}

// storeURL recovers a database's URL so a second instance can open it.
var urls = map[*store.DB]string{}

func storeURL(t *testing.T, db *store.DB) string {
	u, ok := urls[db]
	if !ok {
		t.Fatal("unknown database")
	}
	return u
}

func randomHex() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type fixture struct {
	db      *store.DB
	keys    keys.Keys
	clk     *clock
	orgID   string
	ownerID string
	token   string // a live rk_mcp_ token of the org
	tokenID string
}

func setup(t *testing.T, b storetest.Backend) *fixture {
	t.Helper()
	u := b.URL(t)
	db := storetest.OpenURL(t, u)
	urls[db] = u
	ctx := rule.AsSystem(context.Background())
	org, err := provision.CreateOrg(ctx, db.Client, provision.OrgInput{Name: "Acme", Slug: "acme", OwnerEmail: "o@acme.test", Plan: "starter"})
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := credential.New(credential.KindMCP)
	row := db.Client.MCPToken.Create().SetOrgID(org.OrgID).SetName("laptop").SetSecretHash(credential.Hash(tok)).
		SetHint(credential.Redact(tok)).SetCreatedByID(org.OwnerUserID).SaveX(ctx)
	return &fixture{db: db, keys: keys.Random(), clk: &clock{t: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)},
		orgID: org.OrgID, ownerID: org.OwnerUserID, token: tok, tokenID: row.ID}
}

type reply struct {
	status int
	body   string
	viewer *viewer.Viewer
	code   string
}

// call sends a POST to inst as the relay would (sign=true) or as a client
// calling the API directly.
func (f *fixture) call(t *testing.T, inst *instance, bearer string, sign bool, body string, mutate func(*http.Request)) reply {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, inst.srv.URL+"/graphql?rid="+randomHex(), strings.NewReader(body))
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if sign {
		relay.Signer{Secret: f.keys.RelaySecrets[0], Now: f.clk.Now}.SignRequest(req, []byte(body))
	}
	if mutate != nil {
		mutate(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, body: string(raw)}
	if resp.StatusCode == http.StatusOK {
		_ = json.Unmarshal(raw, &r.viewer)
	} else {
		var e struct{ Error string }
		_ = json.Unmarshal(raw, &e)
		r.code = e.Error
	}
	return r
}

func TestMCPTokenNeedsTheRelay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := setup(t, b)
		inst := newInstance(t, f.db, f.keys, f.clk, nil)

		r := f.call(t, inst, "", false, `{}`, nil)
		if r.status != 200 || r.viewer != nil {
			t.Fatalf("anonymous: %d %s; want 200 with no viewer", r.status, r.body)
		}
		r = f.call(t, inst, f.token, false, `{}`, nil)
		if r.status != 401 || r.code != "mcp_relay_required" {
			t.Fatalf("token without relay: %d %s; want 401 mcp_relay_required", r.status, r.body)
		}
		r = f.call(t, inst, f.token, true, `{"query":"{ x }"}`, nil)
		if r.status != 200 || r.viewer == nil {
			t.Fatalf("relayed token: %d %s", r.status, r.body)
		}
		v := r.viewer
		if v.OrgID != f.orgID || v.ActorType != viewer.ActorMCP || v.TokenID != f.tokenID || v.UserID != f.ownerID || v.Plan != "Starter" || v.CanWrite() != true {
			t.Fatalf("relayed token viewer = %+v", v)
		}

		refusals := map[string]func(*http.Request){
			"body tampered": func(r *http.Request) {
				r.Body = io.NopCloser(strings.NewReader(`{"query":"{ y }"}`))
				r.ContentLength = int64(len(`{"query":"{ y }"}`))
			},
			"method swapped": func(r *http.Request) { r.Method = http.MethodPut },
			"path swapped":   func(r *http.Request) { r.URL.Path = "/api/v1/other" },
			"stale": func(r *http.Request) {
				r.Header.Set(relay.Header, relay.Signer{Secret: f.keys.RelaySecrets[0], Now: func() time.Time { return f.clk.Now().Add(-301 * time.Second) }}.Sign(r.Method, relay.Target(r.URL), []byte(`{}`)))
			},
			"other secret": func(r *http.Request) {
				r.Header.Set(relay.Header, relay.Signer{Secret: bytes.Repeat([]byte("x"), 32), Now: f.clk.Now}.Sign(r.Method, relay.Target(r.URL), []byte(`{}`)))
			},
			"malformed": func(r *http.Request) { r.Header.Set(relay.Header, "t=abc,v1=zz") },
		}
		for name, mutate := range refusals {
			t.Run(name, func(t *testing.T) {
				r := f.call(t, inst, f.token, true, `{}`, mutate)
				if r.status != 401 || r.viewer != nil {
					t.Fatalf("got %d %s; want 401", r.status, r.body)
				}
			})
		}

		// The relay's exact request, replayed, is refused.
		req, _ := http.NewRequest(http.MethodPost, inst.srv.URL+"/graphql", strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+f.token)
		relay.Signer{Secret: f.keys.RelaySecrets[0], Now: f.clk.Now}.SignRequest(req, []byte(`{}`))
		for i, want := range []int{200, 401} {
			again := req.Clone(context.Background())
			again.Body = io.NopCloser(strings.NewReader(`{}`))
			resp, err := http.DefaultClient.Do(again)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Fatalf("send %d of the same signed request: %d, want %d", i+1, resp.StatusCode, want)
			}
		}

		// A look-alike token (bad checksum) and an API key are refused here.
		bad := f.token[:len(f.token)-1] + "A"
		if bad == f.token {
			bad = f.token[:len(f.token)-1] + "B"
		}
		if r := f.call(t, inst, bad, true, `{}`, nil); r.status != 401 || r.code != "unauthorized" {
			t.Fatalf("look-alike token: %d %s", r.status, r.body)
		}
		key, _ := credential.New(credential.KindAPIKey)
		if r := f.call(t, inst, key, false, `{}`, nil); r.status != 401 {
			t.Fatalf("API key on the dashboard API: %d %s", r.status, r.body)
		}
	})
}

// revoke revokes the fixture's token through inst, as the dashboard would.
func (f *fixture) revoke(t *testing.T, inst *instance) {
	t.Helper()
	ctx := viewer.NewContext(context.Background(), &viewer.Viewer{OrgID: f.orgID, UserID: f.ownerID, Role: viewer.RoleOwner, ActorType: viewer.ActorUser})
	if err := inst.client.MCPToken.UpdateOneID(f.tokenID).SetRevokedAt(f.clk.Now()).Exec(ctx); err != nil {
		t.Fatal(err)
	}
}

// Two instances over one database: a revocation on one stops the token on
// the other within the cache TTL (well under the seed's ~10 s), and at once
// when they share Redis.
func TestRevocationReachesEveryInstance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		t.Run("ttl", func(t *testing.T) {
			f := setup(t, b)
			a, other := newInstance(t, f.db, f.keys, f.clk, nil), newInstance(t, f.db, f.keys, f.clk, nil)
			for _, inst := range []*instance{a, other} {
				if r := f.call(t, inst, f.token, true, `{}`, nil); r.status != 200 {
					t.Fatalf("before revocation: %d %s", r.status, r.body)
				}
			}
			f.revoke(t, a)
			if r := f.call(t, a, f.token, true, `{}`, nil); r.status != 401 {
				t.Fatalf("revoking instance still accepts the token: %d", r.status)
			}
			f.clk.Add(identity.MaxCacheTTL)
			if r := f.call(t, other, f.token, true, `{}`, nil); r.status != 401 {
				t.Fatalf("other instance accepts a revoked token after %v: %d", identity.MaxCacheTTL, r.status)
			}
		})
		t.Run("redis", func(t *testing.T) {
			url := os.Getenv("TANDEM_TEST_REDIS_URL")
			if url == "" {
				t.Skip("TANDEM_TEST_REDIS_URL not set")
			}
			opt, err := redis.ParseURL(url)
			if err != nil {
				t.Fatal(err)
			}
			rdb := redis.NewClient(opt)
			defer rdb.Close()
			f := setup(t, b)
			a, other := newInstance(t, f.db, f.keys, f.clk, rdb), newInstance(t, f.db, f.keys, f.clk, rdb)
			if r := f.call(t, other, f.token, true, `{}`, nil); r.status != 200 {
				t.Fatalf("before revocation: %d %s", r.status, r.body)
			}
			f.revoke(t, a)
			// No clock advance: the broadcast, not the TTL, must do it.
			deadline := time.Now().Add(5 * time.Second)
			for {
				r := f.call(t, other, f.token, true, `{}`, nil)
				if r.status == 401 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the other instance did not hear the revocation through Redis")
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	})
}

func TestSuspensionStopsCalls(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := setup(t, b)
		inst := newInstance(t, f.db, f.keys, f.clk, nil)
		if r := f.call(t, inst, f.token, true, `{}`, nil); r.status != 200 {
			t.Fatal(r.body)
		}
		inst.client.Organization.UpdateOneID(f.orgID).SetSuspendedAt(f.clk.Now()).ExecX(rule.AsSystem(context.Background()))
		if r := f.call(t, inst, f.token, true, `{}`, nil); r.status != 403 || r.code != "account_suspended" {
			t.Fatalf("suspended org: %d %s", r.status, r.body)
		}
	})
}

func TestSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := setup(t, b)
		inst := newInstance(t, f.db, f.keys, f.clk, nil)
		ctx := rule.AsSystem(context.Background())
		second, err := provision.CreateOrg(ctx, f.db.Client, provision.OrgInput{Name: "Beta", Slug: "beta", OwnerEmail: "o@acme.test", Plan: "pro"})
		if err != nil {
			t.Fatal(err)
		}
		sessions := auth.Sessions{Key: f.keys.Session, Now: f.clk.Now}
		jwt, _, err := sessions.Sign(f.ownerID, 0)
		if err != nil {
			t.Fatal(err)
		}
		r := f.call(t, inst, jwt, false, `{}`, nil)
		if r.status != 200 || r.viewer == nil || r.viewer.OrgID != f.orgID || r.viewer.Role != viewer.RoleOwner || r.viewer.ActorType != viewer.ActorUser {
			t.Fatalf("session: %d %s", r.status, r.body)
		}
		r = f.call(t, inst, jwt, false, `{}`, func(r *http.Request) { r.Header.Set(identity.OrgHeader, "beta") })
		if r.status != 200 || r.viewer.OrgID != second.OrgID || r.viewer.Plan != "Pro" {
			t.Fatalf("session for org beta: %d %s", r.status, r.body)
		}
		other, _ := provision.CreateOrg(ctx, f.db.Client, provision.OrgInput{Name: "Gamma", Slug: "gamma", OwnerEmail: "g@gamma.test"})
		r = f.call(t, inst, jwt, false, `{}`, func(r *http.Request) { r.Header.Set(identity.OrgHeader, other.OrgID) })
		if r.status != 403 {
			t.Fatalf("session for someone else's org: %d %s", r.status, r.body)
		}
		// Signing out everywhere (a new session version) ends the old session at once.
		inst.client.User.UpdateOneID(f.ownerID).AddSessionVersion(1).ExecX(ctx)
		if r := f.call(t, inst, jwt, false, `{}`, nil); r.status != 401 {
			t.Fatalf("session after sign-out everywhere: %d %s", r.status, r.body)
		}
		if r := f.call(t, inst, "not-a-jwt", false, `{}`, nil); r.status != 401 || r.code != "unauthorized" {
			t.Fatalf("garbage bearer: %d %s", r.status, r.body)
		}
	})
}
