package enrollment

import (
	"strconv"
	"strings"
)

// minorDigits lists the ISO 4217 currencies whose minor unit is not the
// cent; every other code has two decimals.
var minorDigits = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
	"PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

// FormatMoney writes an amount in minor units with its ISO 4217 code, e.g.
// "USD 1,234.50" or "JPY 500". It never goes through floating point.
func FormatMoney(minor int64, currency string) string {
	currency = strings.ToUpper(currency)
	digits, ok := minorDigits[currency]
	if !ok {
		digits = 2
	}
	neg := minor < 0
	u := uint64(minor)
	if neg {
		u = uint64(-minor)
	}
	s := strconv.FormatUint(u, 10)
	var whole, frac string
	if digits > 0 {
		for len(s) <= digits {
			s = "0" + s
		}
		whole, frac = s[:len(s)-digits], s[len(s)-digits:]
	} else {
		whole = s
	}
	out := groupThousands(whole)
	if frac != "" {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return currency + " " + out
}

func groupThousands(s string) string {
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	first := len(s) % 3
	if first > 0 {
		b.WriteString(s[:first])
	}
	for i := first; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// FormatPercent writes basis points as a percentage: 2000 is "20%", 1250
// is "12.5%", 1 is "0.01%".
func FormatPercent(bps int64) string {
	whole := bps / 100
	frac := bps % 100
	if frac < 0 {
		frac = -frac
	}
	switch {
	case frac == 0:
		return strconv.FormatInt(whole, 10) + "%"
	case frac%10 == 0:
		return strconv.FormatInt(whole, 10) + "." + strconv.FormatInt(frac/10, 10) + "%"
	default:
		return strconv.FormatInt(whole, 10) + "." + strconv.FormatInt(frac/10, 10) + strconv.FormatInt(frac%10, 10) + "%"
	}
}
