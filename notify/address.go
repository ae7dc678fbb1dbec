package notify

import (
	"net/mail"
	"strings"
)

// Address returns s as a bare, lower-cased email address when it is one
// (no display name, a dot in the domain), the form affiliates and leads are
// stored and deduplicated by.
func Address(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 254 {
		return "", false
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s {
		return "", false
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || !strings.Contains(s[at+1:], ".") {
		return "", false
	}
	return strings.ToLower(s), true
}
