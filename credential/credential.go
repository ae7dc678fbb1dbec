// Package credential defines the shape of Tandem's secret tokens and keeps
// them out of logs.
//
// A token is a typed prefix, a body and a checksum. The all-zero body gives
//
//	rk_mcp_ AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA 3GHgEk
//	prefix  32 random bytes, base64url without padding  CRC32 of prefix+body, base62
//
// (without the spaces; a test checks this example). The prefix says what a pasted or leaked token is, and
// lets secret scanners match it without false positives. The checksum lets
// [Parse] reject a typo, a truncation or a look-alike before any database
// lookup, so guessing costs an attacker nothing on our side but a string
// check. The checksum is not a secret and not a MAC: it detects accidents;
// the 256 random bits are what make a token unguessable.
//
// The database stores only [Hash] of a token. [Redact], [Scrub] and
// [ScrubbingHandler] keep plaintext out of logs and error reports.
package credential

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"regexp"
	"strings"
)

// Kind is a token type, spelled as its prefix.
type Kind string

// The token kinds. No prefix is a prefix of another, so a token's kind is
// unambiguous.
const (
	// KindMCP is an MCP connection token, sent by AI clients through the
	// relay, never accepted on its own.
	KindMCP Kind = "rk_mcp_"
	// KindAPIKey is a long-lived server-to-server API key.
	KindAPIKey Kind = "rk_live_"
	// KindSigningSecret is the secret a customer's server signs S2S calls with.
	KindSigningSecret Kind = "rks_"
	// KindUserToken is a Subscriptions user token a person mints for
	// themself (the /token page, the dashboard, `tandem user token`): 90 days.
	// Accepted only through the /mcp relay, like rk_mcp_.
	KindUserToken Kind = "kordi_"
	// KindPartnerUserToken is a user token a partner's guest-ingest call
	// provisioned (the seed's clerk_reg_): 30 days, revoked when the person
	// claims the account.
	KindPartnerUserToken Kind = "clerk_reg_"
	// KindPartnerKey is a partner's x-partner-key for /api/guest-ingest,
	// bound to one source.
	KindPartnerKey Kind = "kpk_"
)

// kinds lists every Kind Parse recognises.
var kinds = []Kind{KindMCP, KindAPIKey, KindSigningSecret, KindUserToken, KindPartnerUserToken, KindPartnerKey}

const (
	// BodyBytes is how much randomness a token carries: 256 bits.
	BodyBytes = 32
	// BodyLen is the length of the encoded body: 32 bytes in unpadded base64url.
	BodyLen = 43
	// ChecksumLen is the length of the base62 CRC32 checksum. 62^6 exceeds
	// 2^32, so every CRC32 value fits.
	ChecksumLen = 6
)

var (
	// ErrMalformed means a string is not a well-formed token of a known kind:
	// unknown prefix, wrong length, a character outside the alphabet, or a
	// checksum that does not match. The error never quotes the input.
	ErrMalformed = errors.New("credential: malformed token")
	// ErrUnknownKind means New was asked for a kind that does not exist.
	ErrUnknownKind = errors.New("credential: unknown token kind")
)

// Len returns the length of a token of kind k.
func (k Kind) Len() int { return len(k) + BodyLen + ChecksumLen }

func (k Kind) known() bool {
	for _, known := range kinds {
		if k == known {
			return true
		}
	}
	return false
}

// body is the strict unpadded base64url encoding: decoding refuses padding
// and non-zero trailing bits, so every body has exactly one spelling and a
// look-alike that differs only in the last character's unused bits fails.
var body = base64.RawURLEncoding.Strict()

// New returns a fresh token of kind k. Show it to its owner once and store
// only Hash(token).
func New(k Kind) (string, error) {
	if !k.known() {
		return "", ErrUnknownKind
	}
	var b [BodyBytes]byte
	// crypto/rand.Read never returns an error and never reads short (it
	// crashes the program instead); the check is kept for readers who do not
	// know that.
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("credential: reading randomness: %w", err)
	}
	s := string(k) + body.EncodeToString(b[:])
	return s + checksum(s), nil
}

