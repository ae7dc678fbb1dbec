package account

import (
	"context"
	"strings"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/apikey"
	"github.com/tandemhq/tandem/ent/mcptoken"
	"github.com/tandemhq/tandem/ent/organization"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/viewer"
)

// CreateMCPTokenInput names a new MCP token.
type CreateMCPTokenInput struct {
	Name     string
	ReadOnly bool
	// AffiliateID, when set, scopes the token to one Approved affiliate of
	// the organization: it acts for that affiliate, not the brand, and can
	// use only the affiliate operations (its coupons).
	AffiliateID *string
}

// CreatedMCPToken is a new MCP token: the plaintext, shown this once, and the
// stored row (which holds only its hash).
type CreatedMCPToken struct {
	Token    string
	MCPToken *ent.MCPToken
}

// CreateAPIKeyInput names a new API key.
type CreateAPIKeyInput struct {
	Name string
}

// CreatedAPIKey is a new API key and its signing secret, both shown this
// once, and the stored row (the key's hash and the sealed secret).
type CreatedAPIKey struct {
	Key           string
	SigningSecret string
	APIKey        *ent.APIKey
}

// CreateMCPToken mints an MCP token in the viewer's organization. Only an
// owner signed in to the dashboard may (the MCPToken policy decides), and
// only while the organization has fewer than MaxActiveMCPTokens.
func (s *Service) CreateMCPToken(ctx context.Context, in CreateMCPTokenInput) (*CreatedMCPToken, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, rule.ErrNoViewer
	}
	return s.createMCPToken(ctx, v.OrgID, v.UserID, in)
}

// CreateMCPTokenAsSystem mints an MCP token in the organization orgID on
// no one's behalf (`tandem token create`). The cap still applies.
func (s *Service) CreateMCPTokenAsSystem(ctx context.Context, orgID string, in CreateMCPTokenInput) (*CreatedMCPToken, error) {
	return s.createMCPToken(rule.AsSystem(ctx), orgID, "", in)
}

