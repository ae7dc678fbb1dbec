package enrollment

import (
	"errors"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/fault"
)

func TestFormatMoney(t *testing.T) {
	for _, tc := range []struct {
		minor    int64
		currency string
		want     string
	}{
		{0, "USD", "USD 0.00"},
		{5, "USD", "USD 0.05"},
		{123456, "usd", "USD 1,234.56"},
		{-2000, "EUR", "EUR -20.00"},
		{500, "JPY", "JPY 500"},
		{1234567, "KRW", "KRW 1,234,567"},
		{1500, "KWD", "KWD 1.500"},
		{100000000, "GBP", "GBP 1,000,000.00"},
	} {
		if got := FormatMoney(tc.minor, tc.currency); got != tc.want {
			t.Errorf("FormatMoney(%d, %s) = %q, want %q", tc.minor, tc.currency, got, tc.want)
		}
	}
}

func TestFormatPercent(t *testing.T) {
	for bps, want := range map[int64]string{2000: "20%", 1250: "12.5%", 1: "0.01%", 10000: "100%", 0: "0%", 333: "3.33%"} {
		if got := FormatPercent(bps); got != want {
			t.Errorf("FormatPercent(%d) = %q, want %q", bps, got, want)
		}
	}
}

func TestNormalizeOrigins(t *testing.T) {
	got, err := NormalizeOrigins("allowedOrigins", []string{
		"https://Shop.Example.com", "https://shop.example.com:443/", "https://shop.example.com:8443",
		"http://localhost:3000", "http://127.0.0.1", "https://[::1]:9000",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"https://shop.example.com", "https://shop.example.com:8443", "http://localhost:3000", "http://127.0.0.1", "https://[::1]:9000"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %q, want %q", got, want)
	}
	for _, bad := range []string{
		"http://shop.example.com", "ftp://shop.example.com", "shop.example.com", "https://shop.example.com/path",
		"https://shop.example.com?x=1", "https://*.example.com", "https://user@shop.example.com", "https://",
		"https://shop.example.com; script-src *", "https://exa_mple.com", "", "https://shop.example.com:99999",
	} {
		_, err := NormalizeOrigins("allowedOrigins", []string{bad})
		var f *fault.Error
		if !errors.As(err, &f) || f.Field != "allowedOrigins" || f.Kind != fault.KindInvalid {
			t.Errorf("%q: got %v, want an invalid allowedOrigins", bad, err)
		}
	}
	many := make([]string, 11)
	for i := range many {
		many[i] = "https://s" + string(rune('a'+i)) + ".example.com"
	}
	if _, err := NormalizeOrigins("allowedOrigins", many); err == nil {
		t.Error("11 origins accepted, want at most 10")
	}
	if _, err := NormalizeOrigins("allowedOrigins", append(many[:10:10], "https://SA.example.com")); err != nil {
		t.Errorf("10 distinct origins plus a duplicate: %v", err)
	}
}

func TestSlugBase(t *testing.T) {
	for in, want := range map[string]string{
		"Jane Doe":              "jane-doe",
		"  José  Müller ":       "jose-muller",
		"ada.lovelace+test":     "ada-lovelace-test",
		"--":                    "",
		"李":                     "",
		strings.Repeat("a", 60): strings.Repeat("a", 40),
	} {
		if got := slugBase(in); got != want {
			t.Errorf("slugBase(%q) = %q, want %q", in, got, want)
		}
	}
	for range 100 {
		s := RandomSuffix(4)
		if len(s) != 4 || !slugShape.MatchString(s) {
			t.Fatalf("RandomSuffix gave %q", s)
		}
	}
}

func TestCheckSlug(t *testing.T) {
	if s, err := checkSlug("slug", " jane-doe "); err != nil || s != "jane-doe" {
		t.Errorf("got %q, %v", s, err)
	}
	_, err := checkSlug("slug", "JaneDoe")
	if err == nil || !strings.Contains(err.Error(), "did you mean janedoe?") {
		t.Errorf("upper-case slug: got %v, want a hint", err)
	}
	for _, bad := range []string{"", "a--b", "-a", "a b", strings.Repeat("a", 65)} {
		if _, err := checkSlug("slug", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestTokens(t *testing.T) {
	tok, err := newToken(EmbedTokenPrefix)
	if err != nil {
		t.Fatal(err)
	}
	if !wellFormed(tok, EmbedTokenPrefix) || wellFormed(tok, WelcomeTokenPrefix) || wellFormed(tok[:len(tok)-1], EmbedTokenPrefix) {
		t.Errorf("wellFormed disagrees about %q", tok)
	}
	other, _ := newToken(EmbedTokenPrefix)
	if other == tok {
		t.Error("two tokens are equal")
	}
}
