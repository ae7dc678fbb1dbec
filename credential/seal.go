package credential

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// SealKeyLen is the length of a sealing key: AES-256.
const SealKeyLen = 32

// sealVersion is the first byte of every sealed value, so the format can
// change later without guessing how an old value was made.
const sealVersion byte = 1

// sealAAD binds a sealed value to this use: a ciphertext made with the same
// key for any other purpose does not open here.
var sealAAD = []byte("tandem/credential/seal/v1")

// ErrUnseal means a sealed value does not open: it was made with another
// key, it was changed, or it is not a sealed value at all. The error never
// says which, and never quotes the input.
var ErrUnseal = errors.New("credential: sealed value does not open")

// Seal encrypts plaintext with AES-256-GCM under key (keys.Keys.Encryption)
// for storage. The result is a version byte, a random 96-bit nonce, and the
// ciphertext with its tag; sealing the same plaintext twice gives different
// values. Seal is for secrets the server must read back, such as API
// signing secrets; tokens it only compares are stored as Hash instead.
func Seal(key []byte, plaintext string) ([]byte, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = sealVersion
	// crypto/rand.Read never fails (see New).
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("credential: reading randomness: %w", err)
	}
	return aead.Seal(out, out[1:], []byte(plaintext), sealAAD), nil
}

// Unseal returns the plaintext Seal sealed under key. Anything that does
// not open (wrong key, tampering, truncation, an unknown version) wraps
// ErrUnseal.
func Unseal(key []byte, sealed []byte) (string, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return "", err
	}
	n := aead.NonceSize()
	if len(sealed) < 1+n+aead.Overhead() || sealed[0] != sealVersion {
		return "", ErrUnseal
	}
	plain, err := aead.Open(nil, sealed[1:1+n], sealed[1+n:], sealAAD)
	if err != nil {
		return "", ErrUnseal
	}
	return string(plain), nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != SealKeyLen {
		return nil, fmt.Errorf("credential: a sealing key is %d bytes, not %d", SealKeyLen, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("credential: %w", err)
	}
	return cipher.NewGCM(block)
}
