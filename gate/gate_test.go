package gate

import (
	"errors"
	"testing"

	"github.com/tandemhq/tandem/viewer"
)

func TestPlanGates(t *testing.T) {
	for _, tc := range []struct {
		name     string
		v        *viewer.Viewer
		check    func(*viewer.Viewer) error
		wantCode string // "" = allowed
	}{
		{"growth feature on starter", &viewer.Viewer{Plan: "Starter", ActorType: viewer.ActorMCP}, func(v *viewer.Viewer) error { return RequirePlan(v, "Growth") }, "plan_tier_required"},
		{"growth feature on trial", &viewer.Viewer{Plan: "Trial"}, func(v *viewer.Viewer) error { return RequirePlan(v, "Growth") }, "plan_tier_required"},
		{"growth feature on growth", &viewer.Viewer{Plan: "Growth"}, func(v *viewer.Viewer) error { return RequirePlan(v, "Growth") }, ""},
		{"growth feature on pro", &viewer.Viewer{Plan: "Pro"}, func(v *viewer.Viewer) error { return RequirePlan(v, "Growth") }, ""},
		{"pro feature on growth", &viewer.Viewer{Plan: "Growth"}, func(v *viewer.Viewer) error { return RequirePlan(v, "Pro") }, "plan_tier_required"},
		{"paid feature on trial", &viewer.Viewer{Plan: "Trial", SubscriptionStatus: "trialing"}, func(v *viewer.Viewer) error { return RequirePaidPlan(v, "Starter") }, "paid_plan_required"},
		{"paid feature on lapsed starter", &viewer.Viewer{Plan: "Starter", SubscriptionStatus: "past_due"}, func(v *viewer.Viewer) error { return RequirePaidPlan(v, "Starter") }, "paid_plan_required"},
		{"paid feature on active starter", &viewer.Viewer{Plan: "Starter", SubscriptionStatus: "active"}, func(v *viewer.Viewer) error { return RequirePaidPlan(v, "Starter") }, ""},
		{"public API, key on starter", &viewer.Viewer{Plan: "Starter", ActorType: viewer.ActorAPIKey}, PublicAPI, "plan_tier_required"},
		{"public API, key on growth", &viewer.Viewer{Plan: "Growth", ActorType: viewer.ActorAPIKey}, PublicAPI, ""},
		{"public API, MCP on free bypasses", &viewer.Viewer{Plan: "Free", ActorType: viewer.ActorMCP}, PublicAPI, ""},
		{"owner only, admin", &viewer.Viewer{Role: viewer.RoleAdmin}, RequireOwner, "forbidden"},
		{"owner only, owner", &viewer.Viewer{Role: viewer.RoleOwner}, RequireOwner, ""},
		{"verified email, unverified", &viewer.Viewer{}, RequireVerifiedEmail, "email_not_verified"},
		{"verified email, verified", &viewer.Viewer{EmailVerified: true}, RequireVerifiedEmail, ""},
		{"no viewer", nil, PublicAPI, "unauthorized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.check(tc.v)
			var ge *Error
			switch {
			case tc.wantCode == "" && err != nil:
				t.Fatalf("got %v, want allowed", err)
			case tc.wantCode != "" && (!errors.As(err, &ge) || ge.Code != tc.wantCode):
				t.Fatalf("got %v, want %s", err, tc.wantCode)
			}
			if ge != nil && (ge.Code == "plan_tier_required" || ge.Code == "paid_plan_required") && (ge.Status != 402 || ge.RequiredTier == "") {
				t.Fatalf("plan refusal %+v: want 402 naming the tier", ge)
			}
		})
	}
}
