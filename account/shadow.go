package account

import (
	"context"
	"strings"
	"time"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/ent/usertoken"
)

// IsUnclaimedShadow reports whether u is an account someone else created
// for the person (a partner's guest-ingest, or the /token page for an
// address nobody had proven) that its person has not taken over yet.
func IsUnclaimedShadow(u *ent.User) bool {
	return u.ProvisionedBySourceID != nil && u.ClaimedAt == nil
}

// GuestSource is the provisioned_by_source_id of a shadow account a keyless
// partner push created: "guest", or "guest:<source>" when the push named its
// source.
const GuestSource = "guest"

// IsKeylessShadow reports whether u is an unclaimed shadow account a keyless
// partner push created. Anyone can create one for any address, so until its
// person claims it, it proves nothing about who owns the address.
func IsKeylessShadow(u *ent.User) bool {
	if !IsUnclaimedShadow(u) {
		return false
	}
	src := *u.ProvisionedBySourceID
	return src == GuestSource || strings.HasPrefix(src, GuestSource+":")
}

// RevokeUserTokens revokes every live user token of userID, in c's
// transaction, and returns how many. It revokes them one by one, not in a
// bulk update: a single-row update is what makes the authentication cache
// forget a token on every instance (identity.InvalidateOnChange keys it by
// the token's hash), so a revoked token stops at once instead of one cache
// TTL later.
func RevokeUserTokens(ctx context.Context, c *ent.Client, userID string, now time.Time) (int, error) {
	sys := rule.AsSystem(ctx)
	live, err := c.UserToken.Query().Where(usertoken.UserID(userID), usertoken.RevokedAtIsNil()).All(sys)
	if err != nil {
		return 0, err
	}
	for _, tok := range live {
		if err := c.UserToken.UpdateOne(tok).SetRevokedAt(now).Exec(sys); err != nil {
			return 0, err
		}
	}
	return len(live), nil
}

// claimShadow hands u, an unclaimed shadow account (IsUnclaimedShadow), to
// the person who just proved the address (by spending any emailed link):
// every token that exists now was issued before they held it and is revoked,
// and the account is marked claimed and its address verified. It runs in c's
// transaction, so the link, the revocation and the claim commit together.
func claimShadow(ctx context.Context, c *ent.Client, u *ent.User, now time.Time) (*ent.User, error) {
	if _, err := RevokeUserTokens(ctx, c, u.ID, now); err != nil {
		return nil, err
	}
	// The user update comes last: it also makes every instance forget
	// whatever it cached for the person.
	up := c.User.UpdateOneID(u.ID).SetClaimedAt(now)
	if u.EmailVerifiedAt == nil {
		up.SetEmailVerifiedAt(now)
	}
	return up.Save(rule.AsSystem(ctx))
}
