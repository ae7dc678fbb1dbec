package ratelimit

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Check applies l to key and never fails: when the Limiter returns an error
// (Redis unreachable), it logs the error and lets the call through with
// Remaining -1 (unknown). Rate limits guard against abuse; refusing every
// call while Redis is down would turn a degraded dependency into an outage.
// The error is logged at most once every 10 seconds, with the number of
// failures not logged since, so an outage does not flood the log.
//
// MCP tools use it directly: when !res.Allowed, return an isError result
// with res.Message().
func Check(ctx context.Context, lim Limiter, l Limit, key string, log *slog.Logger) Result {
	res, err := lim.Allow(ctx, l, key)
	if err == nil {
		return res
	}
	if n, ok := failures.report(time.Now()); ok {
		if log == nil {
			log = slog.Default()
		}
		log.ErrorContext(ctx, "rate limit not enforced: the limiter failed, letting the call through",
			"limit", l.Name, "err", err, "failures_not_logged", n)
	}
	return Result{Allowed: true, Remaining: -1, Limit: l}
}

// failures throttles Check's error log.
var failures failureLog

type failureLog struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

const failureLogEvery = 10 * time.Second

// report counts a failure and says whether to log it, with how many were
// not logged since the last line.
func (f *failureLog) report(now time.Time) (int, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.last.IsZero() && now.Sub(f.last) < failureLogEvery {
		f.suppressed++
		return 0, false
	}
	n := f.suppressed
	f.last, f.suppressed = now, 0
	return n, true
}

// Enforce applies l to key for an HTTP request (failing open like [Check]).
// It sets the rate-limit headers on w; when the call is refused it answers
// 429 with [TooMany] and returns false, and the handler must stop. Call it
// before the handler writes anything.
func Enforce(w http.ResponseWriter, r *http.Request, lim Limiter, l Limit, key string, log *slog.Logger) bool {
	res := Check(r.Context(), lim, l, key, log)
	if !res.Allowed {
		TooMany(w, res, "")
		return false
	}
	WriteHeaders(w, res)
	return true
}

// WriteHeaders sets the rate-limit headers of the IETF httpapi draft:
// RateLimit-Limit (Rate), RateLimit-Remaining, RateLimit-Reset (seconds until
// the whole budget is back, rounded up), RateLimit-Policy ("20;w=60"), and,
// on a refused call, Retry-After (whole seconds until one call is allowed,
// rounded up, at least 1). It sets nothing when the result is unknown
// (Remaining -1, see [Check]): better no header than a wrong one.
func WriteHeaders(w http.ResponseWriter, res Result) {
	if res.Remaining < 0 || res.Limit.Rate <= 0 {
		return
	}
	h := w.Header()
	h.Set("RateLimit-Limit", strconv.Itoa(res.Limit.Rate))
	h.Set("RateLimit-Remaining", strconv.Itoa(res.Remaining))
	h.Set("RateLimit-Reset", strconv.Itoa(ceilSeconds(res.ResetAfter)))
	h.Set("RateLimit-Policy", strconv.Itoa(res.Limit.Rate)+";w="+strconv.Itoa(ceilSeconds(res.Limit.Per)))
	if !res.Allowed {
		h.Set("Retry-After", strconv.Itoa(res.RetryAfterSeconds()))
	}
}

// tooManyBody has the shape of graph.PublicError, Tandem's one JSON error
// form ({status, error, message, next}).
type tooManyBody struct {
	Status  int    `json:"status"`
	Error   string `json:"error"`
	Message string `json:"message"`
	Next    string `json:"next"`
}

// TooMany answers a refused call: the rate-limit headers and HTTP 429 with
// {"status":429,"error":"rate_limited","message":…,"next":"Retry after N seconds."}.
// An empty message means [Result.Message].
func TooMany(w http.ResponseWriter, res Result, message string) {
	if message == "" {
		message = res.Message()
	}
	res.Allowed = false
	WriteHeaders(w, res)
	if w.Header().Get("Retry-After") == "" { // Remaining unknown: still say when to come back
		w.Header().Set("Retry-After", strconv.Itoa(res.RetryAfterSeconds()))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	_ = json.NewEncoder(w).Encode(tooManyBody{
		Status:  http.StatusTooManyRequests,
		Error:   "rate_limited",
		Message: message,
		Next:    res.next(),
	})
}

// IPKey is the key for a per-IP limit from a request's remote address
// ("host:port" or a bare IP; pass the client address the server trusts, not
// a client-supplied header). An IPv6 client is keyed by its /64 network,
// because one subscriber usually holds a whole /64 and could otherwise
// rotate addresses to reset its budget; IPv4-mapped IPv6 is keyed as IPv4.
// An unparsable address is returned as given.
func IPKey(remoteAddr string) string {
	host := remoteAddr
	if h, _, err := net.SplitHostPort(remoteAddr); err == nil {
		host = h
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return remoteAddr
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
