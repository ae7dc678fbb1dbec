package relay

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	// Secrets are fixed so that failures reproduce; their values do not matter.
	oldSecret = bytes.Repeat([]byte("o"), MinSecretLen)
	newSecret = bytes.Repeat([]byte("n"), MinSecretLen)
	// base is an arbitrary fixed instant all tests measure from.
	base = time.Unix(1767225600, 0)
)

// clock is a settable clock shared by a signer, a verifier and a cache.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func fixed(t time.Time) func() time.Time { return func() time.Time { return t } }

func newVerifier(now func() time.Time, secrets ...[]byte) Verifier {
	return Verifier{Secrets: secrets, Now: now, Replay: NewMemoryReplayCache(now)}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	tests := []struct {
		name         string
		signMethod   string
		verifyMethod string
		target       string
		body         []byte
	}{
		{"get without body", "GET", "GET", "/api/v1/affiliates", nil},
		{"get with query", "GET", "GET", "/api/v1/affiliates?take=50&cursor=abc", nil},
		{"post json", "POST", "POST", "/api/v1/affiliates/aff_1/approve", []byte(`{"jsonrpc":"2.0","id":7}`)},
		{"method case is normalised", "post", "POST", "/api/v1/x", []byte("x")},
		{"escaped path", "DELETE", "DELETE", "/api/v1/coupons/a%2Fb", nil},
		{"binary body", "PUT", "PUT", "/api/v1/blob", []byte{0, 1, 2, 0xff, '.', '\n'}},
		{"empty target", "GET", "GET", "", nil},
		{"dots in target", "GET", "GET", "/a.b/../c.d?e=.f", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Signer{Secret: newSecret, Now: fixed(base)}
			h := s.Sign(tt.signMethod, tt.target, tt.body)
			if !strings.HasPrefix(h, "t="+strconv.FormatInt(base.Unix(), 10)+",v1=") {
				t.Fatalf("header %q does not start with t=%d,v1=", h, base.Unix())
			}
			v := newVerifier(fixed(base), newSecret)
			if err := v.Verify(context.Background(), h, tt.verifyMethod, tt.target, tt.body); err != nil {
				t.Fatalf("Verify: %v", err)
			}
		})
	}
}

// TestSignKnownAnswer pins the message layout so that a change to it, which
// would break every deployed relay, cannot pass unnoticed. The expected value
// was computed independently with
//
//	printf '%s' '1767225600.POST./api/v1/affiliates?take=5.'"$(printf '%s' '{}' | sha256sum | cut -d' ' -f1)" |
//	  openssl dgst -sha256 -hmac nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn
func TestSignKnownAnswer(t *testing.T) {
	const knownAnswer = "5daa3682c128aa8129f99a13508d240b5f8e6fe54bac0767fe3113fe829adc3f"
	s := Signer{Secret: newSecret, Now: fixed(base)}
	got := s.Sign("post", "/api/v1/affiliates?take=5", []byte("{}"))
	want := "t=1767225600,v1=" + knownAnswer
	if got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}

func TestVerifyRejectsTampering(t *testing.T) {
	const method, target = "POST", "/api/v1/affiliates/aff_1/approve?notify=true"
	body := []byte(`{"reason":"ok"}`)
	h := Signer{Secret: newSecret, Now: fixed(base)}.Sign(method, target, body)

	tests := []struct {
		name   string
		method string
		target string
		body   []byte
	}{
		{"body tampered", method, target, []byte(`{"reason":"ok!"}`)},
		{"body dropped", method, target, nil},
		{"body extended", method, target, append(append([]byte{}, body...), ' ')},
		{"method swap", "PUT", target, body},
		{"method swap to get", "GET", target, body},
		{"path swap", method, "/api/v1/affiliates/aff_2/approve?notify=true", body},
		{"query swap", method, "/api/v1/affiliates/aff_1/approve?notify=false", body},
		{"query dropped", method, "/api/v1/affiliates/aff_1/approve", body},
		{"query added", method, target + "&x=1", body},
		{"empty query marker", method, target + "?", body},
		{"trailing slash", method, "/api/v1/affiliates/aff_1/approve/?notify=true", body},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(fixed(base), newSecret)
			err := v.Verify(context.Background(), h, tt.method, tt.target, tt.body)
			if !errors.Is(err, ErrBadSignature) {
				t.Fatalf("Verify = %v, want ErrBadSignature", err)
			}
		})
	}

	t.Run("signature tampered", func(t *testing.T) {
		_, sigs, err := ParseHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		for i := range sigs[0] {
			sig := append([]byte{}, sigs[0]...)
			sig[i] ^= 1
			v := newVerifier(fixed(base), newSecret)
			err := v.Verify(context.Background(), FormatHeader(base.Unix(), sig), method, target, body)
			if !errors.Is(err, ErrBadSignature) {
				t.Fatalf("byte %d flipped: Verify = %v, want ErrBadSignature", i, err)
			}
		}
	})

	t.Run("timestamp tampered", func(t *testing.T) {
		_, sigs, err := ParseHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		v := newVerifier(fixed(base), newSecret)
		err = v.Verify(context.Background(), FormatHeader(base.Unix()+1, sigs...), method, target, body)
		if !errors.Is(err, ErrBadSignature) {
			t.Fatalf("Verify = %v, want ErrBadSignature", err)
		}
	})
}

