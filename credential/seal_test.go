package credential

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

func sealKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, SealKeyLen)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealRoundTrip(t *testing.T) {
	key := sealKey(t)
	for _, plain := range []string{"", "x", mustNew(t, KindSigningSecret), strings.Repeat("é", 1000)} {
		sealed, err := Seal(key, plain)
		if err != nil {
			t.Fatal(err)
		}
		// (A short plaintext may turn up in random bytes by chance.)
		if len(plain) >= 16 && bytes.Contains(sealed, []byte(plain)) {
			t.Fatalf("sealed value contains its plaintext")
		}
		got, err := Unseal(key, sealed)
		if err != nil || got != plain {
			t.Fatalf("Unseal = %q, %v; want the plaintext back", Redact(got), err)
		}
	}
}

func TestSealIsRandomized(t *testing.T) {
	key := sealKey(t)
	secret := mustNew(t, KindSigningSecret)
	a, _ := Seal(key, secret)
	b, _ := Seal(key, secret)
	if bytes.Equal(a, b) {
		t.Fatal("sealing the same plaintext twice gave the same value: the nonce is not fresh")
	}
	if a[0] != sealVersion {
		t.Fatalf("version byte %d, want %d", a[0], sealVersion)
	}
}

func TestUnsealRefuses(t *testing.T) {
	key := sealKey(t)
	sealed, err := Seal(key, mustNew(t, KindSigningSecret))
	if err != nil {
		t.Fatal(err)
	}
	// Every single-bit change anywhere is caught.
	for i := range sealed {
		for bit := range 8 {
			bad := bytes.Clone(sealed)
			bad[i] ^= 1 << bit
			if _, err := Unseal(key, bad); !errors.Is(err, ErrUnseal) {
				t.Fatalf("flipping bit %d of byte %d: err = %v, want ErrUnseal", bit, i, err)
			}
		}
	}
	for name, bad := range map[string][]byte{
		"nil":       nil,
		"version":   {sealVersion},
		"truncated": sealed[:len(sealed)-1],
		"short":     sealed[:1+12+15],
		"extended":  append(bytes.Clone(sealed), 0),
	} {
		if _, err := Unseal(key, bad); !errors.Is(err, ErrUnseal) {
			t.Errorf("%s: err = %v, want ErrUnseal", name, err)
		}
	}
	if _, err := Unseal(sealKey(t), sealed); !errors.Is(err, ErrUnseal) {
		t.Fatalf("another key: err = %v, want ErrUnseal", err)
	}
}

func TestSealNeedsAES256Key(t *testing.T) {
	for _, n := range []int{0, 16, 24, 31, 33, 64} {
		if _, err := Seal(make([]byte, n), "secret"); err == nil || errors.Is(err, ErrUnseal) {
			t.Errorf("Seal with a %d-byte key: err = %v, want a key-length error", n, err)
		}
		if _, err := Unseal(make([]byte, n), []byte{sealVersion}); err == nil || errors.Is(err, ErrUnseal) {
			t.Errorf("Unseal with a %d-byte key: err = %v, want a key-length error", n, err)
		}
	}
}
