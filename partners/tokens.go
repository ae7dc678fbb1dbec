package partners

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/ent/user"
	"github.com/tandemhq/tandem/ent/usertoken"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/store"
	"github.com/tandemhq/tandem/viewer"
)

// CreatedUserToken is a new user token: the plaintext is shown only here, once.
type CreatedUserToken struct {
	Token     string
	UserToken *ent.UserToken
}

// ErrSessionOnly refuses token management to anything but a person signed in
// to the dashboard: a token never mints or revokes tokens.
var ErrSessionOnly = &fault.Error{Kind: fault.KindForbidden,
	Message: "only a person signed in to the dashboard manages user tokens; a token cannot mint or revoke tokens"}

// mintUserToken stores a new token for userID (its hash only). A partner's
// provisioning passes its source ID (or "guest:<label>") and gets a 30-day
// clerk_reg_ token; a person gets a 90-day kordi_ token.
func mintUserToken(ctx context.Context, c *ent.Client, userID, name string, partnerSourceID *string, now time.Time) (*CreatedUserToken, error) {
	kind, ttl := credential.KindUserToken, PersonTokenTTL
	if partnerSourceID != nil {
		kind, ttl = credential.KindPartnerUserToken, PartnerTokenTTL
	}
	token, err := credential.New(kind)
	if err != nil {
		return nil, err
	}
	row, err := c.UserToken.Create().SetUserID(userID).SetName(name).
		SetSecretHash(credential.Hash(token)).SetHint(credential.Redact(token)).
		SetExpiresAt(now.Add(ttl)).SetNillablePartnerSourceID(partnerSourceID).
		Save(rule.AsSystem(ctx))
	if err != nil {
		return nil, err
	}
	return &CreatedUserToken{Token: token, UserToken: row}, nil
}

// signedIn returns the viewer of a person signed in to the dashboard, or
// ErrSessionOnly: only they manage their user tokens.
func signedIn(ctx context.Context) (*viewer.Viewer, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.ActorType != viewer.ActorUser || v.UserID == "" {
		return nil, ErrSessionOnly
	}
	return v, nil
}

// maxTokenName is the most a token's name holds, in bytes as its column
// counts them.
const maxTokenName = 100

// checkTokenName trims a token's name and requires 1–100 bytes of text: a
// longer one would pass here only to fail in the store with a message
// nobody can act on.
func checkTokenName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", fault.Invalid("name", `is required: say what the token is for, e.g. "Claude Desktop laptop"`)
	case len(name) > maxTokenName:
		return "", fault.Invalid("name", "is too long: at most %d bytes, where an accented letter takes 2 and an emoji 4", maxTokenName)
	case !utf8.ValidString(name):
		return "", fault.Invalid("name", "is not valid text")
	}
	return name, nil
}

// CreateUserToken mints a 90-day kordi_ token for the signed-in person.
func CreateUserToken(ctx context.Context, client *ent.Client, name string, now time.Time) (*CreatedUserToken, error) {
	v, err := signedIn(ctx)
	if err != nil {
		return nil, err
	}
	if name, err = checkTokenName(name); err != nil {
		return nil, err
	}
	var out *CreatedUserToken
	err = store.InTx(ctx, client, func(ctx context.Context, c *ent.Client) error {
		out, err = mintUserToken(ctx, c, v.UserID, name, nil, now)
		return err
	})
	return out, err
}

// CreateUserTokenForEmail mints a 90-day kordi_ token for the person with
// the email, as the system (`tandem user token`).
func CreateUserTokenForEmail(ctx context.Context, client *ent.Client, email, name string, now time.Time) (*CreatedUserToken, error) {
	email, err := checkEmail("email", email)
	if err != nil {
		return nil, err
	}
	if name, err = checkTokenName(name); err != nil {
		return nil, err
	}
	var out *CreatedUserToken
	err = store.InTx(ctx, client, func(ctx context.Context, c *ent.Client) error {
		u, err := userByEmail(ctx, c, email)
		if err != nil {
			return err
		}
		out, err = mintUserToken(ctx, c, u.ID, name, nil, now)
		return err
	})
	return out, err
}

// GrantAdmin makes the person with the email an admin, as the system
// (`tandem user grant-admin`): their tokens may read the whole-database
// analytics.
func GrantAdmin(ctx context.Context, client *ent.Client, email string) (*ent.User, error) {
	email, err := checkEmail("email", email)
	if err != nil {
		return nil, err
	}
	var out *ent.User
	err = store.InTx(ctx, client, func(ctx context.Context, c *ent.Client) error {
		u, err := userByEmail(ctx, c, email)
		if err != nil {
			return err
		}
		out, err = c.User.UpdateOne(u).SetIsAdmin(true).Save(rule.AsSystem(ctx))
		return err
	})
	return out, err
}

// userByEmail returns the person with the normalized email, as the system,
// or a refusal that says how to create them.
func userByEmail(ctx context.Context, c *ent.Client, email string) (*ent.User, error) {
	u, err := c.User.Query().Where(user.Email(email)).Only(rule.AsSystem(ctx))
	if ent.IsNotFound(err) {
		return nil, fault.NotFound("email", "no user has email %s: create them first with `tandem user create --email %s`", email, email)
	}
	return u, err
}

// RevokeUserToken revokes one of the signed-in person's tokens; it stops
// working at once here and, through the cache invalidation, on every
// instance. Another person's token is not found; revoking twice keeps the
// first revocation time.
func RevokeUserToken(ctx context.Context, client *ent.Client, id string, now time.Time) (*ent.UserToken, error) {
	if _, err := signedIn(ctx); err != nil {
		return nil, err
	}
	var out *ent.UserToken
	err := store.InTx(ctx, client, func(ctx context.Context, c *ent.Client) error {
		tok, err := c.UserToken.Get(ctx, id) // the person policy scopes it to the viewer's own
		if ent.IsNotFound(err) {
			return fault.NotFound("id", "you have no user token with id %q: list them with myUserTokens", id)
		}
		if err != nil {
			return err
		}
		if tok.RevokedAt != nil {
			out = tok
			return nil
		}
		out, err = c.UserToken.UpdateOne(tok).SetRevokedAt(now).Save(ctx)
		return err
	})
	return out, err
}

// MyUserTokens is the signed-in person's tokens query, newest first; the
// person policy already limits it to their own.
func MyUserTokens(ctx context.Context, client *ent.Client) (*ent.UserTokenQuery, error) {
	v, err := signedIn(ctx)
	if err != nil {
		return nil, err
	}
	return client.UserToken.Query().Where(usertoken.UserID(v.UserID)), nil
}
