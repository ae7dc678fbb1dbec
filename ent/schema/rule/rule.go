// Package rule holds Tandem's tenancy rules, written once and applied to every
// entity through the schema's mixins: a viewer sees and changes only its own
// organization's rows, another organization's rows are simply not found, and
// a context without a viewer sees nothing at all.
package rule

import (
	"context"
	"fmt"

	"entgo.io/ent"
	"entgo.io/ent/entql"

	gen "github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/membership"
	"github.com/tandemhq/tandem/ent/privacy"
	"github.com/tandemhq/tandem/ent/user"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/viewer"
)

const orgField = "org_id"

// AsSystem returns a context in which every privacy rule allows. Only trusted
// code acting on no one's behalf uses it (the CLI, migrations, the demo
// seeder); grep for it to find every such place.
func AsSystem(ctx context.Context) context.Context {
	return privacy.DecisionContext(ctx, privacy.Allow)
}

// ErrNoViewer is the decision for a context without a viewer.
var ErrNoViewer = privacy.Denyf("no viewer in context")

// ErrReadOnly is the decision for a viewer whose role may not write.
var ErrReadOnly = privacy.Denyf("the viewer's role may not change this organization's data")

func denyWithoutViewer() privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if viewer.FromContext(ctx) == nil {
			return ErrNoViewer
		}
		return privacy.Skip
	})
}

// RequireWriter refuses, before anything is read, a viewer the write rules
// would refuse: so an operation whose no-op answer would otherwise come
// first (an idempotent repeat) tells a read-only member the same thing
// whatever state the data is in.
func RequireWriter(ctx context.Context) error {
	v := viewer.FromContext(ctx)
	switch {
	case v == nil:
		return ErrNoViewer
	case !v.CanWrite():
		return ErrReadOnly
	}
	return nil
}

// ErrPersonRequired is RequirePerson's refusal of an organization's key or
// token: subscriptions belong to people.
var ErrPersonRequired = &fault.Error{Kind: fault.KindForbidden, Reason: "person_required",
	Message: "subscriptions belong to a person: sign in as that person, or use their Subscriptions user token (an organization's API key or MCP token has no subscriptions)"}

// RequirePerson refuses, before anything is read, a viewer that does not
// act for one person. PersonScopedPolicy would return nothing anyway; this
// says why.
func RequirePerson(ctx context.Context) error {
	v := viewer.FromContext(ctx)
	switch {
	case v == nil:
		return ErrNoViewer
	case !v.ActsForPerson():
		return ErrPersonRequired
	}
	return nil
}

func denyReadOnlyWrites() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		v := viewer.FromContext(ctx)
		if !v.CanWrite() && !affiliateMintsOwnCoupon(ctx, v, m) {
			return ErrReadOnly
		}
		return privacy.Skip
	})
}

type affiliateCouponMintKey struct{}

// AllowAffiliateCouponMint marks ctx as generateAffiliateCoupon's: in it, an
// affiliate-scoped viewer (read-only for the organization's data) may create
// one kind of row, a coupon for itself. It is the only write an affiliate
// principal can make, and only the resolver that mints its code opts in.
func AllowAffiliateCouponMint(ctx context.Context) context.Context {
	return context.WithValue(ctx, affiliateCouponMintKey{}, true)
}

// affiliateMintsOwnCoupon is the narrow exception to denyReadOnlyWrites: a
// coupon create, by an affiliate viewer, for that same affiliate, in a
// context AllowAffiliateCouponMint marked. Anything else stays read-only.
func affiliateMintsOwnCoupon(ctx context.Context, v *viewer.Viewer, m ent.Mutation) bool {
	if on, _ := ctx.Value(affiliateCouponMintKey{}).(bool); !on || v.AffiliateID == "" || !m.Op().Is(ent.OpCreate) {
		return false
	}
	cm, ok := m.(*gen.CouponMutation)
	if !ok {
		return false
	}
	id, ok := cm.AffiliateID()
	return ok && id == v.AffiliateID
}

