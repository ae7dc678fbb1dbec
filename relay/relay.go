// Package relay signs and verifies the identity header that the trusted MCP
// relay adds to every request it forwards to the API.
//
// An rk_mcp_ token alone must be useless against the API: a stolen token sent
// straight to the API is refused because it lacks this header, and only the
// relay holds the secret that produces it. The header binds the token-bearing
// request to its method, target, body and time, so a captured request cannot be
// replayed, re-targeted, or given a different body.
//
// The header looks like
//
//	X-Rekomi-MCP-Identity: t=1767225600,v1=5257a869e7ec…
//
// where v1 is the lowercase hex HMAC-SHA256, under a shared secret, of
//
//	{t}.{METHOD}.{target}.{body_sha256_hex}
//
// with these fields:
//
//   - t is the signing time in Unix seconds; the verifier accepts it within
//     ±[Window] of its own clock.
//   - METHOD is the upper-cased request method. It may not contain '.', which
//     keeps the message unambiguous: t has no '.', the body hash is a fixed 64
//     characters at the end, so every field is recoverable and no two distinct
//     requests share a message.
//   - target is the escaped URL path plus "?" and the raw query when a query is
//     present (see [Target]). The query is signed so that swapping
//     ?affiliateId=a for ?affiliateId=b is refused like a path swap would be.
//   - body_sha256_hex is the lowercase hex SHA-256 of the exact body bytes, the
//     hash of the empty string when there is no body.
//
// Replay protection refuses a second request with the same t, method, target
// and body, whoever sends it. Two genuinely separate calls that are identical
// and signed in the same second (say, two parallel GETs of the same list)
// collide too, so the relay should make each forwarded request distinct; a
// random request-id query parameter works, since the query is signed.
//
// The header may carry several v1 values (Stripe-style) and the verifier may
// hold several secrets, so a secret can be rotated without downtime: configure
// the verifier with old and new, switch the relay to the new one, then drop the
// old one from the verifier.
package relay

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	// Header is the name of the request header the relay signs with.
	Header = "X-Rekomi-MCP-Identity"

	// Window is how far a header's timestamp may be from the verifier's clock,
	// in either direction. It bounds how long a captured request stays usable
	// and how long the replay cache must remember it.
	Window = 300 * time.Second

	// MaxHeaderLen caps the header value the parser looks at. A legitimate
	// header with two signatures is about 150 bytes; anything near the cap is an
	// attack or a bug, and refusing it early bounds the parser's work.
	MaxHeaderLen = 1024

	// MaxSignatures is the most v1 values one header may carry. Rotation needs
	// two; a few more leave room for an overlapping emergency rotation.
	MaxSignatures = 4

	// MinSecretLen is the shortest secret the verifier accepts. HMAC with an
	// empty or short key is forgeable or guessable, so a secret that was lost
	// in configuration (an unset environment variable) must not turn into
	// "anyone may sign"; the verifier refuses every request instead.
	MinSecretLen = 32
)

// Errors returned by [Verifier.Verify] and [ParseHeader]. They are wrapped with
// a short reason that never contains the header value or a secret; compare
// with errors.Is.
var (
	// ErrMissing means the request carries no identity header: a direct call
	// that did not come through the relay.
	ErrMissing = errors.New("relay: identity header missing")
	// ErrMalformed means the header, or the method it is checked against, does
	// not have the documented shape.
	ErrMalformed = errors.New("relay: identity header malformed")
	// ErrExpired means the timestamp is more than Window in the past or future.
	ErrExpired = errors.New("relay: identity header outside the time window")
	// ErrBadSignature means no v1 value matches any configured secret.
	ErrBadSignature = errors.New("relay: identity signature does not match")
	// ErrReplayed means this exact signed request was already accepted within
	// the window.
	ErrReplayed = errors.New("relay: identity header replayed")
	// ErrBodyTooLarge means [Verifier.VerifyRequest] refused to read a body
	// larger than its limit.
	ErrBodyTooLarge = errors.New("relay: request body too large")
	// ErrMisconfigured means the verifier cannot check anything safely: it has
	// no secret, a secret shorter than MinSecretLen, or no replay cache. It
	// fails closed rather than accepting requests unprotected.
	ErrMisconfigured = errors.New("relay: verifier misconfigured")
)

