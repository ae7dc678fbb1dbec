// Package ratelimit is Tandem's one rate-limit mechanism. Every limit the
// products publish (the Subscriptions spec: 20 calls / 60 s per MCP token,
// 1,000 / hour per partner source, 5 / hour per IP without a partner key) is
// a [Limit] applied by a [Limiter] to a key.
//
// Two limiters implement the same algorithm, GCRA (the generic cell rate
// algorithm, a token bucket that stores one timestamp per key):
//
//   - [Memory], in process, for a single instance (the default);
//   - [Redis], shared by every instance (when TANDEM_REDIS_URL is set), atomic
//     in a Lua script that reads Redis's clock, so instances' clocks do not matter.
//
// Semantics, identical in both: a fresh key gets exactly Rate calls at once;
// the next call is refused and [Result.RetryAfter] says when one call will be
// allowed again; the budget then refills evenly, one call every Per/Rate
// (3 s for 20 / 60 s), and is whole again Per after the last call. Because
// refill is continuous, not a fixed window, a client that waits out the burst
// sustains Rate calls per Per; a client that bursts at the start of a window
// and then paces itself can make up to 2×Rate−1 calls in one Per.
//
// Keys are never stored as given: [StorageKey] hashes them (SHA-256), so a
// token used as a key never sits in Redis or in memory as plaintext, and a
// huge key costs no more memory than a short one.
//
// Errors: a Limiter returns backend failures (Redis down) to its caller. The
// HTTP and MCP helpers ([Enforce], [Check]) fail open: they let the call
// through and log the failure, because refusing every call during a Redis
// outage would turn a degraded dependency into a full outage, while the
// limits only protect against abuse.
package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Limit is a published budget: at most Rate calls per Per, per key.
// Name identifies the limit in storage keys, logs and messages
// (lowercase, e.g. "mcp_token"); two limits with different names never share
// a budget even for the same key.
type Limit struct {
	Name string
	Rate int
	Per  time.Duration
}

// The limits the Subscriptions spec publishes ("Rate Limits").
var (
	// MCPToken limits calls to the /mcp endpoint: 20 / 60 s per token.
	// Over it, tools return isError with [Result.Message].
	MCPToken = Limit{Name: "mcp_token", Rate: 20, Per: 60 * time.Second}
	// PartnerSource limits guest-ingest with a valid x-partner-key:
	// 1,000 / hour per partner source (key by the source the key is paired
	// with, not by the key text, so rotating a key keeps the budget).
	PartnerSource = Limit{Name: "partner_source", Rate: 1000, Per: time.Hour}
	// GuestIP limits guest-ingest without a partner key: 5 / hour per client
	// IP (key with [IPKey]).
	GuestIP = Limit{Name: "guest_ip", Rate: 5, Per: time.Hour}
)

// ErrInvalidLimit reports a Limit that cannot be enforced (no name, a
// non-positive rate or period, or more than one call per nanosecond).
var ErrInvalidLimit = errors.New("ratelimit: invalid limit")

func (l Limit) validate() error {
	if l.Name == "" || l.Rate <= 0 || l.Per <= 0 || int64(l.Per) < int64(l.Rate) {
		return fmt.Errorf("%w: %+v", ErrInvalidLimit, l)
	}
	return nil
}

// interval is the GCRA emission interval: the time one call's budget takes to
// refill.
func (l Limit) interval() time.Duration { return l.Per / time.Duration(l.Rate) }

// String describes the limit for people: "20 calls per 60 seconds".
func (l Limit) String() string {
	calls := "calls"
	if l.Rate == 1 {
		calls = "call"
	}
	return fmt.Sprintf("%d %s per %s", l.Rate, calls, perText(l.Per))
}

func perText(d time.Duration) string {
	unit := func(n time.Duration, one string) string {
		if n == 1 {
			return one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	switch {
	case d%time.Hour == 0:
		return unit(d/time.Hour, "hour")
	case d%time.Second == 0:
		return unit(d/time.Second, "second")
	}
	return d.String()
}

// Result is a Limiter's answer for one call.
type Result struct {
	// Allowed reports whether the call may proceed; a refused call consumed
	// nothing.
	Allowed bool
	// Remaining is how many more calls would be allowed right now. It is -1
	// when unknown: [Check] let the call through because the backend failed.
	Remaining int
	// RetryAfter is, for a refused call, how long until one call is allowed
	// again; 0 when the call was allowed.
	RetryAfter time.Duration
	// ResetAfter is how long until the key's whole budget (Rate calls) is
	// available again.
	ResetAfter time.Duration
	// Limit is the limit that was applied.
	Limit Limit
}

// RetryAfterSeconds is RetryAfter in whole seconds, rounded up and at least 1
// for a refused call (the HTTP Retry-After value); 0 for an allowed call.
func (r Result) RetryAfterSeconds() int {
	if r.Allowed {
		return 0
	}
	return max(1, ceilSeconds(r.RetryAfter))
}

func ceilSeconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + time.Second - 1) / time.Second)
}

// Message is the back-off sentence for a refused call, for people and
// agents alike (the MCP tools' isError text, the 429 body's message):
// which limit, and when to call again.
func (r Result) Message() string {
	return fmt.Sprintf("Rate limit reached: at most %s (%s). %s", r.Limit, r.Limit.Name, r.next())
}

func (r Result) next() string {
	n := r.RetryAfterSeconds()
	if n == 1 {
		return "Retry after 1 second."
	}
	return fmt.Sprintf("Retry after %d seconds.", n)
}

// Limiter applies a Limit to a key: it counts the call if it is allowed and
// reports the remaining budget either way. It is safe for concurrent use.
// An error means the backend failed and nothing was decided.
type Limiter interface {
	Allow(ctx context.Context, l Limit, key string) (Result, error)
}

// digest is the SHA-256 of a key, truncated to 128 bits: enough that two
// keys never collide in practice, small enough to keep many in memory.
func digest(key string) [16]byte {
	sum := sha256.Sum256([]byte(key))
	return [16]byte(sum[:16])
}

// KeyPrefix starts every key this package stores in Redis.
const KeyPrefix = "tandem:rl:"

// StorageKey is the Redis key holding l's state for key:
// "tandem:rl:<limit name>:<32 hex digits of SHA-256(key)>". The key itself
// (often a secret token) is never stored.
func StorageKey(l Limit, key string) string {
	d := digest(key)
	return KeyPrefix + l.Name + ":" + hex.EncodeToString(d[:])
}
