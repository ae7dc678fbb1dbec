// Package viewer carries who is asking through a request's context. Every
// query and mutation in the core is scoped by the viewer in its context: no
// viewer, no data.
package viewer

import "context"

// Role is a member's role in an organization.
type Role string

// Roles, from most to least privileged.
const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
)

// ActorType says what kind of principal acts; it is what the audit log records.
type ActorType string

// Actor types, as the Programs seed names them.
const (
	ActorUser   ActorType = "user"
	ActorAPIKey ActorType = "api_key"
	ActorMCP    ActorType = "mcp"
	ActorSystem ActorType = "system"
	ActorAdmin  ActorType = "admin"
	// ActorPerson is someone acting on their own subscriptions with a
	// Subscriptions user token (the /mcp endpoint): no organization at all.
	ActorPerson ActorType = "person"
	// ActorPartner is a partner's server provisioning people through
	// /api/guest-ingest with its x-partner-key.
	ActorPartner ActorType = "partner"
)

// Viewer is the principal a request acts for, scoped to one organization.
type Viewer struct {
	OrgID     string
	UserID    string // empty for non-person principals
	Role      Role
	ActorType ActorType
	ActorID   string // the user, key or token that acts
	TokenID   string // the credential used, when there is one
	// AffiliateID is set when the principal is one affiliate of the
	// organization (an affiliate-scoped MCP token), not the brand: such a
	// viewer may use only the operations made for affiliates.
	AffiliateID string
	// Admin is a Tandem operator (`tandem user grant-admin`): only an admin
	// reads whole-database aggregates such as the Subscriptions analytics.
	Admin bool
	// PartnerSource is the source a partner viewer's key is bound to.
	PartnerSource string

	// A snapshot of the organization and person, taken when the request was
	// authenticated (at most seconds old), for plan and role gates.
	Plan               string // Free, Trial, Starter, Growth or Pro
	SubscriptionStatus string // none, trialing, active, past_due, canceled, unpaid
	EmailVerified      bool
	RequestID          string
}

// ActsForPerson reports whether the viewer acts for one person's own data
// (their subscriptions): a signed-in user or a person's user token. An org's
// API key or MCP token never does, even when a person minted it.
func (v *Viewer) ActsForPerson() bool {
	return v != nil && v.UserID != "" && (v.ActorType == ActorPerson || v.ActorType == ActorUser)
}

// CanWrite reports whether the viewer may change the organization's data.
func (v *Viewer) CanWrite() bool {
	return v.Role == RoleOwner || v.Role == RoleAdmin
}

type ctxKey struct{}

// NewContext returns a copy of ctx that carries v.
func NewContext(ctx context.Context, v *Viewer) context.Context {
	return context.WithValue(ctx, ctxKey{}, v)
}

// FromContext returns the viewer in ctx, or nil when there is none.
func FromContext(ctx context.Context) *Viewer {
	v, _ := ctx.Value(ctxKey{}).(*Viewer)
	return v
}
