package mcpadapter_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/redis/go-redis/v9"

	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/keys"
	"github.com/tandemhq/tandem/partners"
	"github.com/tandemhq/tandem/ratelimit"
	"github.com/tandemhq/tandem/relay"
	"github.com/tandemhq/tandem/server"
	"github.com/tandemhq/tandem/store"
	"github.com/tandemhq/tandem/store/storetest"
)

// kordiStack is a running Tandem (role all) on a real database, serving
// /mcp, with its log captured unscrubbed: a token that reaches the log at
// all shows there.
type kordiStack struct {
	url  string
	db   *store.DB
	keys keys.Keys
	logs *logBuffer
}

type kordiOptions struct {
	limiter ratelimit.Limiter
	limit   ratelimit.Limit
	dbURL   string     // a database another instance uses too; "": a new one
	keys    *keys.Keys // keys another instance uses too; nil: new ones
}

func newKordiStack(t *testing.T, b storetest.Backend, opts kordiOptions) *kordiStack {
	t.Helper()
	if opts.dbURL == "" {
		opts.dbURL = b.URL(t)
	}
	if opts.keys == nil {
		k := keys.Random()
		opts.keys = &k
	}
	db := storetest.OpenURL(t, opts.dbURL)
	st := &kordiStack{db: db, keys: *opts.keys, logs: &logBuffer{}}
	if opts.limit == (ratelimit.Limit{}) {
		// Tests that are not about the limit make more than 20 calls a minute.
		opts.limit = ratelimit.Limit{Name: "mcp_token", Rate: 10_000, Per: time.Minute}
	}
	log := slog.New(slog.NewTextHandler(st.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st.url = serve(t, func(url string) server.Config {
		return server.Config{DB: db, Keys: st.keys, PublicURL: url, Logger: log,
			Limiter: opts.limiter, Limits: server.Limits{MCPToken: opts.limit}}
	})
	return st
}

// person creates a person and mints their kordi_ token, as `tandem user
// token --email` does.
func (st *kordiStack) person(t *testing.T, email string, admin bool) (userID, token string) {
	t.Helper()
	ctx := rule.AsSystem(context.Background())
	u, err := st.db.Client.User.Create().SetEmail(email).SetIsAdmin(admin).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := partners.CreateUserTokenForEmail(ctx, st.db.Client, email, "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return u.ID, tok.Token
}

// connect opens a session at /mcp with the official Go SDK client. rt adds
// the credentials (and whatever else a test sends).
func (st *kordiStack) connect(t *testing.T, endpoint string, rt http.RoundTripper) *sdk.ClientSession {
	t.Helper()
	client := sdk.NewClient(&sdk.Implementation{Name: "kordi-e2e", Version: "1"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	session, err := client.Connect(ctx, &sdk.StreamableClientTransport{
		Endpoint: endpoint, HTTPClient: &http.Client{Transport: rt}, DisableStandaloneSSE: true, MaxRetries: -1,
	}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = session.Close() })
	return session
}

func (st *kordiStack) connectBearer(t *testing.T, token string) *sdk.ClientSession {
	return st.connect(t, st.url+"/mcp", headerTransport{"Authorization": "Bearer " + token})
}

// headerTransport sets its headers on every request.
type headerTransport map[string]string

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h {
		r.Header.Set(k, v)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// logBuffer collects log output from concurrent handlers.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func readPulse(t *testing.T, s *sdk.ClientSession) (map[string]any, error) {
	t.Helper()
	res, err := s.ReadResource(context.Background(), &sdk.ReadResourceParams{URI: "kordi://subscription-pulse"})
	if err != nil {
		return nil, err
	}
	if len(res.Contents) != 1 || res.Contents[0].MIMEType != "application/json" {
		t.Fatalf("pulse contents = %+v", res.Contents)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(res.Contents[0].Text), &out); err != nil {
		t.Fatalf("pulse is not JSON: %v\n%s", err, res.Contents[0].Text)
	}
	return out, nil
}

func TestKordiServesTheSeedsToolsAndResource(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		st := newKordiStack(t, b, kordiOptions{})
		_, token := st.person(t, "ann@example.com", false)
		s := st.connectBearer(t, token)
		if name := s.InitializeResult().ServerInfo.Name; name != "kordi-mcp-server" {
			t.Errorf("server name %q, want kordi-mcp-server", name)
		}
		tools, err := s.ListTools(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tool := range tools.Tools {
			names = append(names, tool.Name)
		}
		if got, want := slices.Sorted(slices.Values(names)), slices.Sorted(slices.Values(kordiSeedTools)); !slices.Equal(got, want) {
			t.Errorf("tools/list:\n got  %v\n want exactly the seed's 7: %v", got, want)
		}
		resources, err := s.ListResources(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(resources.Resources) != 1 || resources.Resources[0].URI != "kordi://subscription-pulse" ||
			!strings.Contains(resources.Resources[0].Description, "once per session") {
			t.Errorf("resources/list = %+v", resources.Resources)
		}
		pulse, err := readPulse(t, s)
		if err != nil || pulse["active_count"] != 0.0 || pulse["health_score"] == nil {
			t.Errorf("pulse of an empty account = %v (%v)", pulse, err)
		}
	})
}

// Every tool through the official client, with valid and invalid arguments.
func TestKordiEveryToolWithValidAndInvalidArguments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		st := newKordiStack(t, b, kordiOptions{})
		_, annToken := st.person(t, "ann@example.com", false)
		_, bobToken := st.person(t, "bob@example.com", false)
		_, adminToken := st.person(t, "ops@example.com", true)
		ann, bob := st.connectBearer(t, annToken), st.connectBearer(t, bobToken)

		trialEnd := time.Now().UTC().AddDate(0, 0, 5).Format(time.DateOnly)
		netflix, errText := call(t, ann, "kordi_ingest_subscription", map[string]any{
			"name": "Netflix", "amount": 15.99, "bill_date": 14, "trial_end_date": trialEnd, "card_network": "visa"})
		if errText != "" {
			t.Fatalf("ingest: %s", errText)
		}
		if netflix["created"] != true || !strings.Contains(netflix["pause_url"].(string), "http") {
			t.Errorf("ingest = %v, want created with a pause link", netflix)
		}
		netflixID := netflix["subscription"].(map[string]any)["id"].(string)
		// Ingesting again dedupes by normalized name and updates the amount.
		again, errText := call(t, ann, "kordi_ingest_subscription", map[string]any{"name": "netflix ", "amount": 17.99, "bill_date": "every other Friday"})
		if errText != "" || again["created"] != false || again["subscription"].(map[string]any)["id"] != netflixID ||
			again["subscription"].(map[string]any)["monthly_amount"] != 17.99 {
			t.Errorf("re-ingest = %v %s, want the same subscription updated", again, errText)
		}
		if _, errText := call(t, ann, "kordi_ingest_subscription", map[string]any{"name": "Spotify", "amount": 11.99, "bill_date": 3}); errText != "" {
			t.Fatal(errText)
		}
		bobs, errText := call(t, bob, "kordi_ingest_subscription", map[string]any{"name": "Hulu", "amount": 7.99})
		if errText != "" {
			t.Fatal(errText)
		}
		bobsID := bobs["subscription"].(map[string]any)["id"].(string)

		for _, c := range []struct {
			name string
			args map[string]any
			want string
		}{
			{"card_network diners", map[string]any{"name": "X", "amount": 1, "card_network": "diners"}, "card_network must be one of visa, mastercard, amex, discover"},
			{"bill_date 32", map[string]any{"name": "X", "amount": 1, "bill_date": 32}, "bill_date must be at most 31"},
			{"bill_date 0", map[string]any{"name": "X", "amount": 1, "bill_date": 0}, "bill_date must be at least 1"},
			{"trial_end_date 2026-13-40", map[string]any{"name": "X", "amount": 1, "trial_end_date": "2026-13-40"}, "trial_end_date must match"},
			{"trial_end_date 2026-02-30", map[string]any{"name": "X", "amount": 1, "trial_end_date": "2026-02-30"}, `trial_end_date must be a real date`},
			{"no amount", map[string]any{"name": "X"}, "missing required argument amount"},
			{"negative amount", map[string]any{"name": "X", "amount": -5}, "amount must be at least 0"},
		} {
			if _, errText := call(t, ann, "kordi_ingest_subscription", c.args); !strings.Contains(errText, c.want) {
				t.Errorf("ingest with %s: got %q, want an error containing %q", c.name, errText, c.want)
			}
		}

		cases := []struct {
			tool    string
			session *sdk.ClientSession
			valid   map[string]any
			check   func(t *testing.T, out map[string]any)
			invalid []map[string]any
			want    []string
		}{
			{"kordi_list_subscriptions", ann, map[string]any{"limit": 10, "include_paused": true}, func(t *testing.T, out map[string]any) {
				items, _ := out["items"].([]any)
				if len(items) != 2 || out["total"] != 2.0 || out["has_more"] != false {
					t.Fatalf("ann's list = %v, want her 2 subscriptions", out)
				}
				for _, it := range items {
					for k := range it.(map[string]any) {
						if strings.Contains(k, "card") {
							t.Errorf("card field %s in the list", k)
						}
					}
				}
				if _, ok := out["truncated"]; ok {
					t.Error("a short list says truncated")
				}
			}, []map[string]any{{"limit": 0}, {"limit": 500}, {"offset": -1}},
				[]string{"limit must be at least 1", "limit must be at most 100", "offset must be at least 0"}},
			{"kordi_analyze_billing_health", ann, nil, has("health_score"), []map[string]any{{"x": 1}}, []string{"unknown argument x"}},
			{"kordi_list_proactive_tasks", ann, map[string]any{"trial_horizon_days": 7}, func(t *testing.T, out map[string]any) {
				items, _ := out["items"].([]any)
				if len(items) != 1 || items[0].(map[string]any)["kind"] != "trial_ending" || items[0].(map[string]any)["days_left"] != 5.0 {
					t.Errorf("tasks = %v, want Netflix's trial ending in 5 days", out)
				}
			}, []map[string]any{{"trial_horizon_days": 0}, {"trial_horizon_days": 31}},
				[]string{"trial_horizon_days must be at least 1", "trial_horizon_days must be at most 30"}},
			{"kordi_get_cancellation_route", ann, map[string]any{"service_id": netflixID}, func(t *testing.T, out map[string]any) {
				if out["service_id"] != netflixID || !strings.HasPrefix(out["url"].(string), "https://") {
					t.Errorf("route = %v", out)
				}
			}, []map[string]any{{"service_id": bobsID}, {}}, []string{"not_found", "missing required argument service_id"}},
			{"kordi_get_top_shows", ann, map[string]any{"limit": 5}, has("items"), []map[string]any{{"limit": 0}, {"limit": 51}},
				[]string{"limit must be at least 1", "limit must be at most 50"}},
			// Analytics: an admin's token reads them; anyone else's is refused.
			{"kordi_get_analytics", st.connectBearer(t, adminToken), nil, func(t *testing.T, out map[string]any) {
				if out["users"] != 3.0 || out["subscriptions"] != 3.0 {
					t.Errorf("analytics = %v, want 3 users and 3 subscriptions", out)
				}
			}, []map[string]any{{"x": 1}}, []string{"unknown argument x"}},
		}
		for _, tc := range cases {
			t.Run(tc.tool, func(t *testing.T) {
				out, errText := call(t, tc.session, tc.tool, tc.valid)
				if errText != "" {
					t.Fatalf("valid call failed: %s", errText)
				}
				tc.check(t, out)
				for i, args := range tc.invalid {
					if _, errText := call(t, tc.session, tc.tool, args); !strings.Contains(errText, tc.want[i]) {
						t.Errorf("%v: got %q, want an error containing %q", args, errText, tc.want[i])
					}
				}
			})
		}
		if _, errText := call(t, ann, "kordi_get_analytics", nil); !strings.Contains(errText, `"status":403`) || !strings.Contains(errText, "admin_required") {
			t.Errorf("analytics for a non-admin: %q, want 403 admin_required", errText)
		}
		// Bob's route request for Ann's subscription is "not found" too, and
		// his list holds only his own.
		if _, errText := call(t, bob, "kordi_get_cancellation_route", map[string]any{"service_id": netflixID}); !strings.Contains(errText, "not_found") {
			t.Errorf("bob asking for ann's route: %q", errText)
		}
		if out, _ := call(t, bob, "kordi_list_subscriptions", nil); len(out["items"].([]any)) != 1 {
			t.Errorf("bob's list = %v", out)
		}
		pulse, err := readPulse(t, ann)
		if err != nil || pulse["active_count"] != 2.0 || len(pulse["tasks"].([]any)) != 1 {
			t.Errorf("ann's pulse = %v (%v)", pulse, err)
		}
	})
}

// The list is cut at 25,000 characters, whole items dropped from the end,
// and says truncated: true.
func TestKordiListTruncatesAt25000Chars(t *testing.T) {
	st := newKordiStack(t, storetest.Backends(t)[0], kordiOptions{})
	_, token := st.person(t, "many@example.com", false)
	s := st.connectBearer(t, token)
	long := strings.Repeat("x", 180)
	for i := range 100 {
		name := long + string(rune('A'+i/26)) + string(rune('a'+i%26))
		if _, errText := call(t, s, "kordi_ingest_subscription", map[string]any{"name": name, "amount": 1, "bill_date": long[:60]}); errText != "" {
			t.Fatal(errText)
		}
	}
	res, err := s.CallTool(context.Background(), &sdk.CallToolParams{Name: "kordi_list_subscriptions", Arguments: map[string]any{"limit": 100}})
	if err != nil || res.IsError {
		t.Fatalf("list: %v %+v", err, res)
	}
	text := res.Content[0].(*sdk.TextContent).Text
	var out map[string]any
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		t.Fatal(err)
	}
	items := out["items"].([]any)
	if n := len([]rune(text)); n > 25_000 || out["truncated"] != true || len(items) == 0 || len(items) >= 100 || out["total"] != 100.0 {
		t.Errorf("100 long subscriptions: %d chars, %d items, truncated=%v, total=%v; want ≤25000 chars, fewer items, truncated", n, len(items), out["truncated"], out["total"])
	}
}

