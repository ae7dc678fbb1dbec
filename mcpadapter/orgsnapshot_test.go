package mcpadapter_test

import (
	"context"
	"testing"

	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/store/storetest"
)

// get_org_profile is served from the organization's snapshot, which every
// change drops: a write tool's change (in its transaction) and a change made
// elsewhere through the same client both show in the very next read.
func TestOrgProfileReflectsEveryChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		st := newStack(t, b, "pro")
		s := st.connect(t, st.token)
		profile := func() map[string]any {
			t.Helper()
			out, errText := call(t, s, "get_org_profile", nil)
			if errText != "" {
				t.Fatalf("get_org_profile: %s", errText)
			}
			return out
		}
		if p := profile(); p["homeCurrency"] != "USD" || p["name"] != "Acme" {
			t.Fatalf("before: %v", p)
		}
		if _, errText := call(t, s, "set_home_currency", map[string]any{"homeCurrency": "EUR"}); errText != "" {
			t.Fatalf("set_home_currency: %s", errText)
		}
		if p := profile(); p["homeCurrency"] != "EUR" {
			t.Fatalf("after set_home_currency: %v", p)
		}
		st.db.Client.Organization.UpdateOneID(st.orgID).SetName("Acme Inc").ExecX(rule.AsSystem(context.Background()))
		if p := profile(); p["name"] != "Acme Inc" {
			t.Fatalf("after a rename: %v", p)
		}
	})
}