// Owners of scoped rows: the viewer's organization, or the person it acts for.
func viewerOrg(v *viewer.Viewer) string    { return v.OrgID }
func viewerPerson(v *viewer.Viewer) string { return v.UserID }

// filterByField scopes a query or an update/delete to rows whose field equals
// the viewer's organization.
func filterByField(field string) privacy.FilterFunc { return filterByOwner(field, viewerOrg) }

// filterByOwner scopes a query or an update/delete to rows whose field
// equals the viewer's owner (organization or person).
func filterByOwner(field string, owner func(*viewer.Viewer) string) privacy.FilterFunc {
	return func(ctx context.Context, f privacy.Filter) error {
		f.Where(entql.FieldEQ(field, owner(viewer.FromContext(ctx))))
		return privacy.Skip
	}
}

// createForOwner refuses a create whose field names another owner than the
// viewer's; a create that names none gets the viewer's from setOnCreate.
func createForOwner(field string, owner func(*viewer.Viewer) string, refusal string) privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		if !m.Op().Is(ent.OpCreate) {
			return privacy.Skip
		}
		if v, ok := m.Field(field); ok && v != owner(viewer.FromContext(ctx)) {
			return privacy.Denyf("%s", refusal)
		}
		return privacy.Skip
	})
}

// setOnCreate stamps a new row's field with the viewer's owner when the
// viewer has one (applies) and the create names none.
func setOnCreate(field string, applies func(*viewer.Viewer) bool, owner func(*viewer.Viewer) string) ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			if v := viewer.FromContext(ctx); applies(v) && m.Op().Is(ent.OpCreate) {
				if _, ok := m.Field(field); !ok {
					if err := m.SetField(field, owner(v)); err != nil {
						return nil, err
					}
				}
			}
			return next.Mutate(ctx, m)
		})
	}
}

// OrgScopedPolicy is the policy of every entity that belongs to an
// organization. It ends undecided, so an entity's own policy (owner-only
// writes, say) still runs after it; if none decides, the operation is allowed
// within the viewer's organization.
func OrgScopedPolicy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			denyWithoutViewer(),
			filterByField(orgField),
		},
		Mutation: privacy.MutationPolicy{
			denyWithoutViewer(),
			denyReadOnlyWrites(),
			createForOwner(orgField, viewerOrg, "cannot create rows in another organization"),
			privacy.OnMutationOperation(filterByField(orgField), ent.OpUpdate|ent.OpUpdateOne|ent.OpDelete|ent.OpDeleteOne),
		},
	}
}

// ErrOwnerSessionOnly is the decision for a credential change by anyone but
// an owner signed in to the dashboard: an MCP token or API key can never mint
// or revoke credentials, so it cannot outlive or escalate itself.
var ErrOwnerSessionOnly = privacy.Denyf("only an organization owner signed in to the dashboard may manage credentials")

// OwnerOnlyWrites lets members read an entity but only an owner, in person,
// change it.
func OwnerOnlyWrites() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{
			privacy.MutationRuleFunc(func(ctx context.Context, _ ent.Mutation) error {
				v := viewer.FromContext(ctx)
				if v == nil || v.Role != viewer.RoleOwner || v.ActorType != viewer.ActorUser {
					return ErrOwnerSessionOnly
				}
				return privacy.Skip
			}),
		},
	}
}

// SystemOnly keeps an entity away from every viewer; only code running
// AsSystem reads or writes it.
func SystemOnly() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{privacy.AlwaysDenyRule()},
		Mutation: privacy.MutationPolicy{privacy.AlwaysDenyRule()},
	}
}

// OrganizationPolicy lets a viewer read and update its own organization only.
// Organizations are created by the system (sign-up, the CLI), never by a viewer.
func OrganizationPolicy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			denyWithoutViewer(),
			filterByField("id"),
			privacy.AlwaysAllowRule(),
		},
		Mutation: privacy.MutationPolicy{
			denyWithoutViewer(),
			privacy.DenyMutationOperationRule(ent.OpCreate | ent.OpDelete | ent.OpDeleteOne),
			denyReadOnlyWrites(),
			filterByField("id"),
			privacy.AlwaysAllowRule(),
		},
	}
}

