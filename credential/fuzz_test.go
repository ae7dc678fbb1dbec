package credential

import (
	"encoding/base64"
	"errors"
	"hash/crc32"
	"math/big"
	"strings"
	"testing"
	"unicode/utf8"
)

// oracleChecksum computes the checksum a different way from checksum: with
// big.Int's base-62 formatting, whose digit order (0-9a-zA-Z) is mapped to
// ours (0-9A-Za-z) by swapping the letter cases.
func oracleChecksum(s string) string {
	n := new(big.Int).SetUint64(uint64(crc32.ChecksumIEEE([]byte(s))))
	d := n.Text(62)
	var swapped strings.Builder
	for _, r := range d {
		switch {
		case r >= 'a' && r <= 'z':
			swapped.WriteRune(r - 'a' + 'A')
		case r >= 'A' && r <= 'Z':
			swapped.WriteRune(r - 'A' + 'a')
		default:
			swapped.WriteRune(r)
		}
	}
	return strings.Repeat("0", ChecksumLen-len(d)) + swapped.String()
}

func tokenSeeds(f *testing.F) []string {
	f.Helper()
	seeds := []string{
		"",
		"rk_mcp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA3GHgEk",
		"rk_mcp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA3GHgEl",
		"rk_mcp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB3GHgEk",
		"rk_mcp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=3GHgEk",
		"rk_live_",
		"rks_",
	}
	for _, k := range kinds {
		s, err := New(k)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, s, s[:len(s)-1], s+"A", strings.ToUpper(s))
	}
	return seeds
}

// FuzzParse checks that Parse never panics, refuses only with ErrMalformed,
// and accepts only canonical tokens of a known kind whose checksum an
// independent computation agrees with.
func FuzzParse(f *testing.F) {
	for _, s := range tokenSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Random mutations almost never hit a matching checksum, so also give
		// the input's prefix and body a correct one: that token must parse
		// exactly when its body is canonical base64url of 32 bytes.
		if k, ok := kindOf(s); ok && len(s) >= len(k)+BodyLen {
			head := s[:len(k)+BodyLen]
			raw, err := base64.RawURLEncoding.DecodeString(head[len(k):])
			canonical := err == nil && len(raw) == BodyBytes && base64.RawURLEncoding.EncodeToString(raw) == head[len(k):]
			if _, err := Parse(head + oracleChecksum(head)); (err == nil) != canonical {
				t.Fatalf("Parse(%q with a correct checksum) = %v, body canonical: %v", head, err, canonical)
			}
		}

		k, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) || k != "" {
				t.Fatalf("Parse = %q, %v; want \"\", ErrMalformed", k, err)
			}
			return
		}
		if !k.known() || !strings.HasPrefix(s, string(k)) {
			t.Fatalf("accepted kind %q for %q", k, s)
		}
		if len(s) != len(k)+BodyLen+ChecksumLen {
			t.Fatalf("accepted length %d for kind %q", len(s), k)
		}
		body := s[len(k) : len(k)+BodyLen]
		raw, err := base64.RawURLEncoding.DecodeString(body)
		if err != nil || len(raw) != BodyBytes {
			t.Fatalf("accepted body that decodes to %d bytes, %v", len(raw), err)
		}
		if base64.RawURLEncoding.EncodeToString(raw) != body {
			t.Fatalf("accepted a non-canonical body %q", body)
		}
		if want := oracleChecksum(s[:len(k)+BodyLen]); s[len(k)+BodyLen:] != want {
			t.Fatalf("accepted checksum %q, oracle says %q", s[len(k)+BodyLen:], want)
		}
		if r := Redact(s); r != s[:len(k)+4]+"…" {
			t.Fatalf("Redact = %q", r)
		}
		if strings.Contains(Scrub(s), s) {
			t.Fatal("Scrub left an accepted token in place")
		}
	})
}

// FuzzScrub checks that Scrub never panics, is idempotent, keeps valid UTF-8
// valid, behaves the same with and without its fast path, and leaves no
// parseable token anywhere in its output.
func FuzzScrub(f *testing.F) {
	for _, s := range tokenSeeds(f) {
		f.Add("x " + s + " y")
	}
	f.Add(`{"Authorization":"Bearer abc","X-Rekomi-MCP-Identity":"t=1,v1=0123456789abcdef"}`)
	f.Add("map[Authorization:[Bearer rk_mcp_abc] X-Rekomi-Mcp-Identity:[t=1 v1=deadbeefdeadbeef]]")
	f.Add("bearer\tx-rekomi-mcp-identity=v1=aaaaaaaa…rks_…")
	f.Fuzz(func(t *testing.T, text string) {
		out := Scrub(text)
		if again := Scrub(out); again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", text, out, again)
		}
		if slow := secretPattern.ReplaceAllStringFunc(text, scrubMatch); slow != out {
			t.Fatalf("fast path changed the result: %q vs %q", out, slow)
		}
		if utf8.ValidString(text) && !utf8.ValidString(out) {
			t.Fatalf("valid UTF-8 %q scrubbed into invalid %q", text, out)
		}
		for i := range len(out) {
			k, ok := kindOf(out[i:])
			if !ok || i+k.Len() > len(out) {
				continue
			}
			if _, err := Parse(out[i : i+k.Len()]); err == nil {
				t.Fatalf("a valid token survived at %d in %q", i, out)
			}
		}
	})
}