// Parse checks that s is a well-formed token and returns its kind. It does
// not say whether the token exists or is revoked; that takes a lookup by
// Hash(s). Everything it refuses wraps ErrMalformed.
func Parse(s string) (Kind, error) {
	k, ok := kindOf(s)
	if !ok {
		return "", fmt.Errorf("%w: unknown prefix", ErrMalformed)
	}
	if len(s) != k.Len() {
		return "", fmt.Errorf("%w: %s token is %d characters, not %d", ErrMalformed, k, len(s), k.Len())
	}
	b, sum := s[len(k):len(k)+BodyLen], s[len(k)+BodyLen:]
	// The alphabet is checked by hand because encoding/base64 skips '\r' and
	// '\n' while decoding, which would accept a body padded with line breaks.
	for i := 0; i < len(b); i++ {
		if !isBodyChar(b[i]) {
			return "", fmt.Errorf("%w: body is not base64url", ErrMalformed)
		}
	}
	if raw, err := body.DecodeString(b); err != nil || len(raw) != BodyBytes {
		return "", fmt.Errorf("%w: body is not canonical base64url", ErrMalformed)
	}
	if sum != checksum(s[:len(k)+BodyLen]) {
		return "", fmt.Errorf("%w: checksum mismatch", ErrMalformed)
	}
	return k, nil
}

// Hash is what the database stores and looks tokens up by: lowercase hex
// SHA-256. A fast unsalted hash is enough because a token has 256 random bits;
// there is no dictionary to attack, and a deterministic hash allows an
// indexed lookup.
func Hash(plaintext string) string {
	sum := sha256.Sum256([]byte(plaintext))
	return hex.EncodeToString(sum[:])
}

// Bearer returns the credential of an Authorization header value
// "Bearer <credential>" (the scheme in any case, the credential trimmed of
// spaces); ok is false for any other scheme or a value without one.
func Bearer(authorization string) (credential string, ok bool) {
	scheme, cred, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(cred), true
}

// redactedBody is how many body characters Redact keeps: enough for a person
// to tell two tokens apart in a list, 24 bits, far too few to help guess the
// other 232.
const redactedBody = 4

// Redacted replaces a value that has nothing safe to show.
const Redacted = "REDACTED"

// Redact returns a loggable stand-in for a token: its prefix, at most the
// first four body characters, and "…". A string without a known prefix
// reveals nothing and becomes Redacted.
func Redact(s string) string {
	k, ok := kindOf(s)
	if !ok {
		return Redacted
	}
	rest := s[len(k):]
	n := 0
	for n < len(rest) && n < redactedBody && isBodyChar(rest[n]) {
		n++
	}
	return string(k) + rest[:n] + "…"
}

// Prefixes of the tokens that open an affiliate's own dashboard (package
// enrollment mints them). They are not checksummed credentials, but they
// are secrets, so Scrub removes them too.
const (
	EmbedTokenPrefix   = "rk_emb_"
	WelcomeTokenPrefix = "rk_wlc_"
	// PauseLinkPrefix starts a Kordi pause-link token (package
	// subscriptions/pauselink): payload "." MAC, so its pattern includes '.'.
	PauseLinkPrefix = "kpl_"
)

// secretPattern matches the secrets Scrub removes, leftmost first:
//
//   - a token-looking run: a known prefix followed by body characters, valid
//     or not (a truncated or mistyped token is still mostly secret), and an
//     optional "…" so that scrubbing Redact's output leaves it alone;
//   - a bearer credential: "Bearer" in any case, spaces, and the credential
//     up to whitespace, a quote, a bracket or a separator (so it stops at the
//     end of a JSON string or a printed http.Header);
//   - an identity header value: the name X-Rekomi-MCP-Identity in any case,
//     the ':' or '=' that follows it with optional quotes, spaces and '[', and
//     the value up to the end of the line, a quote or ']';
//   - a bare identity signature "v1=<hex>", for when the header value was
//     logged without its name.
//
// RE2 runs in linear time, so a hostile log line cannot make scrubbing slow.
var secretPattern = regexp.MustCompile(
	`(?:rk_mcp_|rk_live_|rks_|rk_emb_|rk_wlc_|kordi_|clerk_reg_|kpk_)[A-Za-z0-9_-]+(?:…)?` +
		`|kpl_[A-Za-z0-9_.-]+` +
		`|(?i:\bbearer)[ \t]+[^\s"'\[\]{},;<>]+` +
		`|(?i:x-rekomi-mcp-identity)["']?[ \t]*[:=][ \t]*\[?["']?[^\r\n"'\]]*` +
		`|\bv1=[0-9A-Fa-f]{8,}`)

