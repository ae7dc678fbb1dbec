package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/tandemhq/tandem/ent/organization"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/gate"
	"github.com/tandemhq/tandem/graph/generated"
	"github.com/tandemhq/tandem/viewer"
)

// directives binds the schema's gate directives to package gate, so a gate
// is declared next to the field it guards and enforced the same way on
// every surface.
func directives() generated.DirectiveRoot {
	guard := func(check func(*viewer.Viewer) error) func(context.Context, any, graphql.Resolver) (any, error) {
		return func(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
			if err := check(viewer.FromContext(ctx)); err != nil {
				return nil, err
			}
			return next(ctx)
		}
	}
	return generated.DirectiveRoot{
		RequiresPlan: func(ctx context.Context, obj any, next graphql.Resolver, tier organization.PlanTier) (any, error) {
			return guard(func(v *viewer.Viewer) error { return gate.RequirePlan(v, string(tier)) })(ctx, obj, next)
		},
		RequiresPaidPlan: func(ctx context.Context, obj any, next graphql.Resolver, tier organization.PlanTier) (any, error) {
			return guard(func(v *viewer.Viewer) error { return gate.RequirePaidPlan(v, string(tier)) })(ctx, obj, next)
		},
		OwnerOnly:     guard(gate.RequireOwner),
		VerifiedEmail: guard(gate.RequireVerifiedEmail),
		// @affiliateAccess is a marker: affiliateScope, which runs around
		// every field, reads it. Brand viewers pass through untouched.
		AffiliateAccess: func(ctx context.Context, _ any, next graphql.Resolver) (any, error) { return next(ctx) },
	}
}

// affiliateAccess is the directive that opens a root field to an
// affiliate-scoped viewer.
const affiliateAccess = "affiliateAccess"

// errAffiliateRootField refuses an affiliate-scoped viewer any root field
// not marked @affiliateAccess.
var errAffiliateRootField = &fault.Error{Kind: fault.KindForbidden,
	Message: "this token acts for one affiliate; it can use only the affiliate tools (list_my_coupons, generate_affiliate_coupon)"}

// affiliateScope confines an affiliate-scoped viewer (viewer.AffiliateID
// set), in this one place, for every surface:
//
//   - a root Query or Mutation field (node and nodes included) runs only if
//     it is marked @affiliateAccess;
//   - beneath it, a field that loads data (a method or resolver: an edge
//     such as Coupon.campaign or Campaign.affiliates, a computed field)
//     runs only if marked too, so an allowed field cannot be used to walk
//     to the organization's other rows. Stored values of the rows the
//     allowed field returned (a coupon's code, a campaign's name) are read.
//
// It fails closed: a new field is refused to affiliates until someone marks
// it. Brand viewers are not affected.
func affiliateScope(ctx context.Context, next graphql.Resolver) (any, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.AffiliateID == "" {
		return next(ctx)
	}
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil {
		return nil, errAffiliateRootField
	}
	def := fc.Field.Definition
	if def != nil && def.Directives.ForName(affiliateAccess) != nil {
		return next(ctx)
	}
	if fc.Parent == nil || fc.Object == "Query" || fc.Object == "Mutation" || fc.Object == "Subscription" {
		return nil, errAffiliateRootField
	}
	if fc.IsMethod || fc.IsResolver {
		return nil, &fault.Error{Kind: fault.KindForbidden,
			Message: "this token acts for one affiliate: it reads the fields of the rows an affiliate tool returns, but cannot follow " +
				fc.Object + "." + fc.Field.Name + " to other rows"}
	}
	return next(ctx)
}
