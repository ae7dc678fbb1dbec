package server_test

// Contract tests of the Subscriptions partner surfaces against the real
// HTTP server: POST /api/guest-ingest (the seed's request and both
// responses, keys, sources, the rate limits, across instances through
// Redis), the claim of a shadow account, the /token page, and user-token
// management over GraphQL.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tandemhq/tandem/auth"
	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/ent/outboxmessage"
	"github.com/tandemhq/tandem/ent/partnersource"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/ent/subscription"
	"github.com/tandemhq/tandem/ent/user"
	"github.com/tandemhq/tandem/ent/usertoken"
	"github.com/tandemhq/tandem/keys"
	"github.com/tandemhq/tandem/partners"
	"github.com/tandemhq/tandem/ratelimit"
	"github.com/tandemhq/tandem/relay"
	"github.com/tandemhq/tandem/server"
	"github.com/tandemhq/tandem/store"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/subscriptions"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

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

type stack struct {
	url  string
	db   *store.DB
	keys keys.Keys
	clk  *clock
	sys  context.Context
}

// newStack serves a fresh database; cfg may adjust the configuration.
func newStack(t *testing.T, db *store.DB, k keys.Keys, clk *clock, adjust func(*server.Config)) *stack {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	cfg := server.Config{DB: db, Keys: k, PublicURL: base, Logger: quiet, Now: clk.Now}
	if adjust != nil {
		adjust(&cfg)
	}
	h, err := server.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = h
	srv.Start()
	t.Cleanup(srv.Close)
	return &stack{url: base, db: db, keys: k, clk: clk, sys: rule.AsSystem(context.Background())}
}

func fresh(t *testing.T, b storetest.Backend, adjust func(*server.Config)) *stack {
	return newStack(t, b.Open(t), keys.Random(), &clock{t: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}, adjust)
}

type response struct {
	status int
	header http.Header
	body   string
	json   map[string]any
}

func (st *stack) do(t *testing.T, method, path string, header map[string]string, body string) response {
	t.Helper()
	req, _ := http.NewRequest(method, st.url+path, strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, body: string(raw)}
	_ = json.Unmarshal(raw, &r.json)
	return r
}

func (st *stack) ingest(t *testing.T, key, body string) response {
	t.Helper()
	h := map[string]string{"Content-Type": "application/json"}
	if key != "" {
		h["x-partner-key"] = key
	}
	return st.do(t, http.MethodPost, "/api/guest-ingest", h, body)
}

func (st *stack) partner(t *testing.T, source string) string {
	t.Helper()
	res, err := partners.CreateSource(context.Background(), st.db.Client, source, "")
	if err != nil {
		t.Fatal(err)
	}
	return res.Key
}

