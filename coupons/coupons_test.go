package coupons

import (
	"errors"
	"testing"

	"github.com/tandemhq/tandem/fault"
)

func TestNormalizeCode(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"summer20", "SUMMER20", true},
		{"  jane  20 ", "JANE-20", true},
		{"A_B-C", "A_B-C", true},
		{"a", "", false},     // too short
		{"-SAVE", "", false}, // must start with a letter or digit
		{"SAVE!", "", false}, // punctuation
		{"ÉTÉ20", "", false}, // letters outside A–Z
		{string(make([]byte, 65)), "", false},
	} {
		got, err := NormalizeCode("vanity", tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("NormalizeCode(%q) = %q, %v; want %q, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		var f *fault.Error
		if err != nil && (!errors.As(err, &f) || f.Field != "vanity" || f.Kind != fault.KindInvalid) {
			t.Errorf("NormalizeCode(%q) error %#v; want an Invalid fault on vanity", tc.in, err)
		}
	}
}

func TestCodeStem(t *testing.T) {
	for in, want := range map[string]string{
		"Spring launch! 20%":             "SPRING-LAUNCH-20",
		"alpha-partner":                  "ALPHA-PARTNER",
		"   ":                            "COUPON",
		"ünïcode":                        "N-CODE",
		"a very long coupon name indeed": "A-VERY-LONG-COUPON-N",
	} {
		got := codeStem(in)
		if got != want {
			t.Errorf("codeStem(%q) = %q, want %q", in, got, want)
		}
		if !codePattern.MatchString(got + "-ABCDE") {
			t.Errorf("codeStem(%q) = %q does not make a valid code", in, got)
		}
	}
}