// A client cannot pick whose data it sees: identity headers it sends are
// dropped at the edge, and the API sees only the relay's signed request.
func TestKordiClientIdentityHeadersAreIgnored(t *testing.T) {
	st := newKordiStack(t, storetest.Backends(t)[0], kordiOptions{})
	_, annToken := st.person(t, "ann@example.com", false)
	bobID, bobToken := st.person(t, "bob@example.com", true)
	if _, errText := call(t, st.connectBearer(t, bobToken), "kordi_ingest_subscription", map[string]any{"name": "Hulu", "amount": 7.99}); errText != "" {
		t.Fatal(errText)
	}
	forged := headerTransport{
		"Authorization":   "Bearer " + annToken,
		"X-Kordi-User-Id": bobID, "X-User-Id": bobID, "X-User-Email": "bob@example.com", "X-Forwarded-User": "bob@example.com",
		"X-Tandem-Org": "acme", "X-Tandem-Dev-Org": "acme", "X-Kordi-Admin": "true",
		"X-Rekomi-MCP-Identity": relay.Signer{Secret: st.keys.RelaySecrets[0]}.Sign(http.MethodPost, "/api/v1/kordi/tools/kordi_list_subscriptions", nil),
	}
	s := st.connect(t, st.url+"/mcp", forged)
	out, errText := call(t, s, "kordi_list_subscriptions", nil)
	if errText != "" || len(out["items"].([]any)) != 0 || out["total"] != 0.0 {
		t.Errorf("ann with bob's identity headers sees %v %s, want her own (empty) list", out, errText)
	}
	if _, errText := call(t, s, "kordi_get_analytics", nil); !strings.Contains(errText, "admin_required") {
		t.Errorf("a forged admin header: %q, want admin_required", errText)
	}
}

