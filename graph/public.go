package graph

import (
	"net/http"

	"github.com/vektah/gqlparser/v2/gqlerror"
)

// PublicError is a GraphQL error as the REST shim and the MCP tools show it:
// the seeds' snake_case error name, its HTTP status, and one line telling the
// caller (often an AI agent) what to do next.
type PublicError struct {
	Status       int    `json:"status"`
	Error        string `json:"error"`
	Message      string `json:"message"`
	Field        string `json:"field,omitempty"`
	RequiredTier string `json:"requiredTier,omitempty"`
	Next         string `json:"next"`
}

// Public maps a GraphQL error from this core to its public form. A specific
// reason (extensions.reason, e.g. slug_already_taken) names the error when
// there is one; otherwise the code does.
func Public(e *gqlerror.Error) PublicError {
	code, _ := e.Extensions["code"].(string)
	p := PublicError{Message: e.Message}
	p.Field, _ = e.Extensions["field"].(string)
	p.RequiredTier, _ = e.Extensions["requiredTier"].(string)
	p.Status, p.Error, p.Next = publicCode(code)
	if reason, ok := e.Extensions["reason"].(string); ok && reason != "" {
		p.Error = reason
	}
	switch code {
	case CodePlanRequired, CodePaidPlan:
		if p.RequiredTier != "" {
			p.Next = "Upgrade the organization's plan to " + p.RequiredTier + " or higher"
			if code == CodePaidPlan {
				p.Next += " with an active paid subscription"
			}
			p.Next += "; switching tokens will not help."
		}
	case CodeBadUserInput:
		if p.Field != "" {
			p.Next = "Fix " + p.Field + " as the message says and call again."
		}
	}
	return p
}

func publicCode(code string) (status int, name, next string) {
	switch code {
	case CodeUnauthenticated:
		return http.StatusUnauthorized, "unauthorized", "The credential is wrong, revoked or rotated: mint a fresh one (Settings → AI assistant, or `tandem token create`) and update the client's Authorization header."
	case CodeForbidden:
		return http.StatusForbidden, "forbidden", "This credential's role may not do this: ask an organization owner, or use a token with write access."
	case CodeNotFound:
		return http.StatusNotFound, "not_found", "Check the id: list the items first and use an id from that list."
	case CodeBadUserInput, "GRAPHQL_VALIDATION_FAILED":
		return http.StatusBadRequest, "invalid_argument", "Fix the argument as the message says and call again."
	case CodeConflict:
		return http.StatusConflict, "conflict", "The value collides with existing data: choose another value, or read the existing item instead."
	case CodeLimitReached:
		return http.StatusConflict, "limit_reached", "A per-organization limit is reached: free one (e.g. revoke an unused token) and retry."
	case CodePlanRequired:
		return http.StatusPaymentRequired, "plan_tier_required", "Upgrade the organization's plan; switching tokens will not help."
	case CodePaidPlan:
		return http.StatusPaymentRequired, "paid_plan_required", "Start a paid subscription; trials cannot use this."
	case CodeEmailUnverified:
		return http.StatusForbidden, "email_not_verified", "The owner must verify their email address with the link Tandem sent, then retry."
	case CodeQueryTooComplex:
		return http.StatusBadRequest, "query_too_complex", "Ask for fewer items per page."
	}
	return http.StatusInternalServerError, "internal", "Try again in a moment; if it keeps failing, contact support with the time of the call."
}