func (s *Service) createMCPToken(ctx context.Context, orgID, userID string, in CreateMCPTokenInput) (*CreatedMCPToken, error) {
	name, err := checkText("name", in.Name, 100)
	if err != nil {
		return nil, err
	}
	var affiliateID *string
	if in.AffiliateID != nil {
		id := strings.TrimSpace(*in.AffiliateID)
		if id == "" {
			return nil, fault.Invalid("affiliateID", "must name an affiliate (aff_…); omit it for a token that acts for the organization")
		}
		affiliateID = &id
	}
	var out *CreatedMCPToken
	err = s.inTx(ctx, func(ctx context.Context, c *ent.Client) error {
		// Creates for one organization queue here (PostgreSQL; SQLite
		// transactions already run one at a time), so the count below
		// cannot miss a concurrent create.
		if _, err := c.Organization.Query().Where(organization.ID(orgID), forUpdate).OnlyID(ctx); err != nil {
			return err
		}
		// An affiliate-scoped token's affiliate must be one of the
		// organization's (reading it reveals nothing a member cannot read).
		var aff *ent.Affiliate
		if affiliateID != nil {
			var err error
			aff, err = c.Affiliate.Query().Where(affiliate.ID(*affiliateID), affiliate.OrgID(orgID)).Only(ctx)
			if ent.IsNotFound(err) {
				return &rule.RefNotFoundError{Edge: "affiliate", ID: *affiliateID}
			}
			if err != nil {
				return err
			}
		}
		// Create before counting, so the privacy policy decides who may
		// before the cap says anything; the count includes the new token,
		// and a refusal rolls it back.
		var err error
		if out, err = mintMCPToken(ctx, c, orgID, userID, name, in.ReadOnly, affiliateID); err != nil {
			return err
		}
		// Checked after the create, so the policy has refused anyone who may
		// not mint tokens before the affiliate's status is discussed.
		if aff != nil && aff.Status != affiliate.StatusApproved {
			return fault.Invalid("affiliateID", "names affiliate %s, which is %s: only an Approved affiliate can get a token, approve it first", aff.ID, aff.Status)
		}
		n, err := c.MCPToken.Query().Where(mcptoken.OrgID(orgID), mcptoken.RevokedAtIsNil()).Count(ctx)
		if err != nil {
			return err
		}
		if n > MaxActiveMCPTokens {
			return ErrTooManyMCPTokens
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RotateMCPToken revokes the viewer organization's token id and mints its
// replacement, with the same name and scope. The old plaintext stops
// working; the new one is returned this once.
func (s *Service) RotateMCPToken(ctx context.Context, id string) (*CreatedMCPToken, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, rule.ErrNoViewer
	}
	var out *CreatedMCPToken
	err := s.inTx(ctx, func(ctx context.Context, c *ent.Client) error {
		// Revoke first: the policy refuses anyone but an owner in person
		// before anything about the token is revealed.
		old, err := c.MCPToken.UpdateOneID(id).Where(mcptoken.RevokedAtIsNil()).SetRevokedAt(s.now()).Save(ctx)
		if ent.IsNotFound(err) {
			if _, err := c.MCPToken.Get(ctx, id); err != nil {
				return err
			}
			return ErrRevoked
		}
		if err != nil {
			return err
		}
		out, err = mintMCPToken(ctx, c, old.OrgID, v.UserID, old.Name, old.ReadOnly, old.AffiliateID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RevokeMCPToken revokes the viewer organization's token id. Revoking a
// revoked token changes nothing and succeeds.
func (s *Service) RevokeMCPToken(ctx context.Context, id string) (*ent.MCPToken, error) {
	if viewer.FromContext(ctx) == nil {
		return nil, rule.ErrNoViewer
	}
	return s.revokeMCPToken(ctx, id)
}

// RevokeMCPTokenAsSystem revokes any organization's token id (`tandem token revoke`).
func (s *Service) RevokeMCPTokenAsSystem(ctx context.Context, id string) (*ent.MCPToken, error) {
	return s.revokeMCPToken(rule.AsSystem(ctx), id)
}

func (s *Service) revokeMCPToken(ctx context.Context, id string) (*ent.MCPToken, error) {
	var tok *ent.MCPToken
	err := s.inTx(ctx, func(ctx context.Context, c *ent.Client) error {
		// The update runs the policy even when the token is revoked
		// already, so a viewer who may not revoke is always refused. One
		// row at a time (UpdateOne), so hooks see which token changed.
		var err error
		tok, err = c.MCPToken.UpdateOneID(id).Where(mcptoken.RevokedAtIsNil()).SetRevokedAt(s.now()).Save(ctx)
		if ent.IsNotFound(err) {
			tok, err = c.MCPToken.Get(ctx, id) // revoked already, or not found
		}
		return err
	})
	return tok, err
}

// CreateAPIKey makes an API key and its signing secret in the viewer's
// organization. Only an owner signed in to the dashboard may.
func (s *Service) CreateAPIKey(ctx context.Context, in CreateAPIKeyInput) (*CreatedAPIKey, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, rule.ErrNoViewer
	}
	return s.createAPIKey(ctx, v.OrgID, v.UserID, in)
}

// CreateAPIKeyAsSystem makes an API key in the organization orgID on no
// one's behalf (`tandem apikey create`).
func (s *Service) CreateAPIKeyAsSystem(ctx context.Context, orgID string, in CreateAPIKeyInput) (*CreatedAPIKey, error) {
	return s.createAPIKey(rule.AsSystem(ctx), orgID, "", in)
}

func (s *Service) createAPIKey(ctx context.Context, orgID, userID string, in CreateAPIKeyInput) (*CreatedAPIKey, error) {
	name, err := checkText("name", in.Name, 100)
	if err != nil {
		return nil, err
	}
	key, err := credential.New(credential.KindAPIKey)
	if err != nil {
		return nil, err
	}
	secret, err := credential.New(credential.KindSigningSecret)
	if err != nil {
		return nil, err
	}
	sealed, err := credential.Seal(s.opts.Keys.Encryption, secret)
	if err != nil {
		return nil, err
	}
	var row *ent.APIKey
	err = s.inTx(ctx, func(ctx context.Context, c *ent.Client) error {
		row, err = c.APIKey.Create().SetOrgID(orgID).SetName(name).
			SetSecretHash(credential.Hash(key)).SetHint(credential.Redact(key)).
			SetSigningSecretSealed(sealed).SetNillableCreatedByID(nonEmpty(userID)).Save(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &CreatedAPIKey{Key: key, SigningSecret: secret, APIKey: row}, nil
}

// RevokeAPIKey revokes the viewer organization's API key id. Revoking a
// revoked key changes nothing and succeeds.
func (s *Service) RevokeAPIKey(ctx context.Context, id string) (*ent.APIKey, error) {
	if viewer.FromContext(ctx) == nil {
		return nil, rule.ErrNoViewer
	}
	var key *ent.APIKey
	err := s.inTx(ctx, func(ctx context.Context, c *ent.Client) error {
		var err error
		key, err = c.APIKey.UpdateOneID(id).Where(apikey.RevokedAtIsNil()).SetRevokedAt(s.now()).Save(ctx)
		if ent.IsNotFound(err) {
			key, err = c.APIKey.Get(ctx, id) // revoked already, or not found
		}
		return err
	})
	return key, err
}

// mintMCPToken stores a new MCP token's hash and hint and returns its plaintext.
func mintMCPToken(ctx context.Context, c *ent.Client, orgID, userID, name string, readOnly bool, affiliateID *string) (*CreatedMCPToken, error) {
	plain, err := credential.New(credential.KindMCP)
	if err != nil {
		return nil, err
	}
	row, err := c.MCPToken.Create().SetOrgID(orgID).SetName(name).SetReadOnly(readOnly).
		SetSecretHash(credential.Hash(plain)).SetHint(credential.Redact(plain)).
		SetNillableCreatedByID(nonEmpty(userID)).SetNillableAffiliateID(affiliateID).Save(ctx)
	if err != nil {
		return nil, err
	}
	return &CreatedMCPToken{Token: plain, MCPToken: row}, nil
}

// forUpdate locks the selected rows until the transaction ends, on
// PostgreSQL; SQLite has no row locks and needs none.
func forUpdate(s *sql.Selector) {
	if s.Dialect() == dialect.Postgres {
		s.ForUpdate()
	}
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