// The legacy ?token= works, and the token never reaches the log.
func TestKordiLegacyQueryTokenIsNeverLogged(t *testing.T) {
	st := newKordiStack(t, storetest.Backends(t)[0], kordiOptions{})
	_, token := st.person(t, "ann@example.com", false)
	s := st.connect(t, st.url+"/mcp?token="+url.QueryEscape(token), http.DefaultTransport)
	if _, errText := call(t, s, "kordi_ingest_subscription", map[string]any{"name": "Netflix", "amount": 15.99}); errText != "" {
		t.Fatalf("with ?token=: %s", errText)
	}
	if _, err := readPulse(t, s); err != nil {
		t.Fatal(err)
	}
	// A token of the right shape that does not exist, and a malformed one.
	unknown := strings.Replace(token, token[len("kordi_"):len("kordi_")+4], "AAAA", 1)
	resp, err := http.Post(st.url+"/mcp?token="+url.QueryEscape(unknown[:len(unknown)-1]), "application/json",
		strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "tandem user token --email") {
		t.Errorf("malformed ?token= = %d %s, want 401 with the next step", resp.StatusCode, body)
	}
	logs := st.logs.String()
	if !strings.Contains(logs, "path=/mcp") {
		t.Fatalf("the request log did not capture /mcp requests:\n%s", logs)
	}
	for _, secret := range []string{token, token[len("kordi_"):], unknown[len("kordi_") : len(unknown)-1], "token="} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs)
		}
	}
}