// relayed calls /graphql with a user token as the /mcp relay would; the
// status says whether identity accepted the token.
func (st *stack) relayed(t *testing.T, token string) response {
	t.Helper()
	body := `{"query":"{ __typename }","variables":{"nonce":"` + nonce() + `"}}`
	req, _ := http.NewRequest(http.MethodPost, st.url+"/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	relay.Signer{Secret: st.keys.RelaySecrets[0], Now: st.clk.Now}.SignRequest(req, []byte(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, body: string(raw)}
}

func nonce() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

const netflix = `{"name": "Netflix", "amount": 15.99, "bill_date": 14, "trial_end_date": "2026-07-15", "card_network": "visa"}`

func body(email, source string, subs ...string) string {
	if len(subs) == 0 {
		subs = []string{netflix}
	}
	src := ""
	if source != "" {
		src = `"source": "` + source + `", `
	}
	return `{"email": "` + email + `", ` + src + `"subscriptions": [` + strings.Join(subs, ",") + `]}`
}

func (st *stack) users(t *testing.T) int {
	return st.db.Client.User.Query().CountX(st.sys)
}

func TestGuestIngestNewAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		st := fresh(t, b, nil)
		key := st.partner(t, "acme-bank")
		// The partner asks for "pro" at every level: the tier is the server's.
		req := `{"email": "New.Person@Example.com", "source": "acme-bank", "tier": "pro",
			"subscriptions": [{"name": "Netflix", "amount": 15.99, "bill_date": 14, "trial_end_date": "2026-07-15", "card_network": "visa", "tier": "pro"}]}`
		r := st.ingest(t, key, req)
		if r.status != 200 {
			t.Fatalf("new account: %d %s", r.status, r.body)
		}
		if !strings.Contains(r.body, `"total_monthly":15.99`) || r.json["status"] != "created" || r.json["imported"] != float64(1) {
			t.Fatalf("new account answered %s; want status created, imported 1, total_monthly 15.99", credential.Scrub(r.body))
		}
		token, _ := r.json["token"].(string)
		if k, err := credential.Parse(token); err != nil || k != credential.KindPartnerUserToken {
			t.Fatalf("token %q is not a clerk_reg_ token", credential.Redact(token))
		}
		if r.json["mcp_url"] != st.url+"/mcp?token="+token {
			t.Fatalf("mcp_url = %q, want %s/mcp?token=<token>", credential.Scrub(r.json["mcp_url"].(string)), st.url)
		}
		if len(r.json) != 5 {
			t.Fatalf("response has keys %v; want exactly status, imported, total_monthly, token, mcp_url", r.json)
		}

		u := st.db.Client.User.Query().Where(user.Email("new.person@example.com")).OnlyX(st.sys)
		if u.SubscriptionsTier != user.SubscriptionsTierFree || u.EmailVerifiedAt != nil || u.ProvisionedBySourceID == nil || u.ClaimedAt != nil {
			t.Fatalf("shadow user = %+v; want tier free, unverified, provisioned by the source, unclaimed", u)
		}
		tok := st.db.Client.UserToken.Query().Where(usertoken.UserID(u.ID)).OnlyX(st.sys)
		if tok.SecretHash != credential.Hash(token) || tok.PartnerSourceID == nil || !tok.ExpiresAt.Equal(st.clk.Now().Add(30*24*time.Hour)) {
			t.Fatalf("stored token = %+v; want its hash, the partner source, 30 days", tok)
		}
		sub := st.db.Client.Subscription.Query().Where(subscription.UserID(u.ID)).OnlyX(st.sys)
		if sub.AmountCents != 1599 || sub.BillDay == nil || *sub.BillDay != 14 || sub.TrialEndDate == nil || *sub.TrialEndDate != "2026-07-15" ||
			sub.CardNetwork == nil || *sub.CardNetwork != subscription.CardNetworkVisa || sub.Source != "partner:acme-bank" {
			t.Fatalf("imported subscription = %+v", sub)
		}
		msg := st.db.Client.OutboxMessage.Query().Where(outboxmessage.ToAddress(u.Email)).OnlyX(st.sys)
		if msg.Subject != "acme-bank added your subscriptions to Kordi" || !strings.Contains(msg.TextBody, st.url+"/claim?t=") {
			t.Fatalf("claim email %q:\n%s\nwant a source-labelled subject and a claim link", msg.Subject, msg.TextBody)
		}
		// The token works for MCP calls on the person's behalf, through the relay only.
		if r := st.relayed(t, token); r.status != 200 {
			t.Fatalf("relayed clerk_reg_ call: %d %s", r.status, r.body)
		}
	})
}