func TestVerifyTimeWindow(t *testing.T) {
	tests := []struct {
		name string
		// skew is verifier time minus signing time.
		skew time.Duration
		want error
	}{
		{"same second", 0, nil},
		{"299 s old", 299 * time.Second, nil},
		{"exactly 300 s old", 300 * time.Second, nil},
		{"300 s and 1 ns old", 300*time.Second + 1, ErrExpired},
		{"stale 301 s old", 301 * time.Second, ErrExpired},
		{"a day old", 24 * time.Hour, ErrExpired},
		{"exactly 300 s ahead", -300 * time.Second, nil},
		{"future 301 s ahead", -301 * time.Second, ErrExpired},
		{"a day ahead", -24 * time.Hour, ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Signer{Secret: newSecret, Now: fixed(base)}.Sign("GET", "/x", nil)
			v := newVerifier(fixed(base.Add(tt.skew)), newSecret)
			err := v.Verify(context.Background(), h, "GET", "/x", nil)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}

	t.Run("absurd timestamps", func(t *testing.T) {
		for _, ts := range []int64{1, 1 << 40, 1<<63 - 1} {
			v := newVerifier(fixed(base), newSecret)
			h := FormatHeader(ts, make([]byte, 32))
			if err := v.Verify(context.Background(), h, "GET", "/x", nil); !errors.Is(err, ErrExpired) {
				t.Fatalf("t=%d: Verify = %v, want ErrExpired", ts, err)
			}
		}
	})
}

func TestParseHeader(t *testing.T) {
	sigA := strings.Repeat("ab", 32)
	sigB := strings.Repeat("0f", 32)
	accepted := []struct {
		name   string
		header string
		t      int64
		sigs   []string
	}{
		{"canonical", "t=1767225600,v1=" + sigA, 1767225600, []string{sigA}},
		{"v1 first", "v1=" + sigA + ",t=5", 5, []string{sigA}},
		{"two signatures", "t=5,v1=" + sigA + ",v1=" + sigB, 5, []string{sigA, sigB}},
		{"spaces and tabs", " t = 5 ,\tv1=\t" + sigA + " ", 5, []string{sigA}},
		{"four signatures", "t=5,v1=" + sigA + ",v1=" + sigB + ",v1=" + strings.Repeat("1", 64) + ",v1=" + strings.Repeat("2", 64), 5,
			[]string{sigA, sigB, strings.Repeat("1", 64), strings.Repeat("2", 64)}},
	}
	for _, tt := range accepted {
		t.Run(tt.name, func(t *testing.T) {
			ts, sigs, err := ParseHeader(tt.header)
			if err != nil {
				t.Fatalf("ParseHeader: %v", err)
			}
			if ts != tt.t {
				t.Errorf("t = %d, want %d", ts, tt.t)
			}
			var got []string
			for _, s := range sigs {
				got = append(got, hex.EncodeToString(s))
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.sigs) {
				t.Errorf("sigs = %v, want %v", got, tt.sigs)
			}
		})
	}

	refused := []struct {
		name   string
		header string
		want   error
	}{
		{"empty", "", ErrMissing},
		{"only spaces", "   ", ErrMissing},
		{"no t", "v1=" + sigA, ErrMalformed},
		{"no v1", "t=5", ErrMalformed},
		{"t not a number", "t=abc,v1=" + sigA, ErrMalformed},
		{"t empty", "t=,v1=" + sigA, ErrMalformed},
		{"t negative", "t=-5,v1=" + sigA, ErrMalformed},
		{"t with plus", "t=+5,v1=" + sigA, ErrMalformed},
		{"t leading zero", "t=05,v1=" + sigA, ErrMalformed},
		{"t zero", "t=0,v1=" + sigA, ErrMalformed},
		{"t fractional", "t=5.5,v1=" + sigA, ErrMalformed},
		{"t overflows", "t=99999999999999999999,v1=" + sigA, ErrMalformed},
		{"t space inside", "t=1 5,v1=" + sigA, ErrMalformed},
		{"v1 not hex", "t=5,v1=" + strings.Repeat("zz", 32), ErrMalformed},
		{"v1 uppercase hex", "t=5,v1=" + strings.ToUpper(sigA), ErrMalformed},
		{"v1 too short", "t=5,v1=" + sigA[:62], ErrMalformed},
		{"v1 too long", "t=5,v1=" + sigA + "ab", ErrMalformed},
		{"v1 odd length", "t=5,v1=" + sigA[:63], ErrMalformed},
		{"v1 empty", "t=5,v1=", ErrMalformed},
		{"duplicated t", "t=5,t=5,v1=" + sigA, ErrMalformed},
		{"conflicting t", "t=5,v1=" + sigA + ",t=6", ErrMalformed},
		{"duplicated v1", "t=5,v1=" + sigA + ",v1=" + sigA, ErrMalformed},
		{"five signatures", "t=5" +
			",v1=" + strings.Repeat("1", 64) + ",v1=" + strings.Repeat("2", 64) + ",v1=" + strings.Repeat("3", 64) +
			",v1=" + strings.Repeat("4", 64) + ",v1=" + strings.Repeat("5", 64), ErrMalformed},
		{"unknown key", "t=5,v1=" + sigA + ",v2=" + sigA, ErrMalformed},
		{"v0 key", "t=5,v0=" + sigA + ",v1=" + sigA, ErrMalformed},
		{"uppercase key", "T=5,v1=" + sigA, ErrMalformed},
		{"item without equals", "t=5,v1=" + sigA + ",junk", ErrMalformed},
		{"trailing comma", "t=5,v1=" + sigA + ",", ErrMalformed},
		{"empty item", "t=5,,v1=" + sigA, ErrMalformed},
		{"semicolon separator", "t=5;v1=" + sigA, ErrMalformed},
		{"newline", "t=5,\nv1=" + sigA, ErrMalformed},
		{"nul byte", "t=5,v1=" + sigA + "\x00", ErrMalformed},
		{"overly long", "t=5,v1=" + sigA + strings.Repeat(" ", MaxHeaderLen), ErrMalformed},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			ts, sigs, err := ParseHeader(tt.header)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParseHeader = (%d, %d sigs, %v), want %v", ts, len(sigs), err, tt.want)
			}
			if ts != 0 || sigs != nil {
				t.Errorf("refused header returned values: t=%d, %d sigs", ts, len(sigs))
			}
			if tt.want == ErrMalformed && errors.Is(err, ErrMissing) {
				t.Errorf("malformed header reported as missing")
			}
		})
	}
}

