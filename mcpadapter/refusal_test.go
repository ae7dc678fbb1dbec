package mcpadapter

import (
	"testing"

	"github.com/tandemhq/tandem/graph"
)

// A refusal from the API keeps the next step it came with; one without gets
// the endpoint's wording, else the Programs one. The core's errors take the
// endpoint's wording over their own.
func TestRefusalNext(t *testing.T) {
	person := Config{RefusalNext: map[string]string{"unauthorized": "Mint a token on /token."}}
	for _, tc := range []struct {
		name string
		cfg  Config
		in   graph.PublicError
		api  bool
		want string
	}{
		{"API next kept", person, graph.PublicError{Error: "unauthorized", Next: "A new token will not help."}, true, "A new token will not help."},
		{"API next filled by the endpoint", person, graph.PublicError{Error: "unauthorized"}, true, "Mint a token on /token."},
		{"API next filled by Programs", person, graph.PublicError{Error: "mcp_relay_required"}, true, programsNext("mcp_relay_required")},
		{"Programs API next filled", Config{}, graph.PublicError{Error: "unauthorized"}, true, programsNext("unauthorized")},
		{"core next replaced", person, graph.PublicError{Error: "unauthorized", Next: "Settings → AI assistant."}, false, "Mint a token on /token."},
		{"Programs core next kept", Config{}, graph.PublicError{Error: "unauthorized", Next: "Settings → AI assistant."}, false, "Settings → AI assistant."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.cfg.coreRefusal(tc.in)
			if tc.api {
				got = tc.cfg.apiRefusal(tc.in)
			}
			if got.Next != tc.want {
				t.Errorf("next = %q, want %q", got.Next, tc.want)
			}
		})
	}
}