func TestGuestIngestExistingAccountGetsNoToken(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		st := fresh(t, b, nil)
		key := st.partner(t, "acme-bank")
		owner := st.db.Client.User.Create().SetEmail("ada@example.com").SaveX(st.sys)
		// What the person holds already is nobody's business: total_monthly
		// is this request's subscriptions only (15.99 + 11.99), never Hulu's.
		st.own(t, owner, subscriptions.IngestInput{Name: "Hulu", Amount: 7.99})
		r := st.ingest(t, key, body("ada@example.com", "acme-bank", netflix, `{"name": "Spotify", "amount": 11.99, "tier": "pro"}`))
		if r.status != 200 || r.json["status"] != "existing" || r.json["imported"] != float64(2) || !strings.Contains(r.body, `"total_monthly":27.98`) {
			t.Fatalf("existing account: %d %s; want imported 2 and total_monthly 27.98 (this request's only)", r.status, credential.Scrub(r.body))
		}
		if _, ok := r.json["token"]; ok || strings.Contains(r.body, "mcp_url") || strings.Contains(r.body, "clerk_reg_") {
			t.Fatalf("an existing account's response carries a token: %s", credential.Scrub(r.body))
		}
		if n := st.db.Client.UserToken.Query().CountX(st.sys); n != 0 {
			t.Fatalf("%d tokens minted for an existing account; want none", n)
		}
		if n := st.db.Client.Subscription.Query().Where(subscription.UserID(owner.ID)).CountX(st.sys); n != 3 {
			t.Fatalf("%d subscriptions after importing 2 into an account with 1, want 3", n)
		}
		if u := st.db.Client.User.GetX(st.sys, owner.ID); u.SubscriptionsTier != user.SubscriptionsTierFree || u.ProvisionedBySourceID != nil {
			t.Fatalf("existing user changed: %+v", u)
		}
		// A shadow account is an account too: a second push never returns a token.
		st.ingest(t, key, body("shadow@example.com", ""))
		r = st.ingest(t, key, body("shadow@example.com", "", `{"name": "Netflix", "amount": 17.99}`))
		if r.json["status"] != "existing" || strings.Contains(r.body, "token") || !strings.Contains(r.body, `"total_monthly":17.99`) {
			t.Fatalf("second push for a shadow account: %s", credential.Scrub(r.body))
		}
	})
}

func TestGuestIngestRefusesKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		st := fresh(t, b, nil)
		acme := st.partner(t, "acme-bank")
		st.partner(t, "other-app")
		revoked := st.partner(t, "gone")
		st.db.Client.PartnerSource.Update().Where(partnersource.Source("gone")).SetRevokedAt(st.clk.Now()).ExecX(st.sys)
		unknown, _ := credential.New(credential.KindPartnerKey)
		before := st.users(t)

		for name, key := range map[string]string{
			"malformed": "kpk_not-a-key", "unknown": unknown, "revoked": revoked, "empty": " ", "another kind": mustToken(credential.KindUserToken),
		} {
			r := st.ingest(t, key, body("eve-"+name+"@example.com", ""))
			if r.status != 401 || r.json["error"] != "invalid_partner_key" {
				t.Fatalf("%s key: %d %s; want 401 invalid_partner_key (no fallback)", name, r.status, r.body)
			}
		}
		// A key authenticates only its own source, and says so without naming it.
		r := st.ingest(t, acme, body("eve@example.com", "other-app"))
		if r.status != 401 || r.json["error"] != "partner_source_mismatch" || strings.Contains(r.body, "acme-bank") {
			t.Fatalf("another source's body with acme's key: %d %s", r.status, r.body)
		}
		if after := st.users(t); after != before || st.db.Client.Subscription.Query().CountX(st.sys) != 0 || st.db.Client.OutboxMessage.Query().CountX(st.sys) != 0 {
			t.Fatalf("refused calls wrote something: users %d→%d", before, after)
		}
		// The key's own source, or none, is accepted.
		for i, src := range []string{"acme-bank", ""} {
			if r := st.ingest(t, acme, body("ok"+strconv.Itoa(i)+"@example.com", src)); r.status != 200 {
				t.Fatalf("acme's key with source %q: %d %s", src, r.status, r.body)
			}
		}
	})
}