// 20 calls per 60 s per token: the 21st is an isError result with a
// back-off message; a resource read over the limit is a JSON-RPC error.
func TestKordiRateLimitPerToken(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	st := newKordiStack(t, storetest.Backends(t)[0], kordiOptions{limiter: ratelimit.NewMemory(clock), limit: ratelimit.MCPToken})
	_, token := st.person(t, "ann@example.com", false)
	_, other := st.person(t, "bob@example.com", false)
	s := st.connectBearer(t, token)
	for i := range 20 {
		if i%5 == 4 {
			if _, err := readPulse(t, s); err != nil {
				t.Fatalf("read %d: %v", i+1, err)
			}
			continue
		}
		if _, errText := call(t, s, "kordi_list_proactive_tasks", nil); errText != "" {
			t.Fatalf("call %d: %s", i+1, errText)
		}
	}
	_, errText := call(t, s, "kordi_list_proactive_tasks", nil)
	if !strings.Contains(errText, "Rate limit reached") || !strings.Contains(errText, "rate_limited") || !strings.Contains(errText, "Retry after 3 seconds") {
		t.Errorf("21st call: %q, want an isError back-off message", errText)
	}
	if _, err := readPulse(t, s); err == nil || !strings.Contains(err.Error(), "Rate limit reached") {
		t.Errorf("resource read over the limit: %v, want a JSON-RPC error with the back-off message", err)
	}
	// tools/list is not a call; another token has its own budget.
	if _, err := s.ListTools(context.Background(), nil); err != nil {
		t.Errorf("tools/list over the limit: %v", err)
	}
	if _, errText := call(t, st.connectBearer(t, other), "kordi_list_proactive_tasks", nil); errText != "" {
		t.Errorf("another token: %s", errText)
	}
	// The budget refills one call every 3 s.
	mu.Lock()
	now = now.Add(3 * time.Second)
	mu.Unlock()
	if _, errText := call(t, s, "kordi_list_proactive_tasks", nil); errText != "" {
		t.Errorf("after 3 s: %s", errText)
	}
	if _, errText := call(t, s, "kordi_list_proactive_tasks", nil); !strings.Contains(errText, "Rate limit reached") {
		t.Errorf("second call after 3 s: %q, want refused", errText)
	}
}