// Signer produces identity headers. The relay holds one.
type Signer struct {
	// Secret is the shared HMAC key, at least MinSecretLen bytes of randomness.
	Secret []byte
	// Now is the clock; nil means time.Now. Tests inject a fixed clock.
	Now func() time.Time
}

// Sign returns the header value for a request with the given method, target
// (see [Target]) and exact body bytes.
func (s Signer) Sign(method, target string, body []byte) string {
	t := now(s.Now).Unix()
	return FormatHeader(t, mac(s.Secret, message(t, method, target, body)))
}

// SignRequest sets the identity header on r, an outgoing request whose body
// is exactly body. It signs Target(r.URL), which is what the server will see
// as the request target, so the two sides cannot disagree about the query.
func (s Signer) SignRequest(r *http.Request, body []byte) {
	r.Header.Set(Header, s.Sign(r.Method, Target(r.URL), body))
}

// Target is the string both sides sign for a URL: the escaped path, plus "?"
// and the raw query when the query is not empty. The relay and the API must
// both derive it with this function (from the outgoing request URL and from
// the server's r.URL respectively); any proxy between them that rewrites the
// path or query makes verification fail, which is the safe outcome.
func Target(u *url.URL) string {
	p := u.EscapedPath()
	if u.RawQuery != "" {
		return p + "?" + u.RawQuery
	}
	return p
}

// FormatHeader renders a header value. Sign uses it; it is exported so that
// tests and tools can build headers with several signatures.
func FormatHeader(t int64, sigs ...[]byte) string {
	var b strings.Builder
	b.WriteString("t=")
	b.WriteString(strconv.FormatInt(t, 10))
	for _, s := range sigs {
		b.WriteString(",v1=")
		b.WriteString(hex.EncodeToString(s))
	}
	return b.String()
}

// ParseHeader splits a header value into its timestamp and v1 signatures.
//
// The grammar is a comma-separated list of key=value items, exactly one
// "t=<decimal>" and one to MaxSignatures "v1=<64 lowercase hex>". Spaces and
// tabs around items, keys and values are tolerated. Everything else is
// refused: unknown keys, empty items, a repeated t or v1 value, a timestamp
// with a sign or leading zeros, uppercase or non-hex signatures, wrong lengths,
// and values longer than MaxHeaderLen. Being strict means there is exactly one
// spelling of each accepted header, which keeps the fuzzing oracle simple and
// leaves no room for parser differentials.
func ParseHeader(h string) (t int64, sigs [][]byte, err error) {
	if len(h) > MaxHeaderLen {
		return 0, nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxHeaderLen)
	}
	if trimSpace(h) == "" {
		return 0, nil, ErrMissing
	}
	haveT := false
	for item := range strings.SplitSeq(h, ",") {
		key, value, ok := strings.Cut(item, "=")
		key, value = trimSpace(key), trimSpace(value)
		switch {
		case !ok:
			return 0, nil, fmt.Errorf("%w: item without '='", ErrMalformed)
		case key == "t":
			if haveT {
				return 0, nil, fmt.Errorf("%w: t given more than once", ErrMalformed)
			}
			if t, err = parseTimestamp(value); err != nil {
				return 0, nil, err
			}
			haveT = true
		case key == "v1":
			sig, err := parseSignature(value)
			if err != nil {
				return 0, nil, err
			}
			for _, prev := range sigs {
				if bytes.Equal(prev, sig) {
					return 0, nil, fmt.Errorf("%w: v1 value repeated", ErrMalformed)
				}
			}
			if len(sigs) == MaxSignatures {
				return 0, nil, fmt.Errorf("%w: more than %d v1 values", ErrMalformed, MaxSignatures)
			}
			sigs = append(sigs, sig)
		default:
			return 0, nil, fmt.Errorf("%w: unknown item", ErrMalformed)
		}
	}
	if !haveT {
		return 0, nil, fmt.Errorf("%w: no t", ErrMalformed)
	}
	if len(sigs) == 0 {
		return 0, nil, fmt.Errorf("%w: no v1", ErrMalformed)
	}
	return t, sigs, nil
}

