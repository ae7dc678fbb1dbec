package credential

import (
	"encoding/hex"
	"errors"
	"hash/crc32"
	"strings"
	"testing"
	"unicode/utf8"
)

func mustNew(t testing.TB, k Kind) string {
	t.Helper()
	s, err := New(k)
	if err != nil {
		t.Fatalf("New(%q): %v", k, err)
	}
	return s
}

func TestNewParse(t *testing.T) {
	tests := []struct {
		kind Kind
		len  int
	}{
		{KindMCP, 7 + 43 + 6},
		{KindAPIKey, 8 + 43 + 6},
		{KindSigningSecret, 4 + 43 + 6},
		{KindUserToken, 6 + 43 + 6},
		{KindPartnerUserToken, 10 + 43 + 6},
		{KindPartnerKey, 4 + 43 + 6},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			seen := map[string]bool{}
			for range 100 {
				s := mustNew(t, tt.kind)
				if len(s) != tt.len || tt.kind.Len() != tt.len {
					t.Fatalf("len(%q) = %d, Kind.Len = %d, want %d", Redact(s), len(s), tt.kind.Len(), tt.len)
				}
				if !strings.HasPrefix(s, string(tt.kind)) {
					t.Fatalf("%q lacks prefix %q", Redact(s), tt.kind)
				}
				k, err := Parse(s)
				if err != nil || k != tt.kind {
					t.Fatalf("Parse = %q, %v; want %q, nil", k, err, tt.kind)
				}
				if seen[s] {
					t.Fatal("New returned the same token twice")
				}
				seen[s] = true
			}
		})
	}

	t.Run("unknown kind", func(t *testing.T) {
		for _, k := range []Kind{"", "rk_", "rk_test_", "RK_MCP_"} {
			if s, err := New(k); !errors.Is(err, ErrUnknownKind) || s != "" {
				t.Fatalf("New(%q) = %q, %v; want ErrUnknownKind", k, s, err)
			}
		}
	})
}

// TestDocumentedExample keeps the package comment's example honest and pins
// the checksum algorithm and alphabet: changing either would invalidate every
// token already issued.
func TestDocumentedExample(t *testing.T) {
	const example = "rk_mcp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA3GHgEk"
	if k, err := Parse(example); err != nil || k != KindMCP {
		t.Fatalf("Parse(example) = %q, %v", k, err)
	}
	// An independent computation of the checksum.
	n := crc32.ChecksumIEEE([]byte(example[:len(example)-ChecksumLen]))
	var digits []byte
	for range ChecksumLen {
		digits = append([]byte{base62[n%62]}, digits...)
		n /= 62
	}
	if got := string(digits); got != example[len(example)-ChecksumLen:] {
		t.Fatalf("checksum %q, example ends in %q", got, example[len(example)-ChecksumLen:])
	}
}

