package pausepage_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/ent/subscription"
	"github.com/tandemhq/tandem/keys"
	"github.com/tandemhq/tandem/server"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/subscriptions/pauselink"
	"github.com/tandemhq/tandem/subscriptions/pausepage"
)

const publicURL = "https://kordi.test"

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

var start = time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)

func sys() context.Context { return rule.AsSystem(context.Background()) }

type fixture struct {
	client *ent.Client
	clock  *clock
	links  pauselink.Signer
	srv    *httptest.Server
	sub    *ent.Subscription
}

func setup(t *testing.T) *fixture {
	t.Helper()
	db := storetest.SQLite(t)
	c := &clock{now: start}
	links := pauselink.New(keys.Random(), publicURL, c.Now)
	h := pausepage.Handler(pausepage.Config{Client: db.Client, Links: links, Now: c.Now, PublicURL: publicURL})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	u := db.Client.User.Create().SetEmail("ada@example.com").SaveX(sys())
	sub := db.Client.Subscription.Create().SetUserID(u.ID).SetName("Netflix").SetNormalizedName("netflix").
		SetAmountCents(1599).SetCurrency("USD").SetSource("mcp").SaveX(sys())
	return &fixture{client: db.Client, clock: c, links: links, srv: srv, sub: sub}
}

// path returns the page's path for a fresh link to sub.
func (f *fixture) path(t *testing.T, subID string) string {
	t.Helper()
	u, err := url.Parse(f.links.URL(subID))
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

type response struct {
	status int
	header http.Header
	body   string
}

func (f *fixture) do(t *testing.T, method, path string, form url.Values, origin string) response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, f.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	res, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

func tokenOf(path string) string { return strings.TrimPrefix(path, pauselink.Path) }

func (f *fixture) reload(t *testing.T) *ent.Subscription {
	t.Helper()
	return f.client.Subscription.GetX(sys(), f.sub.ID)
}

func TestShowAndPause(t *testing.T) {
	f := setup(t)
	path := f.path(t, f.sub.ID)

	got := f.do(t, http.MethodGet, path, nil, "")
	if got.status != http.StatusOK {
		t.Fatalf("GET: status %d, body %s", got.status, got.body)
	}
	for _, want := range []string{"Netflix", "USD 15.99 a month", "Pause for 30 days", `method="post"`, `name="token" value="` + tokenOf(path) + `"`} {
		if !strings.Contains(got.body, want) {
			t.Errorf("GET page lacks %q:\n%s", want, got.body)
		}
	}
	csp := got.header.Get("Content-Security-Policy")
	if !strings.HasPrefix(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") ||
		got.header.Get("Cache-Control") != "no-store" || got.header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("headers: CSP %q, Cache-Control %q, Referrer-Policy %q", csp, got.header.Get("Cache-Control"), got.header.Get("Referrer-Policy"))
	}
	if strings.Contains(got.body, "<script") || strings.Contains(got.body, "src=") {
		t.Errorf("the page loads something:\n%s", got.body)
	}
	if s := f.reload(t); s.Status != subscription.StatusActive {
		t.Fatalf("GET changed the subscription: %s", s.Status)
	}

	// Same-origin browser POST.
	got = f.do(t, http.MethodPost, path, url.Values{"token": {tokenOf(path)}}, publicURL)
	if got.status != http.StatusOK || !strings.Contains(got.body, "Netflix is paused") || !strings.Contains(got.body, "Friday, 31 July 2026") {
		t.Fatalf("POST: status %d, body %s", got.status, got.body)
	}
	s := f.reload(t)
	if s.Status != subscription.StatusPaused || s.PausedUntil == nil || !s.PausedUntil.Equal(start.Add(pausepage.PauseFor)) {
		t.Fatalf("after POST: status %s, paused_until %v; want paused until %v", s.Status, s.PausedUntil, start.Add(pausepage.PauseFor))
	}

	// A second page view says it is paused and still offers the button.
	got = f.do(t, http.MethodGet, path, nil, "")
	if !strings.Contains(got.body, "Already paused until Friday, 31 July 2026") {
		t.Errorf("GET after pausing:\n%s", got.body)
	}
}

func TestPauseIsIdempotentAndKeepsTheLaterUntil(t *testing.T) {
	f := setup(t)
	later := start.Add(90 * 24 * time.Hour)
	f.client.Subscription.UpdateOneID(f.sub.ID).SetStatus(subscription.StatusPaused).SetPausedUntil(later).ExecX(sys())
	path := f.path(t, f.sub.ID)
	for range 2 {
		// No Origin at all: a non-browser client, or a browser that omits it.
		if got := f.do(t, http.MethodPost, path, url.Values{"token": {tokenOf(path)}}, ""); got.status != http.StatusOK {
			t.Fatalf("POST: status %d, body %s", got.status, got.body)
		}
		if s := f.reload(t); s.Status != subscription.StatusPaused || !s.PausedUntil.Equal(later) {
			t.Fatalf("paused_until %v, want the later %v kept", s.PausedUntil, later)
		}
	}

	// An open-ended pause (no until) is the latest of all: kept.
	f.client.Subscription.UpdateOneID(f.sub.ID).ClearPausedUntil().ExecX(sys())
	if got := f.do(t, http.MethodPost, path, url.Values{"token": {tokenOf(path)}}, ""); got.status != http.StatusOK ||
		!strings.Contains(got.body, "Paused until you resume it") {
		t.Fatalf("POST on an open-ended pause: status %d, body %s", got.status, got.body)
	}
	if s := f.reload(t); s.Status != subscription.StatusPaused || s.PausedUntil != nil {
		t.Fatalf("an open-ended pause became %s until %v", s.Status, s.PausedUntil)
	}

	// An elapsed pause is renewed from now.
	f.client.Subscription.UpdateOneID(f.sub.ID).SetPausedUntil(later).ExecX(sys())
	f.clock.set(start.Add(100 * 24 * time.Hour))
	path = f.path(t, f.sub.ID)
	if got := f.do(t, http.MethodPost, path, url.Values{"token": {tokenOf(path)}}, ""); got.status != http.StatusOK {
		t.Fatalf("POST: status %d", got.status)
	}
	if s := f.reload(t); s.PausedUntil == nil || !s.PausedUntil.Equal(f.clock.Now().Add(pausepage.PauseFor)) {
		t.Fatalf("paused_until %v, want 30 days from the new now", s.PausedUntil)
	}
}

func TestRefusals(t *testing.T) {
	f := setup(t)
	path := f.path(t, f.sub.ID)
	tok := tokenOf(path)
	other := f.client.Subscription.Create().SetUserID(f.sub.UserID).SetName("Hulu").SetNormalizedName("hulu").
		SetAmountCents(799).SetSource("mcp").SaveX(sys())
	otherPath := f.path(t, other.ID)

	cases := []struct {
		name, method, path string
		form               url.Values
		origin             string
		status             int
		says               string
	}{
		{"forged GET", http.MethodGet, pauselink.Path + "kpl_bm9wZQ.AAAA", nil, "", http.StatusNotFound, "does not work"},
		{"tampered GET", http.MethodGet, path[:len(path)-2] + "xx", nil, "", http.StatusNotFound, "does not work"},
		{"forged POST", http.MethodPost, pauselink.Path + "kpl_bm9wZQ.AAAA", url.Values{"token": {"kpl_bm9wZQ.AAAA"}}, "", http.StatusNotFound, "does not work"},
		{"other origin", http.MethodPost, path, url.Values{"token": {tok}}, "https://evil.test", http.StatusForbidden, "refused"},
		{"null origin", http.MethodPost, path, url.Values{"token": {tok}}, "null", http.StatusForbidden, "refused"},
		{"no form token", http.MethodPost, path, url.Values{}, publicURL, http.StatusForbidden, "refused"},
		{"another link's token", http.MethodPost, path, url.Values{"token": {tokenOf(otherPath)}}, publicURL, http.StatusForbidden, "refused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := f.do(t, tc.method, tc.path, tc.form, tc.origin)
			if got.status != tc.status || !strings.Contains(got.body, tc.says) {
				t.Errorf("status %d, want %d; body %s", got.status, tc.status, got.body)
			}
		})
	}
	for _, id := range []string{f.sub.ID, other.ID} {
		if s := f.client.Subscription.GetX(sys(), id); s.Status != subscription.StatusActive {
			t.Errorf("%s was changed by a refused request: %s", id, s.Status)
		}
	}
}

