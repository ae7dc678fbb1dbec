package ratelimit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestEnforceHeadersAnd429(t *testing.T) {
	c := newClock()
	m := NewMemory(c.Now)
	l := Limit{Name: "guest_ip", Rate: 2, Per: time.Hour}
	call := func() *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/api/guest-ingest", nil)
		if Enforce(w, r, m, l, IPKey(r.RemoteAddr), nil) {
			w.WriteHeader(http.StatusOK)
		}
		return w
	}
	w := call()
	want := map[string]string{"RateLimit-Limit": "2", "RateLimit-Remaining": "1", "RateLimit-Reset": "1800", "RateLimit-Policy": "2;w=3600", "Retry-After": ""}
	for h, v := range want {
		if got := w.Header().Get(h); w.Code != http.StatusOK || got != v {
			t.Errorf("first call: %d, %s = %q, want 200 and %q", w.Code, h, got, v)
		}
	}
	call()
	c.Advance(time.Second)
	w = call()
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("third call: %d, want 429", w.Code)
	}
	// Next call allowed 30 min after the first, 1 s has passed: 1799 s.
	want = map[string]string{"RateLimit-Limit": "2", "RateLimit-Remaining": "0", "RateLimit-Reset": "3599", "Retry-After": "1799", "Content-Type": "application/json"}
	for h, v := range want {
		if got := w.Header().Get(h); got != v {
			t.Errorf("refused: %s = %q, want %q", h, got, v)
		}
	}
	var body map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body["status"] != float64(429) || body["error"] != "rate_limited" || body["next"] != "Retry after 1799 seconds." ||
		body["message"] != "Rate limit reached: at most 2 calls per hour (guest_ip). Retry after 1799 seconds." || len(body) != 4 {
		t.Errorf("body = %s", w.Body)
	}
}

func TestTooManyRoundsUp(t *testing.T) {
	for _, tc := range []struct {
		after time.Duration
		want  string
	}{{0, "1"}, {time.Millisecond, "1"}, {time.Second, "1"}, {time.Second + time.Nanosecond, "2"}, {3 * time.Second, "3"}} {
		w := httptest.NewRecorder()
		TooMany(w, Result{RetryAfter: tc.after, ResetAfter: time.Minute, Limit: MCPToken}, "Too many calls with this token.")
		if got := w.Header().Get("Retry-After"); got != tc.want {
			t.Errorf("RetryAfter %v: Retry-After %q, want %q", tc.after, got, tc.want)
		}
		var body tooManyBody
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		if body.Message != "Too many calls with this token." || body.Next != "Retry after "+tc.want+" second"+map[bool]string{true: "", false: "s"}[tc.want == "1"]+"." {
			t.Errorf("body = %s", w.Body)
		}
	}
}

type failing struct{}

func (failing) Allow(context.Context, Limit, string) (Result, error) {
	return Result{}, errors.New("dial tcp 127.0.0.1:6379: connection refused")
}

func TestFailOpen(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	failures = failureLog{}
	for range 3 {
		w := httptest.NewRecorder()
		if !Enforce(w, httptest.NewRequest(http.MethodPost, "/mcp", nil), failing{}, MCPToken, "tok", log) {
			t.Fatal("refused while the limiter fails: want fail-open")
		}
		if h := w.Header().Get("RateLimit-Remaining"); h != "" {
			t.Errorf("RateLimit-Remaining %q on an unknown result", h)
		}
	}
	if n := strings.Count(buf.String(), "rate limit not enforced"); n != 1 {
		t.Errorf("%d log lines for 3 failures within 10 s, want 1:\n%s", n, buf.String())
	}
	if !strings.Contains(buf.String(), "limit=mcp_token") || !strings.Contains(buf.String(), "connection refused") {
		t.Errorf("log line lacks the limit or the error: %s", buf.String())
	}
	n, ok := failures.report(time.Now().Add(failureLogEvery))
	if !ok || n != 2 {
		t.Errorf("after 10 s: report = %d, %v; want 2 not logged, log now", n, ok)
	}
}

func TestIPKey(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.7:1234":           "203.0.113.7",
		"203.0.113.7":                "203.0.113.7",
		"[::ffff:203.0.113.7]:80":    "203.0.113.7",
		"[2001:db8:1:2:3:4:5:6]:443": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1":       "2001:db8:1:2::/64",
		"[fe80::1%eth0]:80":          "fe80::/64",
		"not an address":             "not an address",
	} {
		if got := IPKey(in); got != want {
			t.Errorf("IPKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMessage(t *testing.T) {
	c := newClock()
	m := NewMemory(c.Now)
	res := burst(t, m, MCPToken, "tok")
	if got, want := res.Message(), "Rate limit reached: at most 20 calls per 60 seconds (mcp_token). Retry after 3 seconds."; got != want {
		t.Errorf("Message = %q, want %q", got, want)
	}
}
