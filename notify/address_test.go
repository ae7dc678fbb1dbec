package notify

import "testing"

func TestAddress(t *testing.T) {
	for in, want := range map[string]string{
		" Ada@Example.COM ":     "ada@example.com",
		"Ada <ada@example.com>": "",
		"ada@localhost":         "",
		"not-an-email":          "",
		"":                      "",
	} {
		got, ok := Address(in)
		if got != want || ok != (want != "") {
			t.Errorf("Address(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
