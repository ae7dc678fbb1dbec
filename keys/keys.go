// Package keys loads the server's own secrets: the key that signs dashboard
// sessions, the relay secrets that co-sign MCP traffic, and the key that
// seals stored signing secrets. Production sets them in the environment (the
// same values on every instance); the embedded default generates them once
// and keeps them in a file beside the database, readable by its owner only.
package keys

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Environment variables that hold the keys, base64 (std or URL) of at least 32 bytes.
const (
	EnvSessionKey    = "TANDEM_SESSION_KEY"
	EnvRelaySecret   = "TANDEM_RELAY_SECRET" // comma-separated: the first signs, all verify (rotation)
	EnvEncryptionKey = "TANDEM_ENCRYPTION_KEY"
)

// Keys are the server's secrets.
type Keys struct {
	Session      []byte
	RelaySecrets [][]byte // [0] signs; every one verifies
	Encryption   []byte   // 32 bytes, AES-256-GCM
}

type fileKeys struct {
	Session    string `json:"session"`
	Relay      string `json:"relay"`
	Encryption string `json:"encryption"`
}

// Load reads the keys from the environment, filling any that are unset from
// the file at path (created with fresh random keys when missing). An empty
// path means environment only: every key must then be set.
func Load(path string) (Keys, error) {
	var k Keys
	var err error
	if k.Session, err = fromEnv(EnvSessionKey); err != nil {
		return Keys{}, err
	}
	if v := os.Getenv(EnvRelaySecret); v != "" {
		for _, part := range strings.Split(v, ",") {
			b, err := decode(EnvRelaySecret, strings.TrimSpace(part))
			if err != nil {
				return Keys{}, err
			}
			k.RelaySecrets = append(k.RelaySecrets, b)
		}
	}
	if k.Encryption, err = fromEnv(EnvEncryptionKey); err != nil {
		return Keys{}, err
	}
	if k.Encryption != nil && len(k.Encryption) != 32 {
		return Keys{}, fmt.Errorf("keys: %s must be exactly 32 bytes for AES-256 (it holds %d)", EnvEncryptionKey, len(k.Encryption))
	}
	if k.Session != nil && k.RelaySecrets != nil && k.Encryption != nil {
		return k, nil
	}
	if path == "" {
		return Keys{}, fmt.Errorf("keys: set %s, %s and %s (base64 of 32 random bytes each)", EnvSessionKey, EnvRelaySecret, EnvEncryptionKey)
	}
	f, err := loadOrCreate(path)
	if err != nil {
		return Keys{}, err
	}
	if k.Session == nil {
		k.Session, _ = base64.StdEncoding.DecodeString(f.Session)
	}
	if k.RelaySecrets == nil {
		b, _ := base64.StdEncoding.DecodeString(f.Relay)
		k.RelaySecrets = [][]byte{b}
	}
	if k.Encryption == nil {
		k.Encryption, _ = base64.StdEncoding.DecodeString(f.Encryption)
	}
	return k, nil
}

// Derive returns a 32-byte key for one purpose, computed from the session
// key as HMAC-SHA256(session, purpose). A feature that needs a secret of its
// own (pause links, tracking salts) takes one from here rather than reusing a
// server key raw, so a key leaked from one purpose opens nothing else and no
// new variable has to be configured on every instance. purpose is a
// versioned label such as "tandem/pause-links/v1"; changing it changes the key.
// The session key is the master because only API instances hold it and it
// already authorises everything a derived key could. It returns nil when the
// keys have no session key (a hand-built Keys{}), so callers can refuse.
func (k Keys) Derive(purpose string) []byte {
	if len(k.Session) == 0 {
		return nil
	}
	m := hmac.New(sha256.New, k.Session)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// Random returns keys for tests and throwaway servers.
func Random() Keys {
	return Keys{Session: random32(), RelaySecrets: [][]byte{random32()}, Encryption: random32()}
}

func loadOrCreate(path string) (fileKeys, error) {
	var f fileKeys
	b, err := os.ReadFile(path)
	if err == nil {
		if err := json.Unmarshal(b, &f); err != nil {
			return f, fmt.Errorf("keys: %s is not a keys file: %w", path, err)
		}
		return f, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return f, fmt.Errorf("keys: %w", err)
	}
	enc := base64.StdEncoding.EncodeToString
	f = fileKeys{Session: enc(random32()), Relay: enc(random32()), Encryption: enc(random32())}
	b, _ = json.MarshalIndent(f, "", "  ")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return f, fmt.Errorf("keys: %w", err)
	}
	// O_EXCL: two processes starting at once must not each write their own keys.
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return loadOrCreate(path)
	}
	if err != nil {
		return f, fmt.Errorf("keys: %w", err)
	}
	defer file.Close()
	if _, err := file.Write(b); err != nil {
		return f, fmt.Errorf("keys: writing %s: %w", path, err)
	}
	return f, nil
}

func fromEnv(name string) ([]byte, error) {
	v := os.Getenv(name)
	if v == "" {
		return nil, nil
	}
	return decode(name, v)
}

func decode(name, v string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil {
			if len(b) < 32 {
				return nil, fmt.Errorf("keys: %s must hold at least 32 bytes (it holds %d)", name, len(b))
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("keys: %s is not base64; generate one with: head -c 32 /dev/urandom | base64", name)
}

func random32() []byte {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("keys: no randomness: " + err.Error())
	}
	return b
}
