// Package partners is how people reach their Subscriptions memory from
// outside the dashboard: the user tokens their AI clients send to /mcp
// (kordi_ minted by the person, clerk_reg_ returned by a partner), the
// partner sources whose x-partner-key provisions people through
// /api/guest-ingest, the shadow accounts such a call creates, and the claim
// that hands a shadow account to its person.
//
// Like package account, work runs in the caller's transaction when ctx has
// one (a GraphQL mutation's) and in its own otherwise (the CLI, the pages).
// Only the system creates users, partner sources and login links, and it
// says rule.AsSystem where it does.
package partners

import (
	"context"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/partnersource"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/store"
)

// Token lifetimes (the seed: "/token TTL 90 days; partner-provisioned tokens
// TTL 30 days").
const (
	PersonTokenTTL  = 90 * 24 * time.Hour
	PartnerTokenTTL = 30 * 24 * time.Hour
)

// ServerName is what clients call the /mcp server (the seed's "Server name").
const ServerName = "kordi-mcp-server"

// MCPPath is where the Subscriptions MCP server listens.
const MCPPath = "/mcp"

// sourceShape is a partner source slug: what partners send as "source".
var sourceShape = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{1,63}$`)

// CheckSource refuses a source slug that is not [a-z0-9][a-z0-9_-]{1,63}.
func CheckSource(field, source string) error {
	if !sourceShape.MatchString(source) {
		return fault.Invalid(field, "%q is not a source: use 2–64 lowercase letters, digits, '_' or '-', starting with a letter or digit, e.g. acme-bank", source)
	}
	return nil
}

// CreatedSource is a new partner source and its key, shown only here, once.
type CreatedSource struct {
	Key    string
	Source *ent.PartnerSource
}

// CreateSource registers a partner source and mints its kpk_ key (stored as
// SHA-256). A source that exists is a conflict: a partner has one source and
// one key.
func CreateSource(ctx context.Context, client *ent.Client, source, name string) (*CreatedSource, error) {
	if err := CheckSource("source", source); err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	if len(name) > 120 {
		return nil, fault.Invalid("name", "is too long: at most 120 characters")
	}
	key, err := credential.New(credential.KindPartnerKey)
	if err != nil {
		return nil, err
	}
	sys := rule.AsSystem(ctx)
	exists := fault.Conflict("source", "source_exists", "a partner source %q exists already; choose another source", source)
	if taken, err := client.PartnerSource.Query().Where(partnersource.Source(source)).Exist(sys); err != nil {
		return nil, err
	} else if taken {
		return nil, exists
	}
	create := client.PartnerSource.Create().SetSource(source).SetKeyHash(credential.Hash(key)).SetHint(credential.Redact(key))
	if name != "" {
		create.SetName(name)
	}
	src, err := create.Save(sys)
	if ent.IsConstraintError(err) {
		return nil, exists
	}
	if err != nil {
		return nil, err
	}
	return &CreatedSource{Key: key, Source: src}, nil
}

// sourceNamed returns the partner source with the slug, or a not-found
// error naming the fix.
func sourceNamed(ctx context.Context, c *ent.Client, source string) (*ent.PartnerSource, error) {
	if err := CheckSource("source", source); err != nil {
		return nil, err
	}
	src, err := c.PartnerSource.Query().Where(partnersource.Source(source)).Only(rule.AsSystem(ctx))
	if ent.IsNotFound(err) {
		return nil, fault.NotFound("source", "no partner source %q: check the slug, or create it with `tandem partner create --source %s`", source, source)
	}
	return src, err
}

// RevokeSource revokes a partner source's key: from the commit on, every
// guest-ingest with it is a hard 401 (keys are looked up on every call, not
// cached). Revoking twice keeps the first revocation time. The accounts and
// tokens the partner provisioned stay; a claim or another source's push
// ends those tokens as usual.
func RevokeSource(ctx context.Context, client *ent.Client, source string, now time.Time) (*ent.PartnerSource, error) {
	var out *ent.PartnerSource
	err := store.InTx(ctx, client, func(ctx context.Context, c *ent.Client) error {
		src, err := sourceNamed(ctx, c, source)
		if err != nil {
			return err
		}
		if src.RevokedAt != nil {
			out = src
			return nil
		}
		out, err = c.PartnerSource.UpdateOne(src).SetRevokedAt(now).Save(rule.AsSystem(ctx))
		return err
	})
	return out, err
}

// RotateSourceKey gives a partner source a new kpk_ key, shown only here,
// once. The old key stops at once: the source keeps one key hash, and it is
// replaced. Rotating a revoked source lifts the revocation, with the new key
// the only one that works: that is how a partner gets back in after a leak.
func RotateSourceKey(ctx context.Context, client *ent.Client, source string) (*CreatedSource, error) {
	key, err := credential.New(credential.KindPartnerKey)
	if err != nil {
		return nil, err
	}
	var out *CreatedSource
	err = store.InTx(ctx, client, func(ctx context.Context, c *ent.Client) error {
		src, err := sourceNamed(ctx, c, source)
		if err != nil {
			return err
		}
		src, err = c.PartnerSource.UpdateOne(src).SetKeyHash(credential.Hash(key)).SetHint(credential.Redact(key)).
			ClearRevokedAt().Save(rule.AsSystem(ctx))
		if err != nil {
			return err
		}
		out = &CreatedSource{Key: key, Source: src}
		return nil
	})
	return out, err
}

// ErrInvalidPartnerKey is the hard refusal of a key that is malformed,
// unknown or revoked: the seed promises no fallback to the keyless path.
var ErrInvalidPartnerKey = &fault.Error{Kind: fault.KindUnauthenticated, Reason: "invalid_partner_key",
	Message: "the x-partner-key is not a valid partner key (unknown, revoked or mistyped); send the kpk_ key you were given, or omit the header for the keyless 5/hour budget"}

// SourceForKey returns the live partner source a kpk_ key authenticates.
func SourceForKey(ctx context.Context, client *ent.Client, key string) (*ent.PartnerSource, error) {
	if kind, err := credential.Parse(key); err != nil || kind != credential.KindPartnerKey {
		return nil, ErrInvalidPartnerKey // malformed: no lookup
	}
	src, err := client.PartnerSource.Query().
		Where(partnersource.KeyHash(credential.Hash(key)), partnersource.RevokedAtIsNil()).
		Only(rule.AsSystem(ctx))
	if ent.IsNotFound(err) {
		return nil, ErrInvalidPartnerKey
	}
	return src, err
}

// checkEmail returns the address, lower-cased, or an error naming field.
func checkEmail(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fault.Invalid(field, "is required, e.g. ada@example.com")
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || len(s) > 254 {
		return "", fault.Invalid(field, "is not an email address, e.g. ada@example.com")
	}
	return strings.ToLower(s), nil
}