func TestVerifyMalformedMethod(t *testing.T) {
	for _, method := range []string{"", "GE.T", "GET ", "G\x00T", "GÉT", "poſt"} {
		t.Run(strconv.Quote(method), func(t *testing.T) {
			// Whether signed with this method or with POST, a bad method fails.
			for _, signed := range []string{method, "POST"} {
				h := Signer{Secret: newSecret, Now: fixed(base)}.Sign(signed, "/x", nil)
				v := newVerifier(fixed(base), newSecret)
				if err := v.Verify(context.Background(), h, method, "/x", nil); !errors.Is(err, ErrMalformed) {
					t.Fatalf("signed as %q: Verify = %v, want ErrMalformed", signed, err)
				}
			}
		})
	}
}

func TestRotation(t *testing.T) {
	ctx := context.Background()
	sign := func(secret []byte, body string) string {
		return Signer{Secret: secret, Now: fixed(base)}.Sign("POST", "/api/v1/x", []byte(body))
	}

	t.Run("old secret accepted while both are configured", func(t *testing.T) {
		v := newVerifier(fixed(base), newSecret, oldSecret)
		if err := v.Verify(ctx, sign(oldSecret, "a"), "POST", "/api/v1/x", []byte("a")); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if err := v.Verify(ctx, sign(newSecret, "b"), "POST", "/api/v1/x", []byte("b")); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	})

	t.Run("old secret refused once removed", func(t *testing.T) {
		v := newVerifier(fixed(base), newSecret)
		err := v.Verify(ctx, sign(oldSecret, "a"), "POST", "/api/v1/x", []byte("a"))
		if !errors.Is(err, ErrBadSignature) {
			t.Fatalf("Verify = %v, want ErrBadSignature", err)
		}
	})

	// A relay mid-rotation sends one signature per secret.
	oldSig := mac(oldSecret, message(base.Unix(), "POST", "/api/v1/x", []byte("c")))
	newSig := mac(newSecret, message(base.Unix(), "POST", "/api/v1/x", []byte("c")))

	t.Run("either signature of a dual-signed header matches", func(t *testing.T) {
		for name, secrets := range map[string][][]byte{"old only": {oldSecret}, "new only": {newSecret}} {
			v := newVerifier(fixed(base), secrets...)
			if err := v.Verify(ctx, FormatHeader(base.Unix(), oldSig, newSig), "POST", "/api/v1/x", []byte("c")); err != nil {
				t.Fatalf("%s: Verify: %v", name, err)
			}
		}
	})

	t.Run("dual-signed header cannot be replayed one signature at a time", func(t *testing.T) {
		v := newVerifier(fixed(base), newSecret, oldSecret)
		if err := v.Verify(ctx, FormatHeader(base.Unix(), oldSig, newSig), "POST", "/api/v1/x", []byte("c")); err != nil {
			t.Fatalf("first Verify: %v", err)
		}
		for _, h := range []string{
			FormatHeader(base.Unix(), newSig),
			FormatHeader(base.Unix(), oldSig),
			FormatHeader(base.Unix(), newSig, oldSig),
		} {
			if err := v.Verify(ctx, h, "POST", "/api/v1/x", []byte("c")); !errors.Is(err, ErrReplayed) {
				t.Fatalf("replay Verify = %v, want ErrReplayed", err)
			}
		}
	})
}

