package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/tandemhq/tandem/ent/organization"
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
	}
}