func TestParseRejectsEverySingleCharacterChange(t *testing.T) {
	// Every character a token can contain, plus a few it cannot.
	alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/. \x00é"
	for _, k := range kinds {
		t.Run(string(k), func(t *testing.T) {
			s := mustNew(t, k)
			for i := range len(s) {
				for _, r := range alphabet {
					if string(r) == s[i:i+1] {
						continue
					}
					mutated := s[:i] + string(r) + s[i+1:]
					if _, err := Parse(mutated); !errors.Is(err, ErrMalformed) {
						t.Fatalf("position %d changed to %q: Parse = %v, want ErrMalformed", i, r, err)
					}
				}
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	good := mustNew(t, KindMCP)
	body := good[len(KindMCP) : len(KindMCP)+BodyLen]
	tests := []struct {
		name string
		s    string
	}{
		{"empty", ""},
		{"prefix only", string(KindMCP)},
		{"wrong prefix", "rk_test_" + good[len(KindMCP):]},
		{"prefix of another kind", string(KindAPIKey) + good[len(KindMCP):]},
		{"uppercase prefix", strings.ToUpper(string(KindMCP)) + good[len(KindMCP):]},
		{"no prefix", good[len(KindMCP):]},
		{"truncated by one", good[:len(good)-1]},
		{"truncated checksum", good[:len(good)-ChecksumLen]},
		{"truncated body", good[:len(KindMCP)+10]},
		{"extra character", good + "A"},
		{"padding", good[:len(KindMCP)+BodyLen] + "=" + good[len(KindMCP)+BodyLen:]},
		{"padding instead of last body character", good[:len(KindMCP)+BodyLen-1] + "=" + good[len(KindMCP)+BodyLen:]},
		{"standard base64 alphabet", string(KindMCP) + strings.NewReplacer("-", "+", "_", "/").Replace(body) + checksum(string(KindMCP)+strings.NewReplacer("-", "+", "_", "/").Replace(body))},
		{"leading space", " " + good},
		{"trailing newline", good + "\n"},
		{"swapped halves", good[len(good)/2:] + good[:len(good)/2]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.s == good {
				t.Skip("mutation was a no-op for this random token")
			}
			k, err := Parse(tt.s)
			if !errors.Is(err, ErrMalformed) || k != "" {
				t.Fatalf("Parse = %q, %v; want ErrMalformed", k, err)
			}
			if len(tt.s) > 8 && strings.Contains(err.Error(), tt.s[len(tt.s)/2:]) {
				t.Fatalf("error %q quotes the input", err)
			}
		})
	}

	t.Run("line breaks in the body with a valid checksum", func(t *testing.T) {
		// encoding/base64 skips '\r' and '\n'; Parse must not. Found by FuzzParse.
		for _, s := range []string{
			string(KindSigningSecret) + strings.Repeat("0", 34) + "\r\r\r\r\r\r\r\r0",
			string(KindMCP) + strings.Repeat("A", 40) + "\nAA",
		} {
			s += checksum(s)
			if _, err := Parse(s); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse(%q) = %v, want ErrMalformed", s, err)
			}
		}
	})

	t.Run("non-canonical final character with a valid checksum", func(t *testing.T) {
		// 32 bytes fill 43 base64 characters with two bits to spare; the last
		// character must leave them zero. 'B' sets one, and even with a
		// matching checksum the token is refused.
		s := string(KindMCP) + strings.Repeat("A", BodyLen-1) + "B"
		s += checksum(s)
		if _, err := Parse(s); !errors.Is(err, ErrMalformed) {
			t.Fatalf("Parse = %v, want ErrMalformed", err)
		}
	})
}

func TestHash(t *testing.T) {
	s := mustNew(t, KindMCP)
	h := Hash(s)
	if len(h) != 64 {
		t.Fatalf("len(Hash) = %d, want 64", len(h))
	}
	if _, err := hex.DecodeString(h); err != nil || strings.ToLower(h) != h {
		t.Fatalf("Hash %q is not lowercase hex", h)
	}
	if Hash(s) != h {
		t.Fatal("Hash is not stable")
	}
	if Hash(mustNew(t, KindMCP)) == h {
		t.Fatal("two tokens hash alike")
	}
	// Known answer: SHA-256 of "abc".
	if got, want := Hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Fatalf("Hash(abc) = %s, want %s", got, want)
	}
}

func TestRedact(t *testing.T) {
	for _, k := range kinds {
		s := mustNew(t, k)
		got := Redact(s)
		want := string(k) + s[len(k):len(k)+4] + "…"
		if got != want {
			t.Fatalf("Redact = %q, want %q", got, want)
		}
	}
	tests := []struct{ in, want string }{
		{"rk_mcp_", "rk_mcp_…"},
		{"rk_mcp_ab", "rk_mcp_ab…"},
		{"rk_mcp_abcdefgh", "rk_mcp_abcd…"},
		{"rk_live_ab\ncdef", "rk_live_ab…"},
		{"rks_abcd…", "rks_abcd…"},
		{"ghp_abcdefghijkl", Redacted},
		{"", Redacted},
		{"Bearer rk_mcp_abcdef", Redacted},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Redact(tt.in); got != tt.want {
				t.Fatalf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// bodyCharsRevealed counts the body characters of tok that survive in out,
// as the longest run of tok's body after its prefix that appears in out.
func bodyCharsRevealed(tok, out string) int {
	k, _ := kindOf(tok)
	b := tok[len(k):]
	n := 0
	for n < len(b) && strings.Contains(out, string(k)+b[:n+1]) {
		n++
	}
	// Also look for body fragments without the prefix.
	for w := 5; w <= len(b); w++ {
		for i := 0; i+w <= len(b); i++ {
			if strings.Contains(out, b[i:i+w]) {
				n = max(n, w)
			}
		}
	}
	return n
}

func TestScrub(t *testing.T) {
	mcp := mustNew(t, KindMCP)
	live := mustNew(t, KindAPIKey)
	rks := mustNew(t, KindSigningSecret)
	kordi := mustNew(t, KindUserToken)
	clerk := mustNew(t, KindPartnerUserToken)
	kpk := mustNew(t, KindPartnerKey)
	ident := "t=1767225600,v1=5daa3682c128aa8129f99a13508d240b5f8e6fe54bac0767fe3113fe829adc3f"
	tests := []struct {
		name    string
		in      string
		want    string   // exact output, when given
		secrets []string // must not survive
	}{
		{"plain text untouched", "GET /api/v1/affiliates 200 12ms", "GET /api/v1/affiliates 200 12ms", nil},
		{"bare token", "token " + mcp + " rejected", "token " + Redact(mcp) + " rejected", []string{mcp}},
		{"json", `{"token":"` + live + `","secret":"` + rks + `"}`,
			`{"token":"` + Redact(live) + `","secret":"` + Redact(rks) + `"}`, []string{live, rks}},
		{"url query", "https://api.example/x?token=" + mcp + "&b=1", "https://api.example/x?token=" + Redact(mcp) + "&b=1", []string{mcp}},
		{"url path", "/hooks/" + rks + "/ping", "/hooks/" + Redact(rks) + "/ping", []string{rks}},
		{"header line", "Authorization: Bearer " + mcp + "\r\n", "Authorization: Bearer " + Redact(mcp) + "\r\n", []string{mcp}},
		{"bearer jwt", "authorization: bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-_x", "authorization: bearer " + Redacted, []string{"eyJhbGciOiJIUzI1NiJ9"}},
		{"bearer in json", `{"Authorization":"Bearer abc.def"}`, `{"Authorization":"Bearer ` + Redacted + `"}`, []string{"abc.def"}},
		{"identity header line", identityHeader + ": " + ident + "\r\nHost: api\r\n", identityHeader + ": " + Redacted + "\r\nHost: api\r\n", []string{ident, "5daa3682"}},
		{"identity in a printed http.Header",
			"map[Authorization:[Bearer " + mcp + "] X-Rekomi-Mcp-Identity:[" + ident + "]]",
			"map[Authorization:[Bearer " + Redact(mcp) + "] X-Rekomi-Mcp-Identity:[" + Redacted + "]]", []string{mcp, ident, "5daa3682"}},
		{"identity in json", `{"X-Rekomi-MCP-Identity":["` + ident + `"]}`, `{"X-Rekomi-MCP-Identity":["` + Redacted + `"]}`, []string{"5daa3682"}},
		{"identity value alone", "bad identity " + ident, "bad identity t=1767225600,v1=" + Redacted, []string{"5daa3682"}},
		{"truncated token", "saw rk_live_abcdefghij in logs", "saw rk_live_abcd… in logs", []string{"abcdefghij"}},
		{"embed link", "GET /embed/affiliate?token=rk_emb_Qw3rTy-uiop_ASDF 401", "GET /embed/affiliate?token=rk_emb_" + Redacted + " 401", []string{"Qw3rTy"}},
		{"welcome link", "open https://t.example/a/welcome?token=rk_wlc_ZxCvBn12", "open https://t.example/a/welcome?token=rk_wlc_" + Redacted, []string{"ZxCvBn12"}},
		{"token glued to text", "x" + mcp + "y", "x" + Redact(mcp+"y"), []string{mcp}},
		{"several tokens", mcp + "," + mcp + " " + live, Redact(mcp) + "," + Redact(mcp) + " " + Redact(live), []string{mcp, live}},
		{"prefix without body", "needs an rk_mcp_* token", "needs an rk_mcp_* token", nil},
		{"user token in a legacy query", "POST /mcp?token=" + kordi + " 401", "POST /mcp?token=" + Redact(kordi) + " 401", []string{kordi}},
		{"partner-provisioned token in a response", `{"token":"` + clerk + `","mcp_url":"https://k.example/mcp?token=` + clerk + `"}`,
			`{"token":"` + Redact(clerk) + `","mcp_url":"https://k.example/mcp?token=` + Redact(clerk) + `"}`, []string{clerk}},
		{"partner key header line", "X-Partner-Key: " + kpk + "\r\n", "X-Partner-Key: " + Redact(kpk) + "\r\n", []string{kpk}},
		{"upper-case look-alike is not a token", "KORDI_ and CLERK_REG_ are prefixes", "KORDI_ and CLERK_REG_ are prefixes", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Scrub(tt.in)
			if tt.want != "" && got != tt.want {
				t.Errorf("Scrub =\n  %q\nwant\n  %q", got, tt.want)
			}
			for _, s := range tt.secrets {
				if strings.Contains(got, s) {
					t.Errorf("secret %q survived in %q", s, got)
				}
			}
			for _, tok := range []string{mcp, live, rks, kordi, clerk, kpk} {
				if strings.Contains(tt.in, tok) {
					if n := bodyCharsRevealed(tok, got); n > 4 {
						t.Errorf("%d body characters of a token survived in %q", n, got)
					}
				}
			}
			if again := Scrub(got); again != got {
				t.Errorf("Scrub is not idempotent: %q then %q", got, again)
			}
		})
	}
}

func TestRedactRevealsAtMostFourBodyCharacters(t *testing.T) {
	for _, k := range kinds {
		for range 50 {
			s := mustNew(t, k)
			r := Redact(s)
			if n := bodyCharsRevealed(s, r); n > 4 {
				t.Fatalf("Redact revealed %d body characters", n)
			}
			if !utf8.ValidString(r) {
				t.Fatalf("Redact output %q is not UTF-8", r)
			}
		}
	}
}

// identityHeader is the relay's header; credential does not import relay (it
// sits below it), so the tests spell the name out.
const identityHeader = "X-Rekomi-MCP-Identity"