// UserPolicy lets a viewer see the people in its own organization. Users are
// created and changed by the system (sign-up, the CLI).
func UserPolicy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			denyWithoutViewer(),
			privacy.UserQueryRuleFunc(func(ctx context.Context, q *gen.UserQuery) error {
				if v := viewer.FromContext(ctx); v.ActorType == viewer.ActorPerson {
					q.Where(user.ID(v.UserID)) // a person with a user token sees themself only
					return privacy.Skip
				}
				q.Where(user.HasMembershipsWith(membership.OrgID(viewer.FromContext(ctx).OrgID)))
				return privacy.Skip
			}),
			privacy.AlwaysAllowRule(),
		},
		Mutation: privacy.MutationPolicy{
			privacy.AlwaysDenyRule(),
		},
	}
}

// SetOrgOnCreate stamps a new row with the viewer's organization.
func SetOrgOnCreate() ent.Hook {
	return setOnCreate(orgField, func(v *viewer.Viewer) bool { return v != nil }, viewerOrg)
}

// RefsInViewerOrg refuses a write that points an edge at a row the viewer
// cannot see (another organization's campaign, say), reporting it as not
// found, exactly as reading that row would.
func RefsInViewerOrg() ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			if viewer.FromContext(ctx) == nil {
				return next.Mutate(ctx, m)
			}
			cm, ok := m.(interface{ Client() *gen.Client })
			if !ok {
				return nil, fmt.Errorf("rule: mutation %T has no client", m)
			}
			for _, edge := range m.AddedEdges() {
				if edge == "organization" {
					continue
				}
				for _, id := range m.AddedIDs(edge) {
					s, _ := id.(string)
					if _, err := cm.Client().Noder(ctx, s, gen.WithNodeType(gen.IDToType)); err != nil {
						if gen.IsNotFound(err) {
							return nil, &RefNotFoundError{Edge: edge, ID: s}
						}
						return nil, err
					}
				}
			}
			return next.Mutate(ctx, m)
		})
	}
}

// RefNotFoundError reports an edge that names a row the viewer cannot see.
type RefNotFoundError struct {
	Edge string
	ID   string
}

func (e *RefNotFoundError) Error() string {
	return fmt.Sprintf("%s %q not found", e.Edge, e.ID)
}

// personField is the owner column of everything in a person's subscription
// memory.
const personField = "user_id"

// ErrNotAPerson is the decision for a viewer that does not act for one
// person (an organization's key or token): subscriptions belong to people.
var ErrNotAPerson = privacy.Denyf("only the person themself (signed in, or with their user token) may see or change their subscriptions")

func denyUnlessPerson() privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if !viewer.FromContext(ctx).ActsForPerson() {
			return ErrNotAPerson
		}
		return privacy.Skip
	})
}

// PersonScopedPolicy is the policy of every entity in a person's
// subscription memory: written once, as OrgScopedPolicy is for
// organizations. A person sees and changes only their own rows; another
// person's rows are simply not found; organization principals see nothing.
func PersonScopedPolicy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			denyWithoutViewer(),
			denyUnlessPerson(),
			filterByOwner(personField, viewerPerson),
		},
		Mutation: privacy.MutationPolicy{
			denyWithoutViewer(),
			denyUnlessPerson(),
			createForOwner(personField, viewerPerson, "cannot create rows in another person's subscriptions"),
			privacy.OnMutationOperation(filterByOwner(personField, viewerPerson), ent.OpUpdate|ent.OpUpdateOne|ent.OpDelete|ent.OpDeleteOne),
		},
	}
}

// SetPersonOnCreate stamps a new row with the viewer's person.
func SetPersonOnCreate() ent.Hook {
	return setOnCreate(personField, (*viewer.Viewer).ActsForPerson, viewerPerson)
}

// ReadableBySignedIn lets any viewer read a shared reference table (the
// provider catalog, the show list); only the system writes it.
func ReadableBySignedIn() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{denyWithoutViewer(), privacy.AlwaysAllowRule()},
		Mutation: privacy.MutationPolicy{privacy.AlwaysDenyRule()},
	}
}
