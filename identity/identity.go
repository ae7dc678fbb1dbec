// Package identity turns a request's credentials into the viewer every rule
// in the core trusts: a dashboard session, an rk_mcp_ token co-signed by the
// trusted relay, or (on the REST shim) an rk_live_ key. It is the only place
// credentials are checked, so a rule written against the viewer holds for
// every surface.
package identity

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/tandemhq/tandem/auth"
	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/apikey"
	"github.com/tandemhq/tandem/ent/mcptoken"
	"github.com/tandemhq/tandem/ent/membership"
	"github.com/tandemhq/tandem/ent/organization"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/keys"
	"github.com/tandemhq/tandem/relay"
	"github.com/tandemhq/tandem/viewer"
)

// OrgHeader picks which of a signed-in person's organizations a request acts
// for (an org ID or slug); without it, their first membership.
const OrgHeader = "X-Tandem-Org"

// lastUsedEvery bounds how often a credential's last-used time is written:
// once a minute is precise enough and keeps reads from becoming writes.
const lastUsedEvery = time.Minute

// Authenticator resolves credentials to viewers.
type Authenticator struct {
	Client  *ent.Client
	Keys    keys.Keys
	Replay  relay.ReplayCache
	Cache   *Cache
	Now     func() time.Time
	Log     *slog.Logger
	MaxBody int64
}

func (a *Authenticator) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// Error is an authentication failure with the code and status the seeds name.
type Error struct {
	Status  int
	Code    string // unauthorized, mcp_relay_required, account_suspended, …
	Message string // one line telling the caller what to do next
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

var (
	errUnauthorized = &Error{http.StatusUnauthorized, "unauthorized",
		"the token is wrong, revoked or rotated: mint a fresh one under Settings → AI assistant"}
	errRelayRequired = &Error{http.StatusUnauthorized, "mcp_relay_required",
		"rk_mcp_ tokens work only through the MCP endpoint /api/mcp: point your AI client there"}
	errRelayInvalid = &Error{http.StatusUnauthorized, "unauthorized",
		"the relay identity header did not verify (stale relay secret, clock skew or a replay); contact support"}
	// relayInvalidNext is what the MCP relay tells an agent: the token is
	// fine, so minting another would not help.
	relayInvalidNext = "The MCP relay and the API disagree on the relay secret or the time: the operator must give both the same TANDEM_RELAY_SECRET and synchronized clocks; a new token will not help."
	errSession       = &Error{http.StatusUnauthorized, "unauthorized", "your session expired or was signed out: sign in again"}
	errAPIKeyHere    = &Error{http.StatusUnauthorized, "unauthorized",
		"rk_live_ API keys authenticate /api/v1 requests; the dashboard API takes a session"}
	errSuspended = &Error{http.StatusForbidden, "account_suspended",
		"this organization is suspended: its owner should contact support"}
	errNoMembership = &Error{http.StatusForbidden, "forbidden", "you are not a member of that organization"}
)

// Middleware authenticates each request and puts its viewer in the context.
// A request without credentials passes through without a viewer (the core
// then shows it nothing); a request with bad credentials is refused here.
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := a.Authenticate(r)
		if err != nil {
			var ae *Error
			if !errors.As(err, &ae) {
				a.log().ErrorContext(r.Context(), "authentication failed", "err", err, "request_id", middleware.GetReqID(r.Context()))
				ae = &Error{http.StatusInternalServerError, "internal", "authentication is unavailable; try again"}
			}
			WriteError(w, ae)
			return
		}
		if v != nil {
			v.RequestID = middleware.GetReqID(r.Context())
			r = r.WithContext(viewer.NewContext(r.Context(), v))
		}
		next.ServeHTTP(w, r)
	})
}

// WriteError answers an authentication failure as JSON.
func WriteError(w http.ResponseWriter, e *Error) {
	w.Header().Set("Content-Type", "application/json")
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tandem"`)
	}
	w.WriteHeader(e.Status)
	body := map[string]string{"error": e.Code, "message": e.Message}
	if e == errRelayInvalid {
		body["next"] = relayInvalidNext
	}
	_ = json.NewEncoder(w).Encode(body)
}

func (a *Authenticator) log() *slog.Logger {
	if a.Log != nil {
		return a.Log
	}
	return slog.Default()
}

// Authenticate returns the request's viewer: nil for an anonymous request.
func (a *Authenticator) Authenticate(r *http.Request) (*viewer.Viewer, error) {
	authz := r.Header.Get("Authorization")
	if authz == "" {
		return nil, nil
	}
	scheme, token, ok := strings.Cut(authz, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return nil, errUnauthorized
	}
	token = strings.TrimSpace(token)
	switch {
	case strings.HasPrefix(token, string(credential.KindMCP)):
		return a.mcpToken(r, token)
	case strings.HasPrefix(token, string(credential.KindAPIKey)):
		return nil, errAPIKeyHere
	case strings.HasPrefix(token, string(credential.KindUserToken)),
		strings.HasPrefix(token, string(credential.KindPartnerUserToken)):
		return a.personToken(r, token)
	default:
		return a.session(r.Context(), token, r.Header.Get(OrgHeader))
	}
}