func TestGuestIngestValidation(t *testing.T) {
	st := fresh(t, storetest.Backends(t)[0], nil)
	key := st.partner(t, "acme-bank")
	tests := []struct{ body, field string }{
		{`[]`, ""},
		{`{"subscriptions": [` + netflix + `]}`, "email"},
		{body("not-an-email", ""), "email"},
		{`{"email": "a@example.com", "subscriptions": []}`, "subscriptions"},
		{`{"email": "a@example.com", "subscriptions": [` + strings.Repeat(netflix+",", 100) + netflix + `]}`, "subscriptions"},
		{body("a@example.com", "", netflix, netflix, `{"name": "X", "amount": "15"}`), "subscriptions[2].amount"},
		{body("a@example.com", "", `{"name": "X", "amount": -1}`), "subscriptions[0].amount"},
		{body("a@example.com", "", `{"name": "X", "amount": 100000.01}`), "subscriptions[0].amount"},
		{body("a@example.com", "", `{"amount": 1}`), "subscriptions[0].name"},
		{body("a@example.com", "", `{"name": "`+strings.Repeat("n", 201)+`", "amount": 1}`), "subscriptions[0].name"},
		{body("a@example.com", "", `{"name": "X", "amount": 1, "bill_date": 32}`), "subscriptions[0].bill_date"},
		{body("a@example.com", "", `{"name": "X", "amount": 1, "bill_date": 1.5}`), "subscriptions[0].bill_date"},
		{body("a@example.com", "", `{"name": "X", "amount": 1, "bill_date": "`+strings.Repeat("x", 65)+`"}`), "subscriptions[0].bill_date"},
		{body("a@example.com", "", `{"name": "X", "amount": 1, "trial_end_date": "2026-02-30"}`), "subscriptions[0].trial_end_date"},
		{body("a@example.com", "", `{"name": "X", "amount": 1, "trial_end_date": "15/07/2026"}`), "subscriptions[0].trial_end_date"},
		{body("a@example.com", "", `{"name": "X", "amount": 1, "card_network": "diners"}`), "subscriptions[0].card_network"},
		{body("a@example.com", "", `null`), "subscriptions[0]"},
	}
	for _, tt := range tests {
		r := st.ingest(t, key, tt.body)
		if r.status != 400 || r.json["error"] != "invalid_argument" || (tt.field != "" && r.json["field"] != tt.field) || r.json["next"] == "" {
			t.Errorf("body %.80s…: %d %s; want 400 invalid_argument naming %q", tt.body, r.status, r.body, tt.field)
		}
	}
	// Without a key the source is only a label, but it must still be a slug.
	if r := st.ingest(t, "", body("a@example.com", "Bad Source")); r.status != 400 || r.json["field"] != "source" {
		t.Errorf("keyless bad source: %d %s; want 400 naming source", r.status, r.body)
	}
	if n := st.users(t); n != 0 {
		t.Fatalf("invalid bodies created %d users", n)
	}
	// bill_date as text and the optional fields absent are fine.
	if r := st.ingest(t, key, body("ok@example.com", "", `{"name": "Gym", "amount": 30, "bill_date": "every other Friday", "card_network": null}`)); r.status != 200 {
		t.Fatalf("text bill_date: %d %s", r.status, r.body)
	}
}

// A failure after the account exists rolls the whole request back.
func TestGuestIngestIsAtomic(t *testing.T) {
	st := fresh(t, storetest.Backends(t)[0], nil)
	key := st.partner(t, "acme-bank")
	// "!!!" passes the shape checks but names no service: the ingest refuses
	// it after the shadow account and the first subscription were written.
	r := st.ingest(t, key, body("atomic@example.com", "", netflix, `{"name": "!!!", "amount": 1}`))
	if r.status != 400 || r.json["field"] != "subscriptions[1].name" {
		t.Fatalf("failing second subscription: %d %s", r.status, r.body)
	}
	if st.users(t) != 0 || st.db.Client.Subscription.Query().CountX(st.sys) != 0 || st.db.Client.OutboxMessage.Query().CountX(st.sys) != 0 ||
		st.db.Client.UserToken.Query().CountX(st.sys) != 0 {
		t.Fatal("a failed request left rows behind")
	}
}

