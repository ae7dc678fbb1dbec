package coupons

import (
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/tandemhq/tandem/ent"
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

// TestGenericInputsDecided fails when the ent schema adds a field to the
// generated createCoupon or updateCoupon input: CreateCoupon and
// UpdateCoupon must then decide whether it may be set and under which rule,
// rather than ignore it (or let it through unchecked, as SetInput would).
func TestGenericInputsDecided(t *testing.T) {
	for _, tc := range []struct {
		input   any
		decided []string
	}{
		{ent.CreateCouponInput{}, []string{"Code", "Name", "PercentOff", "AmountOffCents", "Currency", "Duration",
			"DurationInMonths", "MaxRedemptions", "ExpiresAt", "Metadata", "CampaignID", "AffiliateID"}},
		{ent.UpdateCouponInput{}, []string{"Name", "ClearPercentOff", "PercentOff", "ClearAmountOffCents", "AmountOffCents",
			"ClearCurrency", "Currency", "Duration", "ClearDurationInMonths", "DurationInMonths", "ClearMaxRedemptions",
			"MaxRedemptions", "ClearExpiresAt", "ExpiresAt", "ClearMetadata", "Metadata", "ClearRevokedAt", "RevokedAt"}},
	} {
		typ := reflect.TypeOf(tc.input)
		var got []string
		for f := range typ.Fields() {
			got = append(got, f.Name)
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(tc.decided))
		if !slices.Equal(got, want) {
			t.Errorf("%s has fields %v, want %v: decide in generic.go what a new field may do, then list it here", typ.Name(), got, want)
		}
	}
}

func TestGivenTermsDiffers(t *testing.T) {
	pct, amt, months := 25.0, int64(1500), 3
	tpl := terms{percentOff: &pct, duration: "repeating", durationInMonths: &months}
	eur, usd, lower := "EUR", "USD", " eur "
	other, same := 25.004, 25.0
	cases := []struct {
		name string
		g    givenTerms
		want string
	}{
		{"nothing given", givenTerms{}, ""},
		{"same percentage", givenTerms{percentOff: &same}, ""},
		{"a third decimal", givenTerms{percentOff: &other}, "percentOff"},
		{"an amount on a percentage", givenTerms{amountOffCents: &amt}, "amountOffCents"},
		{"a currency on a percentage", givenTerms{currency: &usd}, "currency"},
	}
	for _, tc := range cases {
		if got := tc.g.differs(tpl); got != tc.want {
			t.Errorf("%s: differs = %q, want %q", tc.name, got, tc.want)
		}
	}
	amountTpl := terms{amountOffCents: &amt, currency: "EUR", duration: "once"}
	if got := (givenTerms{currency: &lower}).differs(amountTpl); got != "" {
		t.Errorf("currency %q against EUR: differs = %q, want none", lower, got)
	}
	if got := (givenTerms{currency: &eur, percentOff: &pct}).differs(amountTpl); got != "percentOff" {
		t.Errorf("a percentage on an amount: differs = %q, want percentOff", got)
	}
	if s := tpl.String(); s != "25% off, repeating for 3 months" {
		t.Errorf("String() = %q", s)
	}
	if s := amountTpl.String(); s != "1500 EUR (minor units) off, once" {
		t.Errorf("String() = %q", s)
	}
}
