package identity

import (
	"context"
	"net/http"
	"time"

	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/ent/usertoken"
	"github.com/tandemhq/tandem/viewer"
)

// Subscriptions user tokens (kordi_ minted by the person, clerk_reg_ returned
// by a partner's guest-ingest) act for one person on /mcp. Like rk_mcp_
// tokens they are accepted only with the relay's signature, so a leaked
// token cannot reach the API around the relay's limits and header stripping.
var (
	errPersonRelayRequired = &Error{http.StatusUnauthorized, "mcp_relay_required",
		"kordi_ and clerk_reg_ tokens work only through the MCP endpoint /mcp: point your AI client there"}
	errPersonUnknown = &Error{http.StatusUnauthorized, "unauthorized",
		"this user token is unknown or was revoked (claiming a partner-created account revokes the partner's tokens): mint a new one at /token"}
)

// errPersonExpired says when the token expired and what to do.
func errPersonExpired(at time.Time) *Error {
	return &Error{http.StatusUnauthorized, "unauthorized",
		"this user token expired on " + at.UTC().Format(time.RFC3339) + ": mint a new one at /token (tokens last 90 days; partner-provisioned ones 30)"}
}

// personToken accepts a user token only with a valid relay identity over the
// exact request, exactly as mcpToken does for rk_mcp_.
func (a *Authenticator) personToken(r *http.Request, token string) (*viewer.Viewer, error) {
	if kind, err := credential.Parse(token); err != nil ||
		(kind != credential.KindUserToken && kind != credential.KindPartnerUserToken) {
		return nil, errPersonUnknown // malformed or look-alike: no database lookup
	}
	if err := a.verifyRelay(r, errPersonRelayRequired); err != nil {
		return nil, err
	}
	return a.PersonViewer(r.Context(), token)
}

// PersonViewer resolves a user token whose relay identity has already been
// verified. Resolutions are cached like MCP tokens' (the same short TTL and
// invalidation: revoking the token or changing the user forgets it on every
// instance); expiry is checked on every call, so a cached token stops at its
// expires_at exactly.
func (a *Authenticator) PersonViewer(ctx context.Context, token string) (*viewer.Viewer, error) {
	hash := credential.Hash(token)
	p, ok := a.Cache.get(hash)
	if !ok {
		var err error
		if p, err = a.loadPersonToken(ctx, hash); err != nil {
			return nil, err
		}
		a.Cache.put(hash, p)
	}
	if p == nil || p.actor != string(viewer.ActorPerson) {
		return nil, errPersonUnknown
	}
	if !a.now().Before(p.expiresAt) {
		return nil, errPersonExpired(p.expiresAt)
	}
	a.touch(ctx, p, func(ctx context.Context, at time.Time) error {
		return a.Client.UserToken.UpdateOneID(p.tokenID).SetLastUsedAt(at).Exec(ctx)
	})
	return p.viewer(), nil
}

// loadPersonToken returns the token's principal, or nil (cached too) when it
// is unknown or revoked. The user's admin flag and email state are read now,
// so granting admin or verifying the address takes effect within one TTL.
func (a *Authenticator) loadPersonToken(ctx context.Context, hash string) (*principal, error) {
	tok, err := a.Client.UserToken.Query().
		Where(usertoken.SecretHash(hash), usertoken.RevokedAtIsNil()).
		WithUser().Only(rule.AsSystem(ctx))
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	u := tok.Edges.User
	if u == nil {
		return nil, nil
	}
	return &principal{
		userID: u.ID, tokenID: tok.ID, actor: string(viewer.ActorPerson),
		emailVerified: u.EmailVerifiedAt != nil, admin: u.IsAdmin,
		expiresAt: tok.ExpiresAt, lastUsedWritten: derefTime(tok.LastUsedAt),
	}, nil
}