func TestExpiredLink(t *testing.T) {
	f := setup(t)
	path := f.path(t, f.sub.ID)
	f.clock.set(start.Add(pauselink.Validity + time.Second))
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		var form url.Values
		if method == http.MethodPost {
			form = url.Values{"token": {tokenOf(path)}}
		}
		got := f.do(t, method, path, form, "")
		if got.status != http.StatusGone || !strings.Contains(got.body, "expired on Wednesday, 8 July 2026") ||
			!strings.Contains(got.body, "ask your assistant for a fresh one") {
			t.Errorf("%s: status %d, body %s", method, got.status, got.body)
		}
	}
	if s := f.reload(t); s.Status != subscription.StatusActive {
		t.Errorf("an expired link paused the subscription")
	}
}

func TestCancelledAndDeleted(t *testing.T) {
	f := setup(t)
	f.client.Subscription.UpdateOneID(f.sub.ID).SetStatus(subscription.StatusCancelled).SetCancelledAt(start).ExecX(sys())
	path := f.path(t, f.sub.ID)
	got := f.do(t, http.MethodGet, path, nil, "")
	if got.status != http.StatusOK || !strings.Contains(got.body, "nothing to pause") || strings.Contains(got.body, "<form") {
		t.Errorf("GET cancelled: status %d, body %s", got.status, got.body)
	}
	got = f.do(t, http.MethodPost, path, url.Values{"token": {tokenOf(path)}}, "")
	if got.status != http.StatusConflict {
		t.Errorf("POST cancelled: status %d", got.status)
	}
	if s := f.reload(t); s.Status != subscription.StatusCancelled || s.PausedUntil != nil {
		t.Errorf("a cancelled subscription was paused: %s %v", s.Status, s.PausedUntil)
	}

	f.client.Subscription.DeleteOneID(f.sub.ID).ExecX(sys())
	if got := f.do(t, http.MethodGet, path, nil, ""); got.status != http.StatusNotFound {
		t.Errorf("GET deleted: status %d", got.status)
	}
}

// The server mounts the page, and a link signed from the server's keys
// (as the resolvers and the reminder worker sign them) opens it.
func TestServedByServer(t *testing.T) {
	db := storetest.SQLite(t)
	k := keys.Random()
	h, err := server.New(context.Background(), server.Config{DB: db, Keys: k, PublicURL: publicURL,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	u := db.Client.User.Create().SetEmail("ada@example.com").SaveX(sys())
	sub := db.Client.Subscription.Create().SetUserID(u.ID).SetName("Netflix").SetNormalizedName("netflix").
		SetAmountCents(1599).SetSource("mcp").SaveX(sys())
	link := pauselink.New(k, publicURL, nil).URL(sub.ID)
	path := strings.TrimPrefix(link, publicURL)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Pause for 30 days") {
		t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
	}
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(url.Values{"token": {tokenOf(path)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", publicURL)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("POST %s: %d %s", path, rec.Code, rec.Body)
	}
	if s := db.Client.Subscription.GetX(sys(), sub.ID); s.Status != subscription.StatusPaused {
		t.Errorf("after POST through the server: %s", s.Status)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, pauselink.Path+"kpl_x.y", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("forged link through the server: %d", rec.Code)
	}
}