func parseTimestamp(v string) (int64, error) {
	if v == "" || v[0] == '0' {
		return 0, fmt.Errorf("%w: t is empty or has a leading zero", ErrMalformed)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, fmt.Errorf("%w: t is not a decimal number", ErrMalformed)
		}
	}
	t, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: t is out of range", ErrMalformed)
	}
	return t, nil
}

func parseSignature(v string) ([]byte, error) {
	if len(v) != 2*sha256.Size {
		return nil, fmt.Errorf("%w: v1 is not %d hex characters", ErrMalformed, 2*sha256.Size)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return nil, fmt.Errorf("%w: v1 is not lowercase hex", ErrMalformed)
		}
	}
	sig, err := hex.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("%w: v1 is not lowercase hex", ErrMalformed)
	}
	return sig, nil
}

// trimSpace trims only spaces and tabs: the separators a human or a proxy
// might add. Other whitespace is junk and stays, so the item is refused.
func trimSpace(s string) string {
	return strings.Trim(s, " \t")
}

// Verifier checks identity headers. The API holds one.
type Verifier struct {
	// Secrets are the accepted HMAC keys; a header is valid if any of its v1
	// values matches any of them. Keep two only while rotating.
	Secrets [][]byte
	// Now is the clock; nil means time.Now. Tests inject a fixed clock.
	Now func() time.Time
	// Replay remembers accepted signed requests for as long as they could be
	// accepted again. It is required: without it a captured request could be
	// replayed for the whole window. With several API instances it must be
	// shared (see NewRedisReplayCache).
	Replay ReplayCache
}

// Verify checks header against the request's method, target (see [Target])
// and exact body bytes, and records the request so the same header cannot be
// used twice. A nil error means the request came through the relay within the
// window and has not been seen before. Errors wrap one of ErrMissing,
// ErrMalformed, ErrExpired, ErrBadSignature, ErrReplayed or ErrMisconfigured,
// or, when the replay cache cannot be reached, the cache's error: the request
// is refused then too, since accepting it would switch replay protection off
// whenever Redis is down.
//
// Checks run cheapest first and the replay cache is written only once the
// signature is known good, so an unauthenticated caller cannot fill it.
func (v Verifier) Verify(ctx context.Context, header, method, target string, body []byte) error {
	if err := v.check(); err != nil {
		return err
	}
	t, sigs, err := ParseHeader(header)
	if err != nil {
		return err
	}
	// Validate before upper-casing: strings.ToUpper maps some non-ASCII
	// letters to ASCII ones ("ſ" becomes "S"), and a method that only matches
	// after such a mapping is not the method that was signed.
	if !validMethod(method) {
		return fmt.Errorf("%w: method is not an HTTP token without '.'", ErrMalformed)
	}
	method = strings.ToUpper(method)
	now := now(v.Now)
	// Compare whole seconds first: time.Unix overflows for absurd timestamps,
	// and those are expired whatever their sign.
	if d := now.Unix() - t; d > int64(Window/time.Second)+1 || d < -int64(Window/time.Second)-1 {
		return fmt.Errorf("%w: more than %ds off", ErrExpired, int64(Window/time.Second))
	}
	age := now.Sub(time.Unix(t, 0))
	if age > Window {
		return fmt.Errorf("%w: signed %ds ago", ErrExpired, int64(age/time.Second))
	}
	if age < -Window {
		return fmt.Errorf("%w: signed %ds in the future", ErrExpired, int64(-age/time.Second))
	}
	msg := message(t, method, target, body)
	if !matches(v.Secrets, sigs, msg) {
		return ErrBadSignature
	}
	// The key is derived from the signed message rather than from whichever
	// v1 value happened to match: during a rotation the relay may send one
	// signature per secret, and keying on the matched signature would let an
	// attacker replay the same request once per secret by dropping the
	// signature that matched first. Distinct requests have distinct messages;
	// the digest is only ever computed for an authenticated message, so nobody
	// without a secret can plant or probe keys.
	digest := sha256.Sum256([]byte(msg))
	// Keep the key for the rest of the request's lifetime plus one more window,
	// so another API instance whose clock lags ours still finds it.
	ttl := Window - age + Window
	seen, err := v.Replay.Seen(ctx, hex.EncodeToString(digest[:]), ttl)
	if err != nil {
		return fmt.Errorf("relay: replay cache: %w", err)
	}
	if seen {
		return ErrReplayed
	}
	return nil
}