// mcpToken accepts an rk_mcp_ token only with a valid relay identity over the
// exact request: a stolen token is useless without the relay's secret.
func (a *Authenticator) mcpToken(r *http.Request, token string) (*viewer.Viewer, error) {
	if kind, err := credential.Parse(token); err != nil || kind != credential.KindMCP {
		return nil, errUnauthorized // malformed or look-alike: no database lookup
	}
	if err := a.verifyRelay(r, errRelayRequired); err != nil {
		return nil, err
	}
	return a.MCPViewer(r.Context(), token)
}

// verifyRelay checks the relay identity over the exact request: without the
// header it returns missing (which names the endpoint to use), with one that
// does not verify errRelayInvalid.
func (a *Authenticator) verifyRelay(r *http.Request, missing *Error) error {
	if r.Header.Get(relay.Header) == "" {
		return missing
	}
	verifier := relay.Verifier{Secrets: a.Keys.RelaySecrets, Now: a.Now, Replay: a.Replay}
	if _, err := verifier.VerifyRequest(r, a.maxBody()); err != nil {
		if errors.Is(err, relay.ErrMisconfigured) {
			return err
		}
		return errRelayInvalid
	}
	return nil
}

// MCPViewer resolves an rk_mcp_ token whose relay identity has already been
// verified (over HTTP above, or in-process by the MCP adapter with the same
// verifier).
func (a *Authenticator) MCPViewer(ctx context.Context, token string) (*viewer.Viewer, error) {
	hash := credential.Hash(token)
	p, ok := a.Cache.get(hash)
	if !ok {
		var err error
		if p, err = a.loadMCPToken(ctx, hash); err != nil {
			return nil, err
		}
		a.Cache.put(hash, p)
	}
	if p == nil {
		return nil, errUnauthorized
	}
	if p.suspended {
		return nil, errSuspended
	}
	a.touch(ctx, p, func(ctx context.Context, at time.Time) error {
		return a.Client.MCPToken.UpdateOneID(p.tokenID).SetLastUsedAt(at).Exec(ctx)
	})
	return p.viewer(), nil
}

// loadMCPToken returns the token's principal, or nil (cached too, so a
// flood of one bad token costs one lookup per TTL) when it is unknown or revoked.
func (a *Authenticator) loadMCPToken(ctx context.Context, hash string) (*principal, error) {
	ctx = rule.AsSystem(ctx)
	tok, err := a.Client.MCPToken.Query().
		Where(mcptoken.SecretHash(hash), mcptoken.RevokedAtIsNil()).
		WithOrganization().WithAffiliate().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	org := tok.Edges.Organization
	// A token acts for the person who minted it, with their current role
	// and email state: an owner's token may do what the owner may (the
	// credential rules still refuse anything but a signed-in session).
	// Tokens minted from the CLI by the machine's operator act as an owner.
	role, emailVerified := viewer.RoleOwner, true
	if tok.CreatedByID != "" {
		m, err := a.Client.Membership.Query().
			Where(membership.OrgID(tok.OrgID), membership.UserID(tok.CreatedByID)).
			WithUser().Only(ctx)
		switch {
		case ent.IsNotFound(err):
			return nil, nil // the person who minted it left the organization: the token stops
		case err != nil:
			return nil, err
		default:
			role = viewer.Role(m.Role)
			emailVerified = m.Edges.User != nil && m.Edges.User.EmailVerifiedAt != nil
		}
	}
	if tok.ReadOnly {
		role = viewer.RoleMember
	}
	userID, affiliateID := tok.CreatedByID, ""
	if tok.AffiliateID != nil {
		// An affiliate-scoped token acts for that affiliate, not for the
		// owner who minted it: read-only for the organization's data
		// (graph's affiliateScope lets it reach the affiliate tools only),
		// and the audit log names the token. It works while the affiliate
		// is Approved; a blocked or rejected affiliate's token stops.
		aff := tok.Edges.Affiliate
		if aff == nil || aff.OrgID != tok.OrgID || aff.Status != affiliate.StatusApproved {
			return nil, nil
		}
		role, userID, affiliateID = viewer.RoleMember, "", aff.ID
	}
	return &principal{
		orgID: tok.OrgID, userID: userID, tokenID: tok.ID, affiliateID: affiliateID,
		actor: string(viewer.ActorMCP), role: string(role),
		plan: string(org.PlanTier), status: string(org.SubscriptionStatus),
		emailVerified: emailVerified, suspended: org.SuspendedAt != nil,
		lastUsedWritten: derefTime(tok.LastUsedAt),
	}, nil
}

