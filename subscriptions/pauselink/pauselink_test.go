package pauselink_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/keys"
	"github.com/tandemhq/tandem/subscriptions/pauselink"
)

var start = time.Date(2026, 7, 1, 9, 30, 15, 250_000_000, time.UTC)

func signerAt(k keys.Keys, now *time.Time) pauselink.Signer {
	return pauselink.New(k, "https://kordi.test/", func() time.Time { return *now })
}

func tokenOf(t testing.TB, url string) string {
	t.Helper()
	tok, ok := strings.CutPrefix(url, "https://kordi.test/pause/")
	if !ok {
		t.Fatalf("URL %q is not under https://kordi.test/pause/", url)
	}
	return tok
}

func TestRoundTrip(t *testing.T) {
	now := start
	s := signerAt(keys.Random(), &now)
	url, exp := s.Link("sub_01JABCDEF")
	tok := tokenOf(t, url)
	if !strings.HasPrefix(tok, pauselink.Prefix) {
		t.Errorf("token %q lacks the %s prefix the log scrubber knows", tok, pauselink.Prefix)
	}
	if want := time.Date(2026, 7, 8, 9, 30, 15, 0, time.UTC); !exp.Equal(want) {
		t.Errorf("expires %v, want %v", exp, want)
	}
	id, gotExp, err := s.Verify(tok)
	if err != nil || id != "sub_01JABCDEF" || !gotExp.Equal(exp) {
		t.Fatalf("Verify = %q, %v, %v; want sub_01JABCDEF, %v, nil", id, gotExp, err, exp)
	}
	if s.URL("sub_01JABCDEF") != url {
		t.Errorf("URL and Link disagree at the same instant")
	}
}

func TestExpiresAfterSevenDays(t *testing.T) {
	now := start
	s := signerAt(keys.Random(), &now)
	tok := tokenOf(t, s.URL("sub_1"))

	now = start.Add(pauselink.Validity - time.Second)
	if id, _, err := s.Verify(tok); err != nil || id != "sub_1" {
		t.Fatalf("at 7d-1s: Verify = %q, %v; want valid", id, err)
	}
	now = start.Add(pauselink.Validity + time.Second)
	id, exp, err := s.Verify(tok)
	var expired *pauselink.ExpiredError
	if !errors.As(err, &expired) || !errors.Is(err, pauselink.ErrExpired) || id != "" {
		t.Fatalf("at 7d+1s: Verify = %q, %v; want an ExpiredError and no ID", id, err)
	}
	if !exp.Equal(expired.Expired) || !strings.Contains(expired.Message(), "Wednesday, 8 July 2026") ||
		!strings.Contains(expired.Message(), "ask your assistant for a fresh one") {
		t.Errorf("expired %v, message %q", exp, expired.Message())
	}
	if pauselink.Validity != 7*24*time.Hour {
		t.Errorf("Validity %v, want 7 days", pauselink.Validity)
	}
}