func TestReplayMemory(t *testing.T) {
	ctx := context.Background()
	c := newClock(base)
	v := Verifier{Secrets: [][]byte{newSecret}, Now: c.Now, Replay: NewMemoryReplayCache(c.Now)}
	s := Signer{Secret: newSecret, Now: c.Now}

	h := s.Sign("POST", "/api/v1/x", []byte("one"))
	if err := v.Verify(ctx, h, "POST", "/api/v1/x", []byte("one")); err != nil {
		t.Fatalf("first Verify: %v", err)
	}
	if err := v.Verify(ctx, h, "POST", "/api/v1/x", []byte("one")); !errors.Is(err, ErrReplayed) {
		t.Fatalf("second Verify = %v, want ErrReplayed", err)
	}
	c.Set(base.Add(Window))
	if err := v.Verify(ctx, h, "POST", "/api/v1/x", []byte("one")); !errors.Is(err, ErrReplayed) {
		t.Fatalf("Verify at the edge of the window = %v, want ErrReplayed", err)
	}

	// Distinct requests in the same second are not replays of each other.
	c.Set(base)
	for _, body := range []string{"two", "three"} {
		h := s.Sign("POST", "/api/v1/x", []byte(body))
		if err := v.Verify(ctx, h, "POST", "/api/v1/x", []byte(body)); err != nil {
			t.Fatalf("Verify %q: %v", body, err)
		}
	}
	h2 := s.Sign("GET", "/api/v1/x?page=2", nil)
	if err := v.Verify(ctx, h2, "GET", "/api/v1/x?page=2", nil); err != nil {
		t.Fatalf("Verify: %v", err)
	}

	// Identical calls in the same second collide, as documented; a request id
	// in the signed query tells them apart.
	same := s.Sign("GET", "/api/v1/org", nil)
	if err := v.Verify(ctx, same, "GET", "/api/v1/org", nil); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if err := v.Verify(ctx, s.Sign("GET", "/api/v1/org", nil), "GET", "/api/v1/org", nil); !errors.Is(err, ErrReplayed) {
		t.Fatalf("identical call in the same second: Verify = %v, want ErrReplayed", err)
	}
	for _, id := range []string{"1", "2"} {
		target := "/api/v1/org?request_id=" + id
		if err := v.Verify(ctx, s.Sign("GET", target, nil), "GET", target, nil); err != nil {
			t.Fatalf("request id %s: Verify: %v", id, err)
		}
	}

	// Failed verifications must not consume the request: a forged copy sent
	// first cannot lock the genuine one out.
	genuine := s.Sign("POST", "/api/v1/y", []byte("z"))
	if err := v.Verify(ctx, genuine, "POST", "/api/v1/y", []byte("tampered")); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("tampered Verify = %v, want ErrBadSignature", err)
	}
	if err := v.Verify(ctx, genuine, "POST", "/api/v1/y", []byte("z")); err != nil {
		t.Fatalf("genuine Verify after a tampered copy: %v", err)
	}
}