func TestGuestIngestRateLimits(t *testing.T) {
	st := fresh(t, storetest.Backends(t)[0], func(c *server.Config) {
		c.Limits.PartnerSource = ratelimit.Limit{Name: "partner_source", Rate: 3, Per: time.Hour}
	})
	acme, other := st.partner(t, "acme-bank"), st.partner(t, "other-app")

	// Without a key: 5 per hour per IP, the 6th is 429 with Retry-After.
	for i := range 5 {
		if r := st.ingest(t, "", body("guest"+strconv.Itoa(i)+"@example.com", "some-app")); r.status != 200 {
			t.Fatalf("keyless call %d: %d %s", i+1, r.status, r.body)
		}
	}
	r := st.ingest(t, "", body("guest5@example.com", ""))
	if r.status != 429 || r.json["error"] != "rate_limited" || r.header.Get("Retry-After") == "" {
		t.Fatalf("6th keyless call: %d %v %s; want 429 with Retry-After", r.status, r.header, r.body)
	}
	if n := st.db.Client.User.Query().Where(user.Email("guest5@example.com")).CountX(st.sys); n != 0 {
		t.Fatal("a rate-limited call wrote its user")
	}
	// Keyless emails never name the unverified source; the source is stored as guest:<source>.
	msg := st.db.Client.OutboxMessage.Query().Where(outboxmessage.ToAddress("guest0@example.com")).OnlyX(st.sys)
	if strings.Contains(msg.Subject+msg.TextBody, "some-app") || msg.Subject != "Your subscriptions were added to Kordi" {
		t.Fatalf("keyless email %q:\n%s\nmust not name the claimed source", msg.Subject, msg.TextBody)
	}
	u := st.db.Client.User.Query().Where(user.Email("guest0@example.com")).OnlyX(st.sys)
	if s := st.db.Client.Subscription.Query().Where(subscription.UserID(u.ID)).OnlyX(st.sys); s.Source != "guest:some-app" {
		t.Fatalf("keyless subscription source = %q, want guest:some-app", s.Source)
	}

	// With a key: the source's budget (3 here), separate from the IP's and
	// from other sources'.
	for i := range 3 {
		if r := st.ingest(t, acme, body("p"+strconv.Itoa(i)+"@example.com", "")); r.status != 200 {
			t.Fatalf("keyed call %d: %d %s", i+1, r.status, r.body)
		}
	}
	if r := st.ingest(t, acme, body("p3@example.com", "")); r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Fatalf("4th keyed call: %d %s; want 429 with Retry-After", r.status, r.body)
	}
	if r := st.ingest(t, other, body("q@example.com", "")); r.status != 200 {
		t.Fatalf("another source's budget: %d %s", r.status, r.body)
	}
	// An invalid key is refused before the budget: 401, not 429.
	if r := st.ingest(t, "kpk_x", body("z@example.com", "")); r.status != 401 {
		t.Fatalf("invalid key once the IP budget is spent: %d %s", r.status, r.body)
	}
}

// Two instances sharing Redis share the keyless IP budget.
func TestGuestIngestIPLimitAcrossInstances(t *testing.T) {
	redisURL := os.Getenv("TANDEM_TEST_REDIS_URL")
	if redisURL == "" {
		t.Skip("TANDEM_TEST_REDIS_URL not set")
	}
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	b := storetest.Backends(t)[0]
	dbURL := b.URL(t)
	k := keys.Random()
	clk := &clock{t: time.Now()}
	// A limit name of its own, so earlier runs' budgets in the same Redis do not count.
	limit := ratelimit.Limit{Name: "guest_ip_test_" + nonce(), Rate: 5, Per: time.Hour}
	start := func() *stack {
		return newStack(t, storetest.OpenURL(t, dbURL), k, clk, func(c *server.Config) {
			c.Redis, c.Limiter, c.Limits.GuestIP = rdb, ratelimit.NewRedis(rdb), limit
		})
	}
	a, other := start(), start()
	for i, st := range []*stack{a, a, a, other, other} {
		if r := st.ingest(t, "", body("r"+strconv.Itoa(i)+"@example.com", "")); r.status != 200 {
			t.Fatalf("call %d: %d %s", i+1, r.status, r.body)
		}
	}
	for _, st := range []*stack{a, other} {
		if r := st.ingest(t, "", body("r-over@example.com", "")); r.status != 429 || r.header.Get("Retry-After") == "" {
			t.Fatalf("6th call across instances: %d %s; want 429 with Retry-After", r.status, r.body)
		}
	}
}

var claimLink = regexp.MustCompile(`/claim\?t=([A-Za-z0-9_%-]+)`)

func TestClaimRevokesPartnerTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		st := fresh(t, b, nil)
		key := st.partner(t, "acme-bank")
		r := st.ingest(t, key, body("claim@example.com", "acme-bank"))
		token, _ := r.json["token"].(string)
		if r := st.relayed(t, token); r.status != 200 {
			t.Fatalf("partner token before the claim: %d %s", r.status, r.body)
		}
		msg := st.db.Client.OutboxMessage.Query().Where(outboxmessage.ToAddress("claim@example.com")).OnlyX(st.sys)
		m := claimLink.FindStringSubmatch(msg.TextBody)
		if m == nil {
			t.Fatalf("no claim link in %s", msg.TextBody)
		}
		link, _ := url.QueryUnescape(m[1])

		// Opening the link spends nothing (mail scanners follow links); the button does.
		page := st.do(t, http.MethodGet, "/claim?t="+url.QueryEscape(link), nil, "")
		if page.status != 200 || !strings.Contains(page.body, `name="t"`) || page.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("claim page: %d %s", page.status, page.body)
		}
		form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		if r := st.do(t, http.MethodPost, "/claim", form, "t="+url.QueryEscape(link)); r.status != 200 || !strings.Contains(r.body, "claim@example.com") {
			t.Fatalf("claim: %d %s", r.status, r.body)
		}
		u := st.db.Client.User.Query().Where(user.Email("claim@example.com")).OnlyX(st.sys)
		if u.ClaimedAt == nil || u.EmailVerifiedAt == nil {
			t.Fatalf("claimed user = %+v; want claimed_at and email_verified_at", u)
		}
		// At once on this instance: the cached resolution was forgotten.
		if r := st.relayed(t, token); r.status != 401 {
			t.Fatalf("partner token after the claim: %d %s; want 401", r.status, r.body)
		}
		if r := st.do(t, http.MethodPost, "/claim", form, "t="+url.QueryEscape(link)); r.status != 401 {
			t.Fatalf("claim link used twice: %d", r.status)
		}
		// Claimed, the account works like any: the partner still pushes, without a token.
		r = st.ingest(t, key, body("claim@example.com", ""))
		if r.json["status"] != "existing" || strings.Contains(r.body, "token") {
			t.Fatalf("push after the claim: %s", credential.Scrub(r.body))
		}
	})
}

var tokenLink = regexp.MustCompile(`/token\?t=([A-Za-z0-9_%-]+)`)
var shownToken = regexp.MustCompile(`kordi_[A-Za-z0-9_-]{49}`)

func TestTokenPage(t *testing.T) {
	st := fresh(t, storetest.Backends(t)[0], nil)
	if r := st.do(t, http.MethodGet, "/token", nil, ""); r.status != 200 || !strings.Contains(r.body, `name="email"`) ||
		strings.Contains(r.body, "<script") || strings.Contains(r.body, "https://") {
		t.Fatalf("token page: %d %s; want a self-contained email form", r.status, r.body)
	}
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	if r := st.do(t, http.MethodPost, "/token", form, "email=me%40example.com"); r.status != 200 || !strings.Contains(r.body, "Check your email") {
		t.Fatalf("asking for a link: %d %s", r.status, r.body)
	}
	msg := st.db.Client.OutboxMessage.Query().Where(outboxmessage.ToAddress("me@example.com")).OnlyX(st.sys)
	m := tokenLink.FindStringSubmatch(msg.TextBody)
	if m == nil {
		t.Fatalf("no /token link in %s", msg.TextBody)
	}
	link, _ := url.QueryUnescape(m[1])
	if r := st.do(t, http.MethodGet, "/token?t="+url.QueryEscape(link), nil, ""); r.status != 200 || shownToken.MatchString(r.body) {
		t.Fatalf("opening the link: %d; want a confirm page that mints nothing yet", r.status)
	}
	r := st.do(t, http.MethodPost, "/token", form, "t="+url.QueryEscape(link))
	token := shownToken.FindString(r.body)
	if r.status != 200 || token == "" || !strings.Contains(r.body, st.url+"/mcp") || !strings.Contains(r.body, "kordi-mcp-server") ||
		!strings.Contains(r.body, "Authorization: Bearer "+token) {
		t.Fatalf("minting: %d %s", r.status, r.body)
	}
	row := st.db.Client.UserToken.Query().OnlyX(st.sys)
	if row.SecretHash != credential.Hash(token) || !row.ExpiresAt.Equal(st.clk.Now().Add(90*24*time.Hour)) || row.PartnerSourceID != nil {
		t.Fatalf("stored %+v; want the hash and 90 days", row)
	}
	if r := st.relayed(t, token); r.status != 200 {
		t.Fatalf("the minted token through the relay: %d %s", r.status, r.body)
	}
	if r := st.do(t, http.MethodPost, "/token", form, "t="+url.QueryEscape(link)); r.status != 401 || shownToken.MatchString(r.body) {
		t.Fatalf("the link a second time: %d", r.status)
	}
	// Expiry under the injected clock.
	st.clk.Add(90 * 24 * time.Hour)
	if r := st.relayed(t, token); r.status != 401 || !strings.Contains(r.body, "expired") {
		t.Fatalf("after 90 days: %d %s", r.status, r.body)
	}
}

