package mcpadapter_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/tandemhq/tandem/account"
	"github.com/tandemhq/tandem/ent/auditlogentry"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/keys"
	"github.com/tandemhq/tandem/provision"
	"github.com/tandemhq/tandem/server"
	"github.com/tandemhq/tandem/store"
	"github.com/tandemhq/tandem/store/storetest"
)

// stack is a running Tandem (role all) on a real database, with one
// organization and an MCP token for it.
type stack struct {
	url    string
	db     *store.DB
	keys   keys.Keys
	orgID  string
	userID string
	token  string
}

func newStack(t *testing.T, b storetest.Backend, plan string) *stack {
	t.Helper()
	db := b.Open(t)
	k := keys.Random()
	st := &stack{db: db, keys: k}
	st.url = serve(t, func(url string) server.Config {
		return server.Config{DB: db, Keys: k, PublicURL: url, Logger: quiet}
	})
	org, err := provision.CreateOrg(context.Background(), db.Client, provision.OrgInput{
		Name: "Acme", Slug: "acme", OwnerEmail: "owner@acme.test", Plan: plan})
	if err != nil {
		t.Fatal(err)
	}
	st.orgID, st.userID = org.OrgID, org.OwnerUserID
	st.token = st.mintToken(t, false)
	return st
}

func (st *stack) mintToken(t *testing.T, readOnly bool) string {
	t.Helper()
	res, err := account.New(st.db.Client, account.Options{}).CreateMCPTokenAsSystem(context.Background(), st.orgID,
		account.CreateMCPTokenInput{Name: "test", ReadOnly: readOnly})
	if err != nil {
		t.Fatal(err)
	}
	return res.Token
}

// serve starts a server built by cfg, which is given the server's URL; the
// handler is in place before the first request can arrive.
func serve(t *testing.T, cfg func(url string) server.Config) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	url := "http://" + srv.Listener.Addr().String()
	h, err := server.New(context.Background(), cfg(url))
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = h
	srv.Start()
	t.Cleanup(srv.Close)
	return url
}

