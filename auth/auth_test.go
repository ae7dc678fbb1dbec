package auth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// cheap keeps tests fast; the format and the code path are the same.
var cheap = Argon2Params{Memory: 64, Time: 1, Threads: 1}

func TestPasswordRoundTrip(t *testing.T) {
	hash, err := HashPassword("correct horse battery", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Contains(hash, "correct horse") {
		t.Fatalf("hash %q: want PHC argon2id without the password", hash)
	}
	if err := VerifyPassword("correct horse battery", hash); err != nil {
		t.Fatalf("right password: %v", err)
	}
	for _, wrong := range []string{"", "correct horse batterY", "correct horse battery ", strings.Repeat("x", 300)} {
		if err := VerifyPassword(wrong, hash); !errors.Is(err, ErrPasswordMismatch) {
			t.Errorf("VerifyPassword(%q) = %v, want mismatch", wrong, err)
		}
	}
	again, _ := HashPassword("correct horse battery", cheap)
	if again == hash {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
}

func TestVerifyPasswordRefusesMalformedHashes(t *testing.T) {
	for _, h := range []string{"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=18$m=64,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=64$c2FsdA$aGFzaA", "$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaA"} {
		if err := VerifyPassword("whatever-long", h); err == nil {
			t.Errorf("VerifyPassword accepted hash %q", h)
		}
	}
}

func TestPasswordPolicy(t *testing.T) {
	if err := CheckPasswordPolicy("short"); err == nil || !strings.Contains(err.Error(), "at least 10") {
		t.Fatalf("short password: %v", err)
	}
	if err := CheckPasswordPolicy("long enough pass"); err != nil {
		t.Fatal(err)
	}
}

func TestSessions(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := Sessions{Key: []byte(strings.Repeat("k", 32)), Now: clock}
	tok, exp, err := s.Sign("usr_1", 3)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(now.Add(SessionTTL)) {
		t.Fatalf("expiry %v, want %v", exp, now.Add(SessionTTL))
	}
	got, err := s.Verify(tok)
	if err != nil || got.UserID != "usr_1" || got.Version != 3 {
		t.Fatalf("Verify = %+v, %v", got, err)
	}

	later := Sessions{Key: s.Key, Now: func() time.Time { return now.Add(SessionTTL + time.Second) }}
	if _, err := later.Verify(tok); !errors.Is(err, ErrInvalidSession) {
		t.Errorf("expired session: %v", err)
	}
	other := Sessions{Key: []byte(strings.Repeat("o", 32)), Now: clock}
	if _, err := other.Verify(tok); !errors.Is(err, ErrInvalidSession) {
		t.Errorf("session under another key: %v", err)
	}
	if _, err := s.Verify(tok[:len(tok)-2] + "xx"); !errors.Is(err, ErrInvalidSession) {
		t.Errorf("tampered signature: %v", err)
	}
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "usr_1", "iss": "tandem", "aud": "tandem-dashboard", "exp": now.Add(time.Hour).Unix()}).
		SignedString(jwt.UnsafeAllowNoneSignatureType)
	if _, err := s.Verify(none); !errors.Is(err, ErrInvalidSession) {
		t.Errorf("alg=none accepted: %v", err)
	}
	foreign, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "usr_1", "iss": "tandem", "aud": "something-else", "exp": now.Add(time.Hour).Unix()}).
		SignedString(s.Key)
	if _, err := s.Verify(foreign); !errors.Is(err, ErrInvalidSession) {
		t.Errorf("JWT for another audience accepted: %v", err)
	}
	if _, _, err := (Sessions{Key: []byte("short")}).Sign("usr_1", 0); err == nil {
		t.Error("a short key was accepted")
	}
}
