// Package graph is Tandem's GraphQL core: every surface (dashboard, MCP, REST)
// runs its operations through this one schema.
package graph

import (
	"context"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/viewer"

	"github.com/tandemhq/tandem/account"
	"github.com/tandemhq/tandem/auth"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/graph/generated"
	"github.com/tandemhq/tandem/keys"
)

// Resolver is the root resolver. It holds dependencies only, no request state.
type Resolver struct {
	client  *ent.Client
	account *account.Service
	deps    Deps
}

// now is the resolvers' clock: Deps.Now in tests, else the wall clock.
func (r *Resolver) now() time.Time {
	if r.deps.Now != nil {
		return r.deps.Now().UTC()
	}
	return time.Now().UTC()
}

// publicURL is the base of links Tandem sends, without a trailing slash.
func (r *Resolver) publicURL() string {
	if r.deps.PublicURL == "" {
		return "http://127.0.0.1:8080"
	}
	return strings.TrimRight(r.deps.PublicURL, "/")
}

// Deps are what the resolvers need besides the database.
type Deps struct {
	Keys      keys.Keys        // signs sessions, seals API signing secrets
	Now       func() time.Time // nil: time.Now
	PublicURL string           // base of links in emails; empty: http://127.0.0.1:8080
	// Argon2 hashes new passwords; zero: auth.DefaultArgon2. Tests pass
	// cheap parameters here.
	Argon2 auth.Argon2Params
}

// NewSchema returns the executable schema served on every surface.
func NewSchema(client *ent.Client, deps Deps) graphql.ExecutableSchema {
	return generated.NewExecutableSchema(generated.Config{
		Resolvers: &Resolver{
			client: client,
			deps:   deps,
			account: account.New(client, account.Options{
				Keys: deps.Keys, Now: deps.Now, PublicURL: deps.PublicURL, Argon2: deps.Argon2,
			}),
		},
		Directives: directives(),
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