// bearerTransport adds the seed's one header to every request, as a client
// configured with the seed's JSON snippet does.
type bearerTransport struct{ token string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// connect opens a session with the official Go SDK client.
func (st *stack) connect(t *testing.T, token string) *sdk.ClientSession {
	t.Helper()
	client := sdk.NewClient(&sdk.Implementation{Name: "tandem-e2e", Version: "1"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	session, err := client.Connect(ctx, &sdk.StreamableClientTransport{
		Endpoint: st.url + "/api/mcp", HTTPClient: &http.Client{Transport: bearerTransport{token}},
		DisableStandaloneSSE: true, MaxRetries: -1,
	}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = session.Close() })
	return session
}

// call runs a tool and returns its structured result, or its error text.
func call(t *testing.T, s *sdk.ClientSession, name string, args map[string]any) (map[string]any, string) {
	t.Helper()
	res, err := s.CallTool(context.Background(), &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: protocol error: %v", name, err)
	}
	text := ""
	if len(res.Content) > 0 {
		if tc, ok := res.Content[0].(*sdk.TextContent); ok {
			text = tc.Text
		}
	}
	if res.IsError {
		return nil, text
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		t.Fatalf("%s: text is not JSON: %v\n%s", name, err, text)
	}
	if res.StructuredContent == nil {
		t.Fatalf("%s: no structured content", name)
	}
	return out, ""
}

func TestMCPServesToolsToTheOfficialClient(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		st := newStack(t, b, "growth")
		s := st.connect(t, st.token)

		tools, err := s.ListTools(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tool := range tools.Tools {
			names = append(names, tool.Name)
			if tool.Annotations == nil || tool.Description == "" || tool.OutputSchema == nil {
				t.Errorf("%s: annotations, description and output schema are required", tool.Name)
			}
		}
		want := slices.Sorted(slices.Values(append(append([]string{}, seedReads...), seedWrites...)))
		if got := slices.Sorted(slices.Values(names)); !slices.Equal(got, want) {
			t.Fatalf("tools/list:\n got  %v\n want the seed's 39: %v", got, want)
		}

		profile, errText := call(t, s, "get_org_profile", nil)
		if errText != "" {
			t.Fatalf("get_org_profile: %s", errText)
		}
		if profile["slug"] != "acme" || profile["planTier"] != "Growth" {
			t.Errorf("get_org_profile = %v", profile)
		}
		// The call is in the audit log, as the MCP token.
		entries, err := st.db.Client.AuditLogEntry.Query().
			Where(auditlogentry.OrgID(st.orgID), auditlogentry.Action("query.get_org_profile")).All(rule.AsSystem(context.Background()))
		if err != nil || len(entries) != 1 || entries[0].ActorType != auditlogentry.ActorTypeMcp || entries[0].TokenID == "" {
			t.Errorf("audit rows = %v (%v), want one mcp row with the token", entries, err)
		}

		// A bad argument is a tool error naming it and its bounds; nothing runs.
		_, errText = call(t, s, "list_campaigns", map[string]any{"take": 500})
		if !strings.Contains(errText, "take must be at most 200") || !strings.Contains(errText, "invalid_argument") {
			t.Errorf("take=500: %s", errText)
		}
		_, errText = call(t, s, "list_campaigns", map[string]any{"bogus": 1})
		if !strings.Contains(errText, "unknown argument bogus") {
			t.Errorf("bogus argument: %s", errText)
		}
		// Arguments that are not an object are refused, never read as {}:
		// this tool would otherwise clear the attribution settings.
		_, errText = call(t, s, "update_attribution_params", nil)
		if errText != "" {
			t.Fatalf("update_attribution_params without arguments: %s", errText)
		}
		res, err := s.CallTool(context.Background(), &sdk.CallToolParams{Name: "update_attribution_params", Arguments: "partner,promo"})
		if err != nil || !res.IsError || !strings.Contains(res.Content[0].(*sdk.TextContent).Text, "must be a JSON object") {
			t.Errorf("string arguments: %v %+v", err, res)
		}
		// null for an optional argument means "not given".
		if _, errText = call(t, s, "list_campaigns", map[string]any{"cursor": nil, "take": 5}); errText != "" {
			t.Errorf("null cursor: %s", errText)
		}
	})
}

// Pages are the seed's {items, nextCursor, hasMore}, and the cursor walks them.
func TestMCPPagesWithCursors(t *testing.T) {
	st := newStack(t, storetest.Backends(t)[0], "growth")
	ctx := rule.AsSystem(context.Background())
	for _, slug := range []string{"one", "two", "three"} {
		if _, err := st.db.Client.Campaign.Create().SetOrgID(st.orgID).SetName(slug).SetSlug(slug).Save(ctx); err != nil {
			t.Fatal(err)
		}
	}
	s := st.connect(t, st.token)
	var seen []string
	cursor := any(nil)
	for page := 0; page < 5; page++ {
		args := map[string]any{"take": 2}
		if cursor != nil {
			args["cursor"] = cursor
		}
		out, errText := call(t, s, "list_campaigns", args)
		if errText != "" {
			t.Fatal(errText)
		}
		for _, it := range out["items"].([]any) {
			seen = append(seen, it.(map[string]any)["slug"].(string))
		}
		if out["hasMore"] != true {
			if out["nextCursor"] != nil {
				t.Errorf("last page has nextCursor %v", out["nextCursor"])
			}
			break
		}
		cursor = out["nextCursor"]
	}
	if want := []string{"three", "two", "one"}; !slices.Equal(seen, want) {
		t.Errorf("paged through %v, want %v", seen, want)
	}
}

func TestMCPEndpointHTTPSurface(t *testing.T) {
	st := newStack(t, storetest.Backends(t)[0], "growth")
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
	if code, body := do("GET", "/api/mcp", nil, ""); code != 200 || !strings.Contains(body, `"stateless":true`) {
		t.Errorf("GET /api/mcp = %d %s", code, body)
	}
	if code, _ := do("GET", "/api/mcp", map[string]string{"Accept": "text/event-stream"}, ""); code != 405 {
		t.Errorf("GET for an event stream = %d, want 405", code)
	}
	if code, _ := do("DELETE", "/api/mcp", nil, ""); code != 405 {
		t.Errorf("DELETE = %d, want 405", code)
	}
	for _, p := range []string{"/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/api/mcp"} {
		if code, body := do("GET", p, nil, ""); code != 404 || !strings.Contains(body, `"error":"not_found"`) {
			t.Errorf("GET %s = %d %s, want a JSON 404", p, code, body)
		}
	}
	list := `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`
	jsonH := map[string]string{"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
	if code, body := do("POST", "/api/mcp", jsonH, list); code != 401 || !strings.Contains(body, `"unauthorized"`) {
		t.Errorf("no token = %d %s, want 401 unauthorized", code, body)
	}
	withOrigin := map[string]string{"Origin": "https://evil.example", "Authorization": "Bearer " + st.token}
	for k, v := range jsonH {
		withOrigin[k] = v
	}
	if code, _ := do("POST", "/api/mcp", withOrigin, list); code != 403 {
		t.Errorf("foreign Origin = %d, want 403", code)
	}
	withOrigin["Origin"] = st.url
	if code, body := do("POST", "/api/mcp", withOrigin, list); code != 200 {
		t.Errorf("own Origin = %d %s, want 200", code, body)
	}
	// A direct call to the API with the token alone is refused.
	direct := map[string]string{"Authorization": "Bearer " + st.token, "Content-Type": "application/json"}
	if code, body := do("POST", "/api/v1/mcp/tools/get_org_profile", direct, `{"arguments":{}}`); code != 401 || !strings.Contains(body, "mcp_relay_required") {
		t.Errorf("direct API call = %d %s, want 401 mcp_relay_required", code, body)
	}
}

// Each supported protocol revision works without a session.
func TestMCPProtocolVersions(t *testing.T) {
	st := newStack(t, storetest.Backends(t)[0], "growth")
	for _, v := range []string{"2025-06-18", "2025-11-25", "2026-07-28"} {
		body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_org_profile","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"` + v + `","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"curl","version":"1"}}}}`
		req, _ := http.NewRequest("POST", st.url+"/api/mcp", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+st.token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("MCP-Protocol-Version", v)
		req.Header.Set("Mcp-Method", "tools/call") // 2026-07-28 routes on these headers
		req.Header.Set("Mcp-Name", "get_org_profile")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), `"slug\":\"acme\"`) {
			t.Errorf("%s: %d %s", v, resp.StatusCode, b)
		}
	}
}

func TestMCPReadOnlyTokenSeesOnlyReads(t *testing.T) {
	st := newStack(t, storetest.Backends(t)[0], "pro")
	s := st.connect(t, st.mintToken(t, true))
	tools, err := s.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range tools.Tools {
		if tool.Annotations == nil || !tool.Annotations.ReadOnlyHint {
			t.Errorf("read-only token sees write tool %s", tool.Name)
		}
	}
	_, errText := call(t, s, "set_home_currency", map[string]any{"homeCurrency": "EUR"})
	if !strings.Contains(errText, "read-only") {
		t.Errorf("read-only token calling a write: %s", errText)
	}
}

// A revoked token stops working (this instance clears its cache at once).
func TestMCPRevokedTokenIsUnauthorized(t *testing.T) {
	st := newStack(t, storetest.Backends(t)[0], "growth")
	token := st.mintToken(t, false)
	s := st.connect(t, token)
	if _, errText := call(t, s, "get_org_profile", nil); errText != "" {
		t.Fatal(errText)
	}
	ctx := rule.AsSystem(context.Background())
	if _, err := st.db.Client.MCPToken.Update().SetRevokedAt(time.Now()).Save(ctx); err != nil {
		t.Fatal(err)
	}
	_, errText := call(t, s, "get_org_profile", nil)
	if !strings.Contains(errText, `"unauthorized"`) || !strings.Contains(errText, `"status":401`) {
		t.Errorf("revoked token: %s", errText)
	}
}

// --role relay forwards signed calls over HTTP to an --role api instance;
// the API verifies them with the same code as in-process calls.
func TestMCPSplitRelayAndAPI(t *testing.T) {
	b := storetest.Backends(t)[0]
	db := b.Open(t)
	k := keys.Random()
	apiURL := serve(t, func(string) server.Config {
		return server.Config{DB: db, Keys: k, Role: server.RoleAPI, Logger: quiet}
	})
	up, _ := url.Parse(apiURL)
	relayURL := serve(t, func(string) server.Config {
		return server.Config{Keys: k, Role: server.RoleRelay, Upstream: up, Logger: quiet}
	})
	// The API instance serves no MCP endpoint of its own.
	if resp, err := http.Get(apiURL + "/api/mcp"); err != nil || resp.StatusCode != 404 {
		t.Errorf("api role GET /api/mcp = %v %v, want 404", resp.StatusCode, err)
	}
	org, err := provision.CreateOrg(context.Background(), db.Client, provision.OrgInput{Name: "Split", Slug: "split", OwnerEmail: "o@split.test", Plan: "growth"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := account.New(db.Client, account.Options{}).CreateMCPTokenAsSystem(context.Background(), org.OrgID, account.CreateMCPTokenInput{Name: "relay"})
	if err != nil {
		t.Fatal(err)
	}
	st := &stack{url: relayURL}
	s := st.connect(t, res.Token)
	out, errText := call(t, s, "get_org_profile", nil)
	if errText != "" || out["slug"] != "split" {
		t.Fatalf("through the relay: %v %s", out, errText)
	}
	// A relay with the wrong secret is refused by the API.
	bad := keys.Random()
	badRelayURL := serve(t, func(string) server.Config {
		return server.Config{Keys: bad, Role: server.RoleRelay, Upstream: up, Logger: quiet}
	})
	s2 := (&stack{url: badRelayURL}).connect(t, res.Token)
	_, errText = call(t, s2, "get_org_profile", nil)
	if !strings.Contains(errText, `"status":401`) {
		t.Errorf("stale relay secret: %s", errText)
	}
}

// quiet drops the servers' request logs, which would bury test output.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))
