package relay

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// headerSeeds are the fuzzers' starting points: valid headers and the near
// misses that the table tests cover.
func headerSeeds() []string {
	sig := strings.Repeat("ab", 32)
	return []string{
		"",
		"t=1767225600,v1=" + sig,
		" t = 1767225600 ,\tv1 = " + sig + " ",
		"v1=" + sig + ",t=1767225600",
		"t=1767225600,v1=" + sig + ",v1=" + strings.Repeat("cd", 32),
		"t=1767225600,v1=" + sig + ",v1=" + sig,
		"t=1767225600,t=1767225600,v1=" + sig,
		"t=01767225600,v1=" + sig,
		"t=-1,v1=" + sig,
		"t=1767225600,v1=" + strings.ToUpper(sig),
		"t=1767225600,v1=" + sig[:63],
		"t=1767225600,v1=" + sig + ",v2=x",
		"t=1767225600,,v1=" + sig,
		"t=99999999999999999999,v1=" + sig,
		"t=1767225600;v1=" + sig,
	}
}

// FuzzParseHeader checks that the parser never panics, refuses with one of its
// two sentinels, and that whatever it accepts is well-formed and survives a
// FormatHeader/ParseHeader round trip unchanged.
func FuzzParseHeader(f *testing.F) {
	for _, s := range headerSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		ts, sigs, err := ParseHeader(h)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrMissing) {
				t.Fatalf("error %v is neither ErrMalformed nor ErrMissing", err)
			}
			if ts != 0 || sigs != nil {
				t.Fatalf("refused header returned t=%d and %d sigs", ts, len(sigs))
			}
			// Short inputs can occur in the fixed text by chance ("a").
			if len(h) >= 16 && strings.Contains(err.Error(), h) {
				t.Fatalf("error %q quotes the header", err)
			}
			return
		}
		if len(h) > MaxHeaderLen {
			t.Fatalf("accepted a %d-byte header", len(h))
		}
		if ts <= 0 {
			t.Fatalf("accepted t=%d", ts)
		}
		if len(sigs) == 0 || len(sigs) > MaxSignatures {
			t.Fatalf("accepted %d signatures", len(sigs))
		}
		for i, s := range sigs {
			if len(s) != sha256.Size {
				t.Fatalf("signature %d is %d bytes", i, len(s))
			}
			for _, prev := range sigs[:i] {
				if bytes.Equal(prev, s) {
					t.Fatalf("signature %d repeated", i)
				}
			}
		}
		canonical := FormatHeader(ts, sigs...)
		if len(canonical) > len(h) {
			t.Fatalf("canonical form %q is longer than accepted input %q", canonical, h)
		}
		ts2, sigs2, err := ParseHeader(canonical)
		if err != nil {
			t.Fatalf("canonical form %q refused: %v", canonical, err)
		}
		if ts2 != ts || len(sigs2) != len(sigs) {
			t.Fatalf("round trip changed the header: %q", canonical)
		}
		for i := range sigs {
			if !bytes.Equal(sigs[i], sigs2[i]) {
				t.Fatalf("round trip changed signature %d", i)
			}
		}
		if FormatHeader(ts2, sigs2...) != canonical {
			t.Fatalf("canonical form is not stable: %q", canonical)
		}
	})
}

// oracleSig computes the expected signature independently of message and
// mac, so that a bug in those cannot hide itself.
func oracleSig(secret []byte, t int64, method, target string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	fmt.Fprintf(m, "%d.%s.%s.%x", t, strings.ToUpper(method), target, sha256.Sum256(body))
	return m.Sum(nil)
}

// oracleMethod is an independent spelling of the method rule: an RFC 9110
// token of ASCII characters, without '.'.
func oracleMethod(m string) bool {
	const tchar = "!#$%&'*+-^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	if m == "" {
		return false
	}
	for _, r := range m {
		if !strings.ContainsRune(tchar, r) {
			return false
		}
	}
	return true
}

// FuzzVerify checks two things on every input. A fuzzed header never
// verifies unless it really carries the HMAC of this exact request under the
// secret. And a header the Signer produced for the input verifies exactly
// once, only while in the window and only for a valid method, and stops
// verifying when the body, method or target changes.
func FuzzVerify(f *testing.F) {
	for i, h := range headerSeeds() {
		f.Add(h, "POST", "/api/v1/x?y=z", []byte(`{"id":1}`), int64(i*50-300))
	}
	f.Add("", "get", "", []byte(nil), int64(0))
	f.Add("", "GE.T", "/a.b", []byte("."), int64(301))
	f.Add("", "poſt", "/x", []byte{}, int64(-301))
	f.Fuzz(func(t *testing.T, header, method, target string, body []byte, skewSeconds int64) {
		ctx := context.Background()
		secret := newSecret
		v := newVerifier(fixed(base), oldSecret, secret)

		// A fuzzed header.
		if err := v.Verify(ctx, header, method, target, body); err == nil {
			ts, sigs, perr := ParseHeader(header)
			if perr != nil {
				t.Fatalf("verified a header ParseHeader refuses: %v", perr)
			}
			if !oracleMethod(method) {
				t.Fatalf("verified method %q", method)
			}
			ok := false
			for _, s := range [][]byte{oldSecret, secret} {
				want := oracleSig(s, ts, method, target, body)
				for _, sig := range sigs {
					ok = ok || bytes.Equal(sig, want)
				}
			}
			if !ok {
				t.Fatalf("verified a header that is not correctly signed: %q", header)
			}
		}

		// A correctly signed header, signed up to two windows away.
		skew := time.Duration(skewSeconds%int64(2*Window/time.Second+1)) * time.Second
		h := Signer{Secret: secret, Now: fixed(base.Add(skew))}.Sign(method, target, body)
		v = newVerifier(fixed(base), secret)
		err := v.Verify(ctx, h, method, target, body)
		switch {
		case !oracleMethod(method):
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("method %q: Verify = %v, want ErrMalformed", method, err)
			}
			return
		case skew > Window || skew < -Window:
			if !errors.Is(err, ErrExpired) {
				t.Fatalf("skew %v: Verify = %v, want ErrExpired", skew, err)
			}
			return
		case err != nil:
			t.Fatalf("correctly signed request refused: %v", err)
		}
		if err := v.Verify(ctx, h, method, target, body); !errors.Is(err, ErrReplayed) {
			t.Fatalf("replay: Verify = %v, want ErrReplayed", err)
		}
		for name, tamper := range map[string]func() error{
			"body":   func() error { return v.Verify(ctx, h, method, target, append(bytes.Clone(body), 0)) },
			"target": func() error { return v.Verify(ctx, h, method, target+"/", body) },
			"method": func() error { return v.Verify(ctx, h, method+"X", target, body) },
			"secret": func() error {
				return newVerifier(fixed(base), oldSecret).Verify(ctx, h, method, target, body)
			},
		} {
			if err := tamper(); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("%s tampered: Verify = %v, want ErrBadSignature", name, err)
			}
		}
	})
}