func TestMisconfigured(t *testing.T) {
	h := Signer{Secret: newSecret, Now: fixed(base)}.Sign("GET", "/x", nil)
	cache := NewMemoryReplayCache(fixed(base))
	tests := []struct {
		name string
		v    Verifier
	}{
		{"no secrets", Verifier{Now: fixed(base), Replay: cache}},
		{"empty secret", Verifier{Secrets: [][]byte{{}}, Now: fixed(base), Replay: cache}},
		{"short secret beside a good one", Verifier{Secrets: [][]byte{newSecret, []byte("short")}, Now: fixed(base), Replay: cache}},
		{"no replay cache", Verifier{Secrets: [][]byte{newSecret}, Now: fixed(base)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.v.Verify(context.Background(), h, "GET", "/x", nil); !errors.Is(err, ErrMisconfigured) {
				t.Fatalf("Verify = %v, want ErrMisconfigured", err)
			}
		})
	}

	t.Run("empty secret cannot be used to forge", func(t *testing.T) {
		forged := Signer{Now: fixed(base)}.Sign("GET", "/x", nil)
		v := Verifier{Secrets: [][]byte{nil}, Now: fixed(base), Replay: cache}
		if err := v.Verify(context.Background(), forged, "GET", "/x", nil); err == nil {
			t.Fatal("a header signed with an empty secret was accepted")
		}
	})
}

// TestErrorsDoNotLeak checks that no error message quotes the header, a
// signature or a secret: errors end up in logs and responses.
func TestErrorsDoNotLeak(t *testing.T) {
	ctx := context.Background()
	good := Signer{Secret: newSecret, Now: fixed(base)}.Sign("POST", "/x", []byte("b"))
	_, sigs, _ := ParseHeader(good)
	sigHex := hex.EncodeToString(sigs[0])
	rightSig := hex.EncodeToString(mac(newSecret, message(base.Unix(), "POST", "/x", []byte("other"))))
	headers := []string{
		good,
		good + ",v2=" + sigHex,
		"t=5,v1=" + strings.ToUpper(sigHex),
		"t=abc,v1=" + sigHex,
		"t=" + strconv.FormatInt(base.Unix(), 10) + ",v1=" + sigHex[:60],
		strings.Repeat(good, 20),
	}
	secrets := []string{string(newSecret), hex.EncodeToString(newSecret), string(oldSecret), hex.EncodeToString(oldSecret)}
	for i, h := range headers {
		for _, skew := range []time.Duration{0, time.Hour} {
			v := newVerifier(fixed(base.Add(skew)), oldSecret, newSecret)
			v.Verify(ctx, good, "POST", "/x", []byte("b")) // so that a repeat is a replay
			err := v.Verify(ctx, h, "POST", "/x", []byte("other"))
			if err == nil {
				t.Fatalf("header %d verified", i)
			}
			msg := err.Error()
			for _, secret := range append(secrets, h, sigHex, rightSig, "abc") {
				if strings.Contains(msg, secret) {
					t.Errorf("header %d: error %q quotes sensitive input", i, msg)
				}
			}
		}
	}
}