func TestKordiEndpointHTTPSurface(t *testing.T) {
	st := newKordiStack(t, storetest.Backends(t)[0], kordiOptions{})
	_, token := st.person(t, "ann@example.com", false)
	do := func(method, path string, h map[string]string, body string) (int, string) {
		req, _ := http.NewRequest(method, st.url+path, strings.NewReader(body))
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := do("GET", "/mcp", nil, "")
	var blob map[string]any
	_ = json.Unmarshal([]byte(body), &blob)
	if code != 200 || blob["name"] != "kordi-mcp-server" || blob["transport"] != "streamable-http" || blob["endpoint"] != "/mcp" ||
		blob["auth"] != "Authorization: Bearer <token>" || blob["tools"] != 7.0 || blob["resources"] != 1.0 {
		t.Errorf("GET /mcp = %d %s", code, body)
	}
	for _, p := range []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-authorization-server/mcp"} {
		code, body := do("GET", p, nil, "")
		var refusal map[string]string
		_ = json.Unmarshal([]byte(body), &refusal)
		if code != 404 || refusal["error"] != "not_found" || !strings.Contains(refusal["message"], "Bearer <token>") {
			t.Errorf("GET %s = %d %s, want a JSON 404", p, code, body)
		}
	}
	list := `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`
	jsonH := map[string]string{"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
	if code, body := do("POST", "/mcp", jsonH, list); code != 401 || !strings.Contains(body, "tandem user token --email") {
		t.Errorf("no token = %d %s, want 401 with the next step", code, body)
	}
	programs := map[string]string{"Authorization": "Bearer rk_mcp_" + strings.Repeat("A", 49)}
	if code, _ := do("POST", "/mcp", programs, list); code != 401 {
		t.Errorf("an rk_mcp_-looking token on /mcp = %d, want 401", code)
	}
	// The API routes take the token only with the relay's signature.
	direct := map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json"}
	if code, body := do("POST", "/api/v1/kordi/tools/kordi_list_subscriptions", direct, `{"arguments":{}}`); code != 401 || !strings.Contains(body, "mcp_relay_required") {
		t.Errorf("direct API call = %d %s, want 401 mcp_relay_required", code, body)
	}
	// A kordi_ token does not work on /api/mcp.
	if code, _ := do("POST", "/api/mcp", map[string]string{"Authorization": "Bearer " + token}, list); code != 401 {
		t.Errorf("a kordi_ token on /api/mcp = %d, want 401", code)
	}
}

// --role relay serves /mcp too and forwards to an --role api instance.
func TestKordiSplitRelayAndAPI(t *testing.T) {
	db := storetest.Backends(t)[0].Open(t)
	k := keys.Random()
	apiURL := serve(t, func(string) server.Config { return server.Config{DB: db, Keys: k, Role: server.RoleAPI, Logger: quiet} })
	up, _ := url.Parse(apiURL)
	relayURL := serve(t, func(string) server.Config {
		return server.Config{Keys: k, Role: server.RoleRelay, Upstream: up, Logger: quiet}
	})
	st := &kordiStack{url: relayURL, db: db}
	ctx := rule.AsSystem(context.Background())
	if _, err := db.Client.User.Create().SetEmail("split@example.com").Save(ctx); err != nil {
		t.Fatal(err)
	}
	tok, err := partners.CreateUserTokenForEmail(ctx, db.Client, "split@example.com", "relay", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	out, errText := call(t, st.connectBearer(t, tok.Token), "kordi_ingest_subscription", map[string]any{"name": "Netflix", "amount": 15.99})
	if errText != "" || out["created"] != true {
		t.Errorf("through the relay: %v %s", out, errText)
	}
	if n, _ := db.Client.Subscription.Query().Count(ctx); n != 1 {
		t.Errorf("%d subscriptions stored, want 1", n)
	}
}

// Two instances sharing Redis share each token's budget.
func TestKordiRateLimitAcrossInstances(t *testing.T) {
	redisURL := os.Getenv("TANDEM_TEST_REDIS_URL")
	if redisURL == "" {
		t.Skip("TANDEM_TEST_REDIS_URL not set")
	}
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	b := storetest.Backends(t)[0]
	k := keys.Random()
	// A limit name of its own, so earlier runs' budgets in the same Redis do not count.
	limit := ratelimit.MCPToken
	limit.Name = "mcp_token_test_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	opts := kordiOptions{limiter: ratelimit.NewRedis(rdb), limit: limit, dbURL: b.URL(t), keys: &k}
	a, other := newKordiStack(t, b, opts), newKordiStack(t, b, opts)
	_, token := a.person(t, "ann@example.com", false)
	sa, sb := a.connectBearer(t, token), other.connectBearer(t, token)
	for i := range 20 {
		s := sa
		if i%2 == 1 {
			s = sb
		}
		if _, errText := call(t, s, "kordi_list_proactive_tasks", nil); errText != "" {
			t.Fatalf("call %d: %s", i+1, errText)
		}
	}
	for name, s := range map[string]*sdk.ClientSession{"first": sa, "second": sb} {
		if _, errText := call(t, s, "kordi_list_proactive_tasks", nil); !strings.Contains(errText, "Rate limit reached") {
			t.Errorf("21st call on the %s instance: %q, want the back-off message", name, errText)
		}
	}
}
