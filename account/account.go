// Package account is what people and their credentials can do: sign up, sign
// in (by password or a one-time email link), verify an address, sign out
// everywhere, and mint, rotate and revoke MCP tokens and API keys. GraphQL
// resolvers and the CLI call it, so every surface applies the same rules.
//
// Work runs in the caller's transaction when ctx carries one (a GraphQL
// mutation's), and in a transaction of its own otherwise (the CLI). Writes
// on a viewer's behalf use the viewer's context, so the privacy policies in
// ent/schema decide who may; writes only the system may make (users,
// organizations, login tokens, the outbox) say rule.AsSystem(ctx) where they
// happen.
package account

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/store"

	"github.com/tandemhq/tandem/auth"
	"github.com/tandemhq/tandem/ent"
	_ "github.com/tandemhq/tandem/ent/runtime" // the schema's validators, hooks and policies
	"github.com/tandemhq/tandem/keys"
)

// DefaultPublicURL is where links in emails point when Options.PublicURL is empty.
const DefaultPublicURL = "http://127.0.0.1:8080"

// Lifetimes and limits.
const (
	// TrialDays is how long a new organization's trial lasts.
	TrialDays = 14
	// SignInLinkTTL is how long an emailed sign-in link works.
	SignInLinkTTL = 15 * time.Minute
	// VerifyEmailTTL is how long an email verification link works.
	VerifyEmailTTL = 7 * 24 * time.Hour
	// MaxActiveMCPTokens is how many unrevoked MCP tokens an organization may hold.
	MaxActiveMCPTokens = 10
)

// Options are a Service's dependencies.
type Options struct {
	Keys      keys.Keys        // Session signs sessions; Encryption seals signing secrets
	Now       func() time.Time // nil: time.Now
	PublicURL string           // base of links in emails; empty: DefaultPublicURL
	// Argon2 hashes new passwords; zero: auth.DefaultArgon2. Tests pass cheap
	// parameters.
	Argon2 auth.Argon2Params
}

// Service does the work. It is safe for concurrent use.
type Service struct {
	client *ent.Client
	opts   Options

	dummyOnce sync.Once
	dummy     string
}

// New returns a Service over client.
func New(client *ent.Client, opts Options) *Service {
	if opts.PublicURL == "" {
		opts.PublicURL = DefaultPublicURL
	}
	if opts.Argon2 == (auth.Argon2Params{}) {
		opts.Argon2 = auth.DefaultArgon2
	}
	return &Service{client: client, opts: opts}
}

func (s *Service) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// inTx is store.InTx on the service's client.
func (s *Service) inTx(ctx context.Context, fn func(ctx context.Context, c *ent.Client) error) error {
	return store.InTx(ctx, s.client, fn)
}

// Error, Kind and their values are the shared refusal type of package fault.
type (
	Error = fault.Error
	Kind  = fault.Kind
)

// The kinds of Error.
const (
	KindInvalid         = fault.KindInvalid
	KindUnauthenticated = fault.KindUnauthenticated
	KindForbidden       = fault.KindForbidden
	KindConflict        = fault.KindConflict
	KindLimitReached    = fault.KindLimitReached
)

func invalid(field, format string, args ...any) *Error {
	return fault.Invalid(field, format, args...)
}

// Refusals callers may test for with errors.Is.
var (
	// ErrWrongPassword never says whether the email or the password was wrong.
	ErrWrongPassword = &Error{Kind: KindUnauthenticated, Message: "email or password is wrong"}
	// ErrInvalidLink covers unknown, expired, used and mismatched link tokens alike.
	ErrInvalidLink = &Error{Kind: KindUnauthenticated, Message: "this link is invalid, expired or already used; ask for a new one"}
	// ErrSessionOnly refuses a person-only action to a token or key.
	ErrSessionOnly = &Error{Kind: KindForbidden, Message: "only a person signed in to the dashboard can do this"}
	// ErrTooManyMCPTokens is the per-organization cap.
	ErrTooManyMCPTokens = &Error{Kind: KindLimitReached,
		Message: fmt.Sprintf("an organization can have at most %d active MCP tokens; revoke one first", MaxActiveMCPTokens)}
	// ErrRevoked refuses to rotate a token that is already revoked.
	ErrRevoked = &Error{Kind: KindConflict, Message: "this MCP token is revoked; create a new one instead"}
)