func TestUserTokensOverGraphQL(t *testing.T) {
	st := fresh(t, storetest.Backends(t)[0], nil)
	u := st.db.Client.User.Create().SetEmail("gq@example.com").SaveX(st.sys)
	session, _, _ := auth.Sessions{Key: st.keys.Session, Now: st.clk.Now}.Sign(u.ID, 0)
	gql := func(bearer, query string, vars map[string]any) response {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		return st.do(t, http.MethodPost, "/graphql", map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + bearer}, string(b))
	}
	r := gql(session, `mutation { createUserToken(name: "Claude Desktop") { token userToken { id name expiresAt partnerSourceID } } }`, nil)
	var created struct {
		Data struct {
			CreateUserToken struct {
				Token     string
				UserToken struct{ ID, Name, ExpiresAt string }
			}
		}
	}
	_ = json.Unmarshal([]byte(r.body), &created)
	c := created.Data.CreateUserToken
	if k, err := credential.Parse(c.Token); err != nil || k != credential.KindUserToken || c.UserToken.ExpiresAt != st.clk.Now().Add(90*24*time.Hour).Format(time.RFC3339) {
		t.Fatalf("createUserToken: %s", credential.Scrub(r.body))
	}
	if r := gql(session, `{ myUserTokens(first: 10) { totalCount edges { node { id name } } } }`, nil); !strings.Contains(r.body, c.UserToken.ID) || strings.Contains(r.body, "errors") {
		t.Fatalf("myUserTokens: %s", r.body)
	}
	// A token cannot mint tokens, even through the relay.
	b, _ := json.Marshal(map[string]any{"query": `mutation { createUserToken(name: "x") { token } }`, "variables": map[string]any{"n": nonce()}})
	req, _ := http.NewRequest(http.MethodPost, st.url+"/graphql", strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.Token)
	relay.Signer{Secret: st.keys.RelaySecrets[0], Now: st.clk.Now}.SignRequest(req, b)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(raw), "FORBIDDEN") || strings.Contains(string(raw), "kordi_") {
		t.Fatalf("a token minting a token: %s", raw)
	}
	if r := gql(session, `mutation($id: ID!) { revokeUserToken(id: $id) { revokedAt } }`, map[string]any{"id": c.UserToken.ID}); strings.Contains(r.body, "errors") {
		t.Fatalf("revokeUserToken: %s", r.body)
	}
	if r := st.relayed(t, c.Token); r.status != 401 {
		t.Fatalf("revoked token: %d %s", r.status, r.body)
	}
	// guestIngest is the shim's alone: a signed-in person cannot provision.
	if r := gql(session, `mutation { guestIngest(input: {email: "x@example.com", subscriptions: [{name: "Netflix", amount: 1}]}) { status token } }`, nil); !strings.Contains(r.body, "FORBIDDEN") {
		t.Fatalf("guestIngest with a session: %s", r.body)
	}
	// Someone else's token is not found.
	other := st.db.Client.User.Create().SetEmail("other@example.com").SaveX(st.sys)
	otherTok, err := partners.CreateUserTokenForEmail(context.Background(), st.db.Client, other.Email, "x", st.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if r := gql(session, `mutation($id: ID!) { revokeUserToken(id: $id) { revokedAt } }`, map[string]any{"id": otherTok.UserToken.ID}); !strings.Contains(r.body, "NOT_FOUND") {
		t.Fatalf("revoking another person's token: %s", r.body)
	}
}

func mustToken(k credential.Kind) string {
	s, _ := credential.New(k)
	return s
}