func TestForgeriesRefused(t *testing.T) {
	now := start
	k := keys.Random()
	s := signerAt(k, &now)
	tok := tokenOf(t, s.URL("sub_mine"))
	payload, sig, _ := strings.Cut(strings.TrimPrefix(tok, pauselink.Prefix), ".")
	raw, _ := base64.RawURLEncoding.DecodeString(payload)
	_, unix, _ := strings.Cut(string(raw), "|")
	reencode := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

	// A correct MAC over a payload under a key the server does not hold.
	otherKey := keys.Random().Derive(pauselink.Purpose)
	m := hmac.New(sha256.New, otherKey)
	m.Write([]byte("pause.v1." + payload))
	otherSig := base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	// The relay secret raw, in case someone wired the wrong key.
	m = hmac.New(sha256.New, k.RelaySecrets[0])
	m.Write([]byte("pause.v1." + payload))
	relaySig := base64.RawURLEncoding.EncodeToString(m.Sum(nil))

	cases := map[string]string{
		"changed id":           pauselink.Prefix + reencode("sub_yours|"+unix) + "." + sig,
		"changed expiry":       pauselink.Prefix + reencode("sub_mine|9999999999") + "." + sig,
		"other key":            pauselink.Prefix + payload + "." + otherSig,
		"raw relay secret":     pauselink.Prefix + payload + "." + relaySig,
		"other server":         tokenOf(t, signerAt(keys.Random(), &now).URL("sub_mine")),
		"truncated signature":  tok[:len(tok)-1],
		"truncated payload":    pauselink.Prefix + payload[1:] + "." + sig,
		"no signature":         pauselink.Prefix + payload + ".",
		"no dot":               pauselink.Prefix + payload + sig,
		"no prefix":            strings.TrimPrefix(tok, pauselink.Prefix),
		"two dots":             tok + "." + sig,
		"padded signature":     pauselink.Prefix + payload + "." + sig + "=",
		"garbage":              "kpl_!!!!.????",
		"empty":                "",
		"prefix only":          pauselink.Prefix,
		"overlong":             tok + strings.Repeat("A", 600),
		"signature bit flip":   pauselink.Prefix + payload + "." + flip(sig),
		"other token type MAC": pauselink.Prefix + payload + "." + base64.RawURLEncoding.EncodeToString(make([]byte, 32)),
	}
	for name, forged := range cases {
		t.Run(name, func(t *testing.T) {
			id, _, err := s.Verify(forged)
			if !errors.Is(err, pauselink.ErrInvalid) || id != "" {
				t.Errorf("Verify(%q) = %q, %v; want ErrInvalid", forged, id, err)
			}
		})
	}
}

func flip(sig string) string {
	b, _ := base64.RawURLEncoding.DecodeString(sig)
	b[0] ^= 1
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestRotation(t *testing.T) {
	now := start
	old := keys.Random()
	tok := tokenOf(t, signerAt(old, &now).URL("sub_1"))
	s := signerAt(keys.Random(), &now)
	if _, _, err := s.Verify(tok); !errors.Is(err, pauselink.ErrInvalid) {
		t.Fatalf("a link signed with a retired key verified without Previous: %v", err)
	}
	s.Previous = [][]byte{old.Derive(pauselink.Purpose)}
	if id, _, err := s.Verify(tok); err != nil || id != "sub_1" {
		t.Fatalf("with the old key in Previous: Verify = %q, %v", id, err)
	}
}

func TestSignerWithoutSecret(t *testing.T) {
	var s pauselink.Signer
	if _, _, err := s.Verify("kpl_x.y"); !errors.Is(err, pauselink.ErrInvalid) {
		t.Errorf("a Signer without a secret verified a token: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("URL on a Signer without a secret did not panic")
		}
	}()
	s.URL("sub_1")
}

func FuzzVerify(f *testing.F) {
	now := start
	s := signerAt(keys.Random(), &now)
	f.Add(tokenOf(f, s.URL("sub_1")))
	f.Add("")
	f.Add("kpl_.")
	f.Add("kpl_fA.fA")
	f.Add("kpl_c3ViXzF8MTc4MzUwMzQxNQ." + strings.Repeat("A", 43))
	f.Fuzz(func(t *testing.T, tok string) {
		id, _, err := s.Verify(tok)
		if err == nil && id == "" {
			t.Errorf("Verify(%q) succeeded without a subscription ID", tok)
		}
	})
}

func TestTokenScrubbedFromLogs(t *testing.T) {
	now := start
	url := signerAt(keys.Random(), &now).URL("sub_1")
	tok := tokenOf(t, url)
	payload, sig, _ := strings.Cut(strings.TrimPrefix(tok, pauselink.Prefix), ".")
	line := credential.Scrub(`path=` + url + ` status=200`)
	if strings.Contains(line, payload) || strings.Contains(line, sig) || !strings.Contains(line, "status=200") {
		t.Errorf("scrubbed log line %q still holds the token (or lost the rest)", line)
	}
}
