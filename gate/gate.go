// Package gate holds the plan, role and email gates, as the Programs seed
// defines them, in one place. The GraphQL directives and the REST shim call
// these; no resolver or tool checks a plan by itself.
package gate

import (
	"fmt"

	"github.com/tandemhq/tandem/viewer"
)

// Tiers in order: a gate for a tier admits it and every tier above.
var tiers = []string{"Free", "Trial", "Starter", "Growth", "Pro"}

func rank(tier string) int {
	for i, t := range tiers {
		if t == tier {
			return i
		}
	}
	return -1
}

// Error is a gate's refusal. Code is the seed's error code; Status its HTTP status.
type Error struct {
	Code         string // plan_tier_required, paid_plan_required, forbidden, email_not_verified, unauthorized
	Status       int
	RequiredTier string // for plan gates
	Message      string
}

func (e *Error) Error() string { return e.Message }

func planError(code, tier, current string) *Error {
	msg := fmt.Sprintf("this needs the %s plan or higher (the organization is on %s): upgrade the plan; switching tokens will not help", tier, current)
	if code == "paid_plan_required" {
		msg = fmt.Sprintf("this needs an active paid subscription on %s or higher (the organization is on %s): upgrade to a paid plan", tier, current)
	}
	return &Error{Code: code, Status: 402, RequiredTier: tier, Message: msg}
}

var errNoViewer = &Error{Code: "unauthorized", Status: 401, Message: "sign in first"}

// RequirePlan is the feature-tier gate: it applies however the call arrives.
func RequirePlan(v *viewer.Viewer, tier string) error {
	if v == nil {
		return errNoViewer
	}
	if rank(tier) < 0 {
		return fmt.Errorf("gate: unknown tier %q", tier)
	}
	if rank(v.Plan) < rank(tier) {
		return planError("plan_tier_required", tier, v.Plan)
	}
	return nil
}

// RequirePaidPlan is RequirePlan plus an active (not trialing, not lapsed)
// subscription, for features that cost real money to run (bulk emails).
func RequirePaidPlan(v *viewer.Viewer, tier string) error {
	if err := RequirePlan(v, tier); err != nil {
		if ge, ok := err.(*Error); ok && ge.Code == "plan_tier_required" {
			ge.Code = "paid_plan_required"
			ge.Message = planError("paid_plan_required", tier, v.Plan).Message
		}
		return err
	}
	if v.SubscriptionStatus != "active" {
		return planError("paid_plan_required", tier, v.Plan)
	}
	return nil
}

// PublicAPITier is the lowest plan whose API keys may call /api/v1 directly.
const PublicAPITier = "Growth"

// PublicAPI is the public-API gate: a direct rk_live_ key call needs Growth
// or higher. MCP-relayed traffic bypasses it, which is why MCP works on every plan.
func PublicAPI(v *viewer.Viewer) error {
	if v == nil {
		return errNoViewer
	}
	if v.ActorType != viewer.ActorAPIKey {
		return nil
	}
	return RequirePlan(v, PublicAPITier)
}

// RequireOwner admits only an organization owner.
func RequireOwner(v *viewer.Viewer) error {
	if v == nil {
		return errNoViewer
	}
	if v.Role != viewer.RoleOwner {
		return &Error{Code: "forbidden", Status: 403, Message: "only an organization owner may do this"}
	}
	return nil
}

// RequireVerifiedEmail admits only a person whose email is verified.
func RequireVerifiedEmail(v *viewer.Viewer) error {
	if v == nil {
		return errNoViewer
	}
	if !v.EmailVerified {
		return &Error{Code: "email_not_verified", Status: 403, Message: "verify your email address first: use the link we sent, or request a new one"}
	}
	return nil
}