// Scrub returns text with every secret it recognises replaced: tokens become
// their Redact form, bearer credentials that are not tokens and identity
// header values become Redacted. It is for text about to leave the process (log lines,
// error messages, header dumps, error reports). It is idempotent, and it errs
// towards removing too much: "bearer of bad news" loses its "of".
func Scrub(text string) string {
	if !mayContainSecret(text) {
		return text
	}
	return secretPattern.ReplaceAllStringFunc(text, scrubMatch)
}

// mayContainSecret is a cheap pre-check so that the common log line, which
// contains nothing secret, is returned without running the regexp.
func mayContainSecret(text string) bool {
	for i := 0; i+1 < len(text); i++ {
		switch text[i] | 0x20 { // ASCII lower-case
		case 'r': // rk_, rks_
			if text[i+1] == 'k' {
				return true
			}
		case 'k': // kordi_, kpk_, kpl_
			if text[i+1] == 'o' || text[i+1] == 'p' {
				return true
			}
		case 'c': // clerk_reg_
			if text[i+1] == 'l' {
				return true
			}
		case 'b': // bearer
			if text[i+1]|0x20 == 'e' {
				return true
			}
		case 'x': // x-rekomi-mcp-identity
			if text[i+1] == '-' {
				return true
			}
		case 'v': // v1=
			if text[i+1] == '1' {
				return true
			}
		}
	}
	return false
}

func scrubMatch(m string) string {
	if _, ok := kindOf(m); ok {
		return Redact(strings.TrimSuffix(m, "…"))
	}
	for _, p := range []string{EmbedTokenPrefix, WelcomeTokenPrefix, PauseLinkPrefix} {
		if strings.HasPrefix(m, p) {
			return p + Redacted
		}
	}
	switch m[0] | 0x20 {
	case 'b': // Bearer: keep the scheme, replace the credential.
		i := strings.IndexAny(m, " \t")
		scheme, cred := m[:i], strings.TrimLeft(m[i:], " \t")
		return scheme + " " + scrubCredential(cred)
	case 'x': // The identity header: keep the name and separator.
		i := strings.IndexAny(m, ":=")
		sep := m[i:]
		cut := 1 + len(sep[1:]) - len(strings.TrimLeft(sep[1:], " \t[\"'"))
		return m[:i] + sep[:cut] + Redacted
	default: // v1=<hex>
		return "v1=" + Redacted
	}
}

// scrubCredential keeps the Redact form of a token sent as a bearer
// credential, which is useful when debugging, and hides anything else.
func scrubCredential(cred string) string {
	if _, ok := kindOf(cred); ok {
		return Redact(strings.TrimSuffix(cred, "…"))
	}
	return Redacted
}

func kindOf(s string) (Kind, bool) {
	for _, k := range kinds {
		if strings.HasPrefix(s, string(k)) {
			return k, true
		}
	}
	return "", false
}

func isBodyChar(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// checksum is the CRC32 (IEEE) of s in base62, left-padded with '0' to
// ChecksumLen characters.
func checksum(s string) string {
	n := crc32.ChecksumIEEE([]byte(s))
	var out [ChecksumLen]byte
	for i := ChecksumLen - 1; i >= 0; i-- {
		out[i] = base62[n%62]
		n /= 62
	}
	return string(out[:])
}
