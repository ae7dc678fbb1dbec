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
	"github.com/tandemhq/tandem/subscriptions"
	"github.com/tandemhq/tandem/subscriptions/pauselink"
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
	// PauseLinks signs the 7-day pause links kordi_ingest_subscription
	// returns; server.New builds it with pauselink.New(Keys, PublicURL, Now).
	PauseLinks pauselink.Signer
	// Orgs serves viewerOrganization from snapshots that every change to
	// the organization invalidates (identity.Cache); nil reads the database.
	Orgs OrgSnapshots
}

// OrgSnapshots reads an organization through a cache (identity.Cache).
type OrgSnapshots interface {
	Organization(ctx context.Context, client *ent.Client, id string) (*ent.Organization, error)
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

// subscriptions is the Subscriptions domain with the resolvers' clock and
// pause-link signer (none when the server was given no keys, as in tests
// that do not need links).
func (r *Resolver) subscriptions() subscriptions.Service {
	s := subscriptions.Service{Now: r.now}
	if len(r.deps.PauseLinks.Secret) > 0 {
		s.PauseURL = r.deps.PauseLinks.URL
	}
	return s
}