// VerifyRequest verifies r, an incoming request, reading at most maxBody bytes
// of its body. It returns the body and also puts it back on r, so that the
// handler can decode it; the bytes it returns are the bytes that were signed.
// A request with more than one identity header is malformed: picking one would
// let a proxy and this code disagree about which one counts.
func (v Verifier) VerifyRequest(r *http.Request, maxBody int64) ([]byte, error) {
	values := r.Header.Values(Header)
	switch len(values) {
	case 0:
		return nil, ErrMissing
	case 1:
	default:
		return nil, fmt.Errorf("%w: header given more than once", ErrMalformed)
	}
	maxBody = max(maxBody, 0)
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		limit := maxBody
		if limit < math.MaxInt64 {
			limit++ // read one byte more than allowed to tell "exactly max" from "over"
		}
		b, err := io.ReadAll(io.LimitReader(r.Body, limit))
		if err != nil {
			return nil, fmt.Errorf("relay: reading body: %w", err)
		}
		if int64(len(b)) > maxBody {
			return nil, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, maxBody)
		}
		body = b
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	if err := v.Verify(r.Context(), values[0], r.Method, Target(r.URL), body); err != nil {
		return nil, err
	}
	return body, nil
}

func (v Verifier) check() error {
	if len(v.Secrets) == 0 {
		return fmt.Errorf("%w: no secret", ErrMisconfigured)
	}
	for _, s := range v.Secrets {
		if len(s) < MinSecretLen {
			return fmt.Errorf("%w: a secret is shorter than %d bytes", ErrMisconfigured, MinSecretLen)
		}
	}
	if v.Replay == nil {
		return fmt.Errorf("%w: no replay cache", ErrMisconfigured)
	}
	return nil
}

// matches reports whether any signature is the HMAC of msg under any secret.
// Every comparison is constant-time; stopping at the first match only reveals
// that a valid signature was sent, which the sender already knows.
func matches(secrets, sigs [][]byte, msg string) bool {
	for _, secret := range secrets {
		want := mac(secret, msg)
		for _, sig := range sigs {
			if hmac.Equal(want, sig) {
				return true
			}
		}
	}
	return false
}

func message(t int64, method, target string, body []byte) string {
	sum := sha256.Sum256(body)
	return strconv.FormatInt(t, 10) + "." + strings.ToUpper(method) + "." + target + "." + hex.EncodeToString(sum[:])
}

func mac(secret []byte, msg string) []byte {
	m := hmac.New(sha256.New, secret)
	io.WriteString(m, msg)
	return m.Sum(nil)
}

// validMethod reports whether m is a non-empty RFC 9110 token without '.'.
// Excluding '.' is what makes the signed message unambiguous.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func now(clock func() time.Time) time.Time {
	if clock == nil {
		return time.Now()
	}
	return clock()
}