// session accepts a dashboard session JWT.
func (a *Authenticator) session(ctx context.Context, token, orgRef string) (*viewer.Viewer, error) {
	s, err := (auth.Sessions{Key: a.Keys.Session, Now: a.Now}).Verify(token)
	if err != nil {
		return nil, errSession
	}
	key := "session:" + credential.Hash(token) + ":" + orgRef
	p, ok := a.Cache.get(key)
	if !ok {
		if p, err = a.loadSession(ctx, s, orgRef); err != nil {
			return nil, err
		}
		a.Cache.put(key, p)
	}
	if p == nil {
		return nil, errSession
	}
	if p.orgID == "" && orgRef != "" {
		return nil, errNoMembership
	}
	// Without X-Tandem-Org, a person in no organization (a Subscriptions
	// user) is signed in as themself: their own subscriptions and user
	// tokens; every organization's data filters to nothing and their empty
	// role writes none.
	if p.suspended {
		return nil, errSuspended
	}
	return p.viewer(), nil
}

func (a *Authenticator) loadSession(ctx context.Context, s auth.Session, orgRef string) (*principal, error) {
	ctx = rule.AsSystem(ctx)
	u, err := a.Client.User.Get(ctx, s.UserID)
	if ent.IsNotFound(err) || (err == nil && u.SessionVersion != s.Version) {
		return nil, nil // deleted, or signed out everywhere since
	}
	if err != nil {
		return nil, err
	}
	q := a.Client.Membership.Query().Where(membership.UserID(u.ID)).WithOrganization().Order(ent.Asc(membership.FieldCreatedAt))
	if orgRef != "" {
		q = q.Where(membership.HasOrganizationWith(organization.Or(organization.ID(orgRef), organization.Slug(orgRef))))
	}
	m, err := q.First(ctx)
	p := &principal{userID: u.ID, actor: string(viewer.ActorUser), emailVerified: u.EmailVerifiedAt != nil, admin: u.IsAdmin}
	if ent.IsNotFound(err) {
		return p, nil // signed in, but not a member of that organization
	}
	if err != nil {
		return nil, err
	}
	org := m.Edges.Organization
	p.orgID, p.role = org.ID, string(m.Role)
	p.plan, p.status, p.suspended = string(org.PlanTier), string(org.SubscriptionStatus), org.SuspendedAt != nil
	return p, nil
}

// APIKeyViewer resolves an rk_live_ key for the REST shim, returning the
// key's sealed signing secret for the caller to verify the request with.
func (a *Authenticator) APIKeyViewer(ctx context.Context, key string) (*viewer.Viewer, []byte, error) {
	if kind, err := credential.Parse(key); err != nil || kind != credential.KindAPIKey {
		return nil, nil, errUnauthorized
	}
	k, err := a.Client.APIKey.Query().
		Where(apikey.SecretHash(credential.Hash(key)), apikey.RevokedAtIsNil()).
		WithOrganization().Only(rule.AsSystem(ctx))
	if ent.IsNotFound(err) {
		return nil, nil, errUnauthorized
	}
	if err != nil {
		return nil, nil, err
	}
	org := k.Edges.Organization
	if org.SuspendedAt != nil {
		return nil, nil, errSuspended
	}
	return &viewer.Viewer{
		OrgID: k.OrgID, Role: viewer.RoleAdmin, ActorType: viewer.ActorAPIKey, ActorID: k.ID, TokenID: k.ID,
		Plan: string(org.PlanTier), SubscriptionStatus: string(org.SubscriptionStatus), EmailVerified: true,
	}, k.SigningSecretSealed, nil
}

func (p *principal) viewer() *viewer.Viewer {
	actorID := p.userID
	if p.actor == string(viewer.ActorMCP) && actorID == "" {
		actorID = p.tokenID
	}
	return &viewer.Viewer{
		OrgID: p.orgID, UserID: p.userID, AffiliateID: p.affiliateID, Role: viewer.Role(p.role),
		ActorType: viewer.ActorType(p.actor), ActorID: actorID, TokenID: p.tokenID,
		Plan: p.plan, SubscriptionStatus: p.status, EmailVerified: p.emailVerified,
		// A Tandem operator (a session or a person's token; never an MCP
		// token) reads the whole-database analytics too; granting or
		// removing admin updates the user, which forgets the cached entry.
		Admin: p.admin,
	}
}

// touch records a credential's last use at most once a minute per instance.
func (a *Authenticator) touch(ctx context.Context, p *principal, write func(context.Context, time.Time) error) {
	now := a.now()
	a.Cache.mu.Lock()
	due := now.Sub(p.lastUsedWritten) >= lastUsedEvery
	if due {
		p.lastUsedWritten = now
	}
	a.Cache.mu.Unlock()
	if due {
		if err := write(rule.AsSystem(ctx), now); err != nil {
			a.log().WarnContext(ctx, "recording a credential's last use failed", "err", err)
		}
	}
}

func (a *Authenticator) maxBody() int64 {
	if a.MaxBody > 0 {
		return a.MaxBody
	}
	return 4 << 20
}

func derefTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
