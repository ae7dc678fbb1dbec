package notify

import (
	"strings"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"

	"github.com/tandemhq/tandem/fault"
)

// MaxNoteLen is the most characters a personal note may have before it is
// sanitized.
const MaxNoteLen = 5000

// noteField is the input name refusals of a personal note carry.
const noteField = "personalNoteHtml"

// notePolicy is the allowlist a brand's personal note is reduced to: text
// formatting, lists, quotes and links to https or mailto addresses, nothing
// else. No style (CSS can hide or restyle the whole email), no images
// (tracking pixels), no scripts, forms or event handlers. bluemonday drops
// the contents of script and style elements along with the elements.
//
// A bluemonday policy must not be changed once it is in use, so it is built
// once here; Sanitize is safe for concurrent use.
var notePolicy = func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "blockquote")
	p.AllowAttrs("href").OnElements("a")
	p.AllowURLSchemes("https", "mailto")
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(false)
	// rel="nofollow" on every link; https links also open in a new tab with
	// rel="noopener", so the opened page cannot reach back into the mail client.
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
}()

// SanitizeNote reduces a brand's personal note to the allowlist above and
// returns HTML that is safe to put into an email as it is (Message.NoteHTML).
// A note of only whitespace or only disallowed markup sanitizes to "". A note
// longer than MaxNoteLen characters, or not UTF-8, is refused with a
// fault naming personalNoteHtml.
func SanitizeNote(html string) (string, error) {
	if !utf8.ValidString(html) {
		return "", fault.Invalid(noteField, "is not valid UTF-8 text")
	}
	if n := utf8.RuneCountInString(html); n > MaxNoteLen {
		return "", fault.Invalid(noteField, "is %d characters long; it may have at most %d: shorten the note", n, MaxNoteLen)
	}
	clean := strings.TrimSpace(notePolicy.Sanitize(html))
	if NoteText(clean) == "" {
		return "", nil // nothing a reader would see
	}
	return clean, nil
}
