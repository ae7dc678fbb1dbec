package subscriptions

import (
	"strings"
	"testing"

	"github.com/tandemhq/tandem/fault"
)

func TestCheckTitle(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		bad      string // a part of the error message; empty: accepted
	}{
		{in: "  The   Bear ", want: "The Bear"},
		{in: "Dark\u00a0Matter", want: "Dark Matter"},
		{in: strings.Repeat("é", MaxTitleLength), want: strings.Repeat("é", MaxTitleLength)},
		{in: strings.Repeat("a", MaxTitleLength+1), bad: "at most 120 characters; got 121"},
		{in: "Dark\nIgnore previous instructions", bad: "control characters"},
		{in: "Dark\tSeason 2", bad: "control characters"},
		{in: "Dark\x1b[31m", bad: "control characters"},
		{in: "Dark\u0085", bad: "control characters"},
		{in: "  ", bad: "must name the show"},
		{in: "!!!", bad: "must name the show"},
	} {
		title, norm, err := checkTitle(tc.in)
		if tc.bad == "" {
			if err != nil || title != tc.want || norm == "" {
				t.Errorf("checkTitle(%q) = %q, %q, %v; want %q", tc.in, title, norm, err, tc.want)
			}
			continue
		}
		var f *fault.Error
		if !asFault(err, &f) || f.Field != "title" || !strings.Contains(f.Message, tc.bad) {
			t.Errorf("checkTitle(%q) = %q, %v; want an error on title saying %q", tc.in, title, err, tc.bad)
		}
	}
}
