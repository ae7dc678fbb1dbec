package catalog

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// legalSuffixes and billingSuffixes are the noise words Normalize drops from
// the end of a name. They say who bills or how, never which product: "Spotify
// AB", "Netflix Inc", "Costco Membership Fee", "Netflix Monthly".
// Product and tier words ("premium", "plus", "pro", "family", "basic", "app",
// "tv") are deliberately absent: "YouTube Premium" is not "YouTube", and
// "Disney+" is "disney plus".
var legalSuffixes = []string{
	"inc", "incorporated", "llc", "llp", "lp", "ltd", "limited", "corp",
	"corporation", "co", "company", "plc", "pbc", "gmbh", "ag", "ab", "bv",
	"sa", "sarl", "sas", "srl", "pty", "pte", "oy",
}

var billingSuffixes = []string{
	"subscription", "subscriptions", "subscr", "membership", "memberships",
	"plan", "monthly", "annual", "annually", "yearly", "renewal", "autorenew",
	"recurring", "payment", "bill", "billing", "fee", "fees", "dues", "com",
}

var noise = func() map[string]bool {
	m := make(map[string]bool)
	for _, w := range legalSuffixes {
		m[w] = true
	}
	for _, w := range billingSuffixes {
		m[w] = true
	}
	return m
}()

var (
	// A generic top-level domain on a name ("Netflix.com", "zoom.us",
	// "amazon.co.uk") says nothing about the product.
	tldRE = regexp.MustCompile(`\.(?:co\.uk|com|net|org|io|co|us)\b`)
	wwwRE = regexp.MustCompile(`\bwww\.`)

	apostrophes = strings.NewReplacer("'", "", "’", "", "‘", "", "ʼ", "", "`", "")
	symbols     = strings.NewReplacer("+", " plus ", "&", " and ")
)

// Normalize returns the normalized form of a subscription name: the form
// Subscriptions dedupes on and Lookup compares. In order, it:
//
//   - case-folds (Unicode full folding, so "Straße" is "strasse") and strips
//     accents: compatibility decomposition (NFKD), removal of nonspacing
//     marks (Mn), then NFC, so "Crème" is "creme" and "ＮＥＴＦＬＩＸ" is
//     "netflix";
//   - drops apostrophes ("Sam's" is "sams"), a leading "www." and a generic
//     top-level domain after a dot (.com .net .org .io .co .us .co.uk);
//   - spells "+" as "plus" and "&" as "and", so "Disney+" and "Disney Plus"
//     are one name;
//   - splits on everything that is not a letter, digit or spacing mark, and
//     joins runs of single letters ("L.L.C." is "llc", "H B O" is "hbo");
//   - drops trailing legal and billing noise words ("inc", "llc", "ab",
//     "subscription", "membership", "plan", "monthly", "fee", ...: see
//     legalSuffixes and billingSuffixes) and a leading "the", but never the
//     last remaining word. Product tiers ("premium", "plus", "pro") are
//     kept: "YouTube Premium" and "YouTube" stay distinct;
//   - joins the words with single spaces.
//
// Normalize is deterministic and idempotent, and its result is empty only
// when name has no letter or digit at all.
func Normalize(name string) string {
	folded := fold(name)
	s := tldRE.ReplaceAllString(wwwRE.ReplaceAllString(folded, ""), "")
	if words := tidy(s); len(words) > 0 {
		return strings.Join(words, " ")
	}
	// Nothing left. Either the name was only a domain (".com"): keep its
	// words rather than return nothing for a name with letters; or every
	// letter vanished in folding, as a handful of marks that are letters
	// only in name do (U+037A GREEK YPOGEGRAMMENI decomposes to a space and
	// a nonspacing mark): keep them as they are.
	if words := tidy(folded); len(words) > 0 {
		return strings.Join(words, " ")
	}
	return strings.Join(tidy(name), " ")
}

// fold case-folds s, strips its accents and apostrophes, and spells out
// "+" and "&".
func fold(s string) string {
	// Neither a Caser nor a Chain may be shared between goroutines.
	t := transform.Chain(
		cases.Fold(),
		norm.NFKD, runes.Remove(runes.In(unicode.Mn)),
		cases.Fold(),
		norm.NFKD, runes.Remove(runes.In(unicode.Mn)),
		norm.NFC,
	)
	if f, _, err := transform.String(t, s); err == nil {
		s = f
	}
	return symbols.Replace(apostrophes.Replace(s))
}

// tidy splits s into words, joins runs of single letters, and drops
// trailing noise words and a leading "the", keeping at least one word.
func tidy(s string) []string {
	words := joinSingleLetters(strings.FieldsFunc(s, notWord))
	for len(words) > 1 && noise[words[len(words)-1]] {
		words = words[:len(words)-1]
	}
	for len(words) > 1 && words[0] == "the" {
		words = words[1:]
	}
	return words
}

func notWord(r rune) bool {
	return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.Is(unicode.Mc, r)
}

// joinSingleLetters merges each run of two or more one-letter words.
func joinSingleLetters(words []string) []string {
	out := words[:0]
	run := 0 // length of the run of single letters ending at out's tail
	for _, w := range words {
		r, size := utf8.DecodeRuneInString(w)
		if size == len(w) && unicode.IsLetter(r) {
			if run > 0 {
				out[len(out)-1] += w
			} else {
				out = append(out, w)
			}
			run++
			continue
		}
		run = 0
		out = append(out, w)
	}
	return out
}