func TestVerifyRequest(t *testing.T) {
	c := newClock(base)
	v := Verifier{Secrets: [][]byte{newSecret}, Now: c.Now, Replay: NewMemoryReplayCache(c.Now)}
	s := Signer{Secret: newSecret, Now: c.Now}
	const maxBody = 64

	var mu sync.Mutex
	var handlerSaw []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := v.VerifyRequest(r, maxBody)
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, errorName(err))
			return
		}
		again, _ := io.ReadAll(r.Body)
		mu.Lock()
		handlerSaw = append(handlerSaw, string(body)+"|"+string(again))
		mu.Unlock()
		io.WriteString(w, "ok")
	}))
	defer srv.Close()

	send := func(t *testing.T, method, target, body string, sign func(*http.Request, []byte)) string {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, srv.URL+target, rd)
		if err != nil {
			t.Fatal(err)
		}
		sign(req, []byte(body))
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return string(out)
	}
	signed := func(r *http.Request, body []byte) { s.SignRequest(r, body) }

	tests := []struct {
		name   string
		method string
		target string
		body   string
		sign   func(*http.Request, []byte)
		want   string
	}{
		{"post with body", "POST", "/api/v1/affiliates", `{"a":1}`, signed, "ok"},
		{"get with query", "GET", "/api/v1/affiliates?take=50&since=2026-01-01T00%3A00%3A00Z", "", signed, "ok"},
		{"escaped slash in path", "GET", "/api/v1/coupons/a%2Fb", "", signed, "ok"},
		{"body exactly at the limit", "POST", "/x", strings.Repeat("a", maxBody), signed, "ok"},
		{"body over the limit", "POST", "/x", strings.Repeat("a", maxBody+1), signed, "ErrBodyTooLarge"},
		{"missing header", "GET", "/x", "", func(*http.Request, []byte) {}, "ErrMissing"},
		{"header twice", "GET", "/x", "", func(r *http.Request, b []byte) {
			s.SignRequest(r, b)
			r.Header.Add(Header, r.Header.Get(Header))
		}, "ErrMalformed"},
		{"query swapped in transit", "GET", "/x?id=1", "", func(r *http.Request, b []byte) {
			s.SignRequest(r, b)
			r.URL.RawQuery = "id=2"
		}, "ErrBadSignature"},
		{"path swapped in transit", "GET", "/x/1", "", func(r *http.Request, b []byte) {
			s.SignRequest(r, b)
			r.URL.Path = "/x/2"
		}, "ErrBadSignature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := send(t, tt.method, tt.target, tt.body, tt.sign); got != tt.want {
				t.Fatalf("response %q, want %q", got, tt.want)
			}
		})
	}

	t.Run("handler reads the signed body again", func(t *testing.T) {
		mu.Lock()
		defer mu.Unlock()
		if len(handlerSaw) == 0 || handlerSaw[0] != `{"a":1}|{"a":1}` {
			t.Fatalf("handler saw %q", handlerSaw)
		}
	})
}

func errorName(err error) string {
	for _, e := range []struct {
		name string
		err  error
	}{
		{"ErrMissing", ErrMissing}, {"ErrMalformed", ErrMalformed}, {"ErrExpired", ErrExpired},
		{"ErrBadSignature", ErrBadSignature}, {"ErrReplayed", ErrReplayed},
		{"ErrBodyTooLarge", ErrBodyTooLarge}, {"ErrMisconfigured", ErrMisconfigured},
	} {
		if errors.Is(err, e.err) {
			return e.name
		}
	}
	return "other: " + err.Error()
}

func TestTarget(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"https://api.example/api/v1/x", "/api/v1/x"},
		{"https://api.example/api/v1/x?b=2&a=1", "/api/v1/x?b=2&a=1"},
		{"https://api.example/api/v1/x?", "/api/v1/x"},
		{"https://api.example/a%2Fb?q=%20", "/a%2Fb?q=%20"},
		{"https://api.example", ""},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			req := httptest.NewRequest("GET", tt.raw, nil)
			if got := Target(req.URL); got != tt.want {
				t.Fatalf("Target = %q, want %q", got, tt.want)
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	now := fixed(base)
	s := Signer{Secret: newSecret, Now: now}
	v := Verifier{Secrets: [][]byte{newSecret}, Now: now, Replay: NewMemoryReplayCache(now)}
	// A typical relayed tools/call body; each request differs in its
	// JSON-RPC id, as real ones do, so none is a replay.
	bodies := make([][]byte, b.N)
	headers := make([]string, b.N)
	for i := range b.N {
		bodies[i] = fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"list_affiliates","arguments":{"take":50,"campaignId":"cmp_01JABCDEFGHJKMNPQRSTVWXYZ"}}}`, i)
		headers[i] = s.Sign("POST", "/api/v1/affiliates?take=50", bodies[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := v.Verify(ctx, headers[i], "POST", "/api/v1/affiliates?take=50", bodies[i]); err != nil {
			b.Fatal(err)
		}
	}
}
