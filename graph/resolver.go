// Package graph is Tandem's GraphQL core: every surface (dashboard, MCP, REST)
// runs its operations through this one schema.
package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/viewer"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/graph/generated"
)

// Resolver is the root resolver. It holds dependencies only, no request state.
type Resolver struct {
	client *ent.Client
}

// NewSchema returns the executable schema served on every surface.
func NewSchema(client *ent.Client) graphql.ExecutableSchema {
	return generated.NewExecutableSchema(generated.Config{
		Resolvers: &Resolver{client: client},
	})
}

// viewerOrgID returns the organization of the viewer in ctx.
func viewerOrgID(ctx context.Context) (string, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return "", rule.ErrNoViewer
	}
	return v.OrgID, nil
}
