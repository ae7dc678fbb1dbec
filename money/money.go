// Package money converts amounts into an organization's home currency.
//
// Amounts are int64 minor units with an ISO 4217 code. Tandem has no
// exchange-rate source yet, so an amount converts only into its own
// currency; any other pair is refused with an error that names the field,
// rather than recorded at a made-up rate. Every conversion keeps the rate it
// was recorded with, so history never changes when rates do.
package money

import (
	"regexp"
	"strings"

	"github.com/tandemhq/tandem/fault"
)

var codePattern = regexp.MustCompile(`^[A-Z]{3}$`)

// Code normalizes an ISO 4217 code ("usd" → "USD") and checks its shape;
// field names the input for the error.
func Code(field, code string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(code))
	if !codePattern.MatchString(c) {
		return "", fault.Invalid(field, "must be a 3-letter ISO 4217 currency code such as USD or EUR, not %q", code)
	}
	return c, nil
}

// ToHome converts amounts in currency into homeCurrency and returns them
// with the rate used (units of homeCurrency per unit of currency). field
// names the currency input for the error.
func ToHome(field, currency, homeCurrency string, amounts ...int64) ([]int64, float64, error) {
	c, err := Code(field, currency)
	if err != nil {
		return nil, 0, err
	}
	if c != homeCurrency {
		return nil, 0, fault.Invalid(field, "is %s, but this organization records money in its home currency %s and has no exchange rate for %s; send amounts in %s",
			c, homeCurrency, c, homeCurrency)
	}
	out := make([]int64, len(amounts))
	copy(out, amounts)
	return out, 1, nil
}
