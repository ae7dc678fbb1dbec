// Package pauselink signs and checks the pause links Kordi hands out: a URL
// that pauses one subscription for 30 days without signing in, valid for 7
// days. kordi_ingest_subscription returns one and every trial reminder email
// carries one.
//
// How to get a Signer (package subscriptions, resolvers): do not build one
// by hand. The server builds it once from its keys, public URL and clock,
//
//	pauselink.New(cfg.Keys, cfg.PublicURL, cfg.Now)
//
// and hands it to the resolvers as graph.Deps.PauseLinks; call
// r.deps.PauseLinks.URL(sub.ID). In a test, pauselink.New(keys.Random(),
// "http://127.0.0.1:8080", clock) gives a working Signer. A Signer without a
// secret panics on URL (a wiring bug, not an input error) and refuses every
// token on Verify.
//
// A token is
//
//	kpl_ + base64url(subscriptionID "|" expiry-unix) + "." + base64url(HMAC-SHA256(key, "pause.v1." + payload))
//
// where payload is the base64url text. The kpl_ prefix is there so the log
// scrubber (package credential) recognises the token in a logged request
// path: a pause link is a bearer capability, like a sign-in link.
package pauselink

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/keys"
)

// Validity is how long a pause link works after it is made.
const Validity = 7 * 24 * time.Hour

// Purpose is the label the signing key is derived under (keys.Keys.Derive).
const Purpose = "tandem/pause-links/v1"

// Prefix starts every token; package credential scrubs it from logs.
const Prefix = credential.PauseLinkPrefix

// Path is the route of the pause page; a link is BaseURL + Path + token.
const Path = "/pause/"

// macContext separates these MACs from any other HMAC under the same key.
const macContext = "pause.v1."

// maxTokenLen bounds the work Verify does on hostile input: a real token is
// about 110 characters (a 30-character ID).
const maxTokenLen = 512

var b64 = base64.RawURLEncoding

// ErrInvalid is a token that was not made by this server: tampered,
// truncated, signed with another key, or not a token at all. The page shows
// it as "not found".
var ErrInvalid = errors.New("pauselink: this pause link is not valid")

// ErrExpired is matched (errors.Is) by every *ExpiredError.
var ErrExpired = errors.New("pauselink: this pause link has expired")

// ExpiredError is a genuine link whose 7 days are over.
type ExpiredError struct {
	Expired time.Time
}

func (e *ExpiredError) Error() string {
	return "pauselink: this pause link expired on " + e.Expired.UTC().Format(time.RFC3339)
}

// Is makes errors.Is(err, ErrExpired) true.
func (e *ExpiredError) Is(target error) bool { return target == ErrExpired }

// Message is what the person reads on the page.
func (e *ExpiredError) Message() string {
	return "This pause link expired on " + e.Expired.UTC().Format("Monday, 2 January 2006 at 15:04 UTC") +
		". Pause links work for 7 days: ask your assistant for a fresh one."
}

// Signer makes and checks pause links.
type Signer struct {
	// Secret signs new links and verifies them; at least 32 bytes.
	Secret []byte
	// Previous are former secrets that still verify (rotation): a link
	// lives 7 days, so keep a retired secret here for 7 days.
	Previous [][]byte
	// BaseURL is where people reach the server (no trailing slash needed).
	BaseURL string
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

// New returns the server's Signer: its key derived from k (never a server
// key raw), links rooted at publicURL, expiry from now (nil: time.Now).
func New(k keys.Keys, publicURL string, now func() time.Time) Signer {
	if publicURL == "" {
		publicURL = "http://127.0.0.1:8080" // the resolvers' default too
	}
	return Signer{Secret: k.Derive(Purpose), BaseURL: publicURL, Now: now}
}

func (s Signer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// URL returns a link that pauses subscriptionID, valid for Validity.
func (s Signer) URL(subscriptionID string) string {
	u, _ := s.Link(subscriptionID)
	return u
}

// Link returns the URL and the moment it stops working.
func (s Signer) Link(subscriptionID string) (url string, expires time.Time) {
	tok, expires := s.Token(subscriptionID)
	return strings.TrimRight(s.BaseURL, "/") + Path + tok, expires
}

// Token returns the bare token (the last path segment of the URL) and its expiry.
func (s Signer) Token(subscriptionID string) (token string, expires time.Time) {
	if len(s.Secret) < 32 {
		panic("pauselink: Signer has no secret; build it with pauselink.New(keys, publicURL, now)")
	}
	if subscriptionID == "" || strings.Contains(subscriptionID, "|") {
		panic(fmt.Sprintf("pauselink: %q is not a subscription ID", subscriptionID))
	}
	expires = time.Unix(s.now().Add(Validity).Unix(), 0).UTC()
	payload := b64.EncodeToString([]byte(subscriptionID + "|" + strconv.FormatInt(expires.Unix(), 10)))
	return Prefix + payload + "." + b64.EncodeToString(mac(s.Secret, payload)), expires
}

// Verify checks token and returns the subscription it pauses and when it
// expires. A forged or malformed token is ErrInvalid; a genuine one past its
// expiry is an *ExpiredError (errors.Is ErrExpired), with expires set and
// no subscription ID.
func (s Signer) Verify(token string) (subscriptionID string, expires time.Time, err error) {
	if len(s.Secret) < 32 || len(token) > maxTokenLen || !strings.HasPrefix(token, Prefix) {
		return "", time.Time{}, ErrInvalid
	}
	payload, sig, ok := strings.Cut(token[len(Prefix):], ".")
	if !ok || payload == "" {
		return "", time.Time{}, ErrInvalid
	}
	got, err := b64.Strict().DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return "", time.Time{}, ErrInvalid
	}
	if !s.signedByUs(payload, got) {
		return "", time.Time{}, ErrInvalid
	}
	raw, err := b64.Strict().DecodeString(payload)
	if err != nil {
		return "", time.Time{}, ErrInvalid
	}
	id, unix, ok := strings.Cut(string(raw), "|")
	if !ok || id == "" {
		return "", time.Time{}, ErrInvalid
	}
	sec, err := strconv.ParseInt(unix, 10, 64)
	if err != nil || sec <= 0 {
		return "", time.Time{}, ErrInvalid
	}
	expires = time.Unix(sec, 0).UTC()
	if !s.now().Before(expires) {
		return "", expires, &ExpiredError{Expired: expires}
	}
	return id, expires, nil
}

// signedByUs compares got with the MAC under every accepted secret, each
// in constant time, and checks them all so timing does not say which matched.
func (s Signer) signedByUs(payload string, got []byte) bool {
	ok := hmac.Equal(mac(s.Secret, payload), got)
	for _, prev := range s.Previous {
		if len(prev) >= 32 && hmac.Equal(mac(prev, payload), got) {
			ok = true
		}
	}
	return ok
}

func mac(secret []byte, payload string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(macContext))
	m.Write([]byte(payload))
	return m.Sum(nil)
}
