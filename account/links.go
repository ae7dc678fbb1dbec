package account

import (
	"context"
	"time"

	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/logintoken"
	"github.com/tandemhq/tandem/ent/schema/rule"
)

// IssueLink stores a new one-time login token for the user (its hash only)
// and returns the plaintext, for a caller that writes its own email around
// the link: the Subscriptions /token page and the shadow-account claim. It
// runs in ctx's transaction when there is one, so the link exists only if
// the caller's work commits.
func (s *Service) IssueLink(ctx context.Context, userID string, purpose logintoken.Purpose, ttl time.Duration) (string, error) {
	token, err := newLinkToken()
	if err != nil {
		return "", err
	}
	err = s.inTx(ctx, func(ctx context.Context, c *ent.Client) error {
		return c.LoginToken.Create().SetUserID(userID).SetPurpose(purpose).
			SetSecretHash(credential.Hash(token)).SetExpiresAt(s.now().Add(ttl)).Exec(rule.AsSystem(ctx))
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// SpendLink spends a link IssueLink (or the sign-in and verification emails)
// made for purpose, marks its user's address verified, claims an unclaimed
// shadow account (ClaimShadow) and returns the user. Any failure is ErrInvalidLink. It runs in ctx's transaction when there is
// one, so a caller's follow-up work and the spending commit together.
func (s *Service) SpendLink(ctx context.Context, token string, purpose logintoken.Purpose) (*ent.User, error) {
	var u *ent.User
	err := s.inTx(ctx, func(ctx context.Context, c *ent.Client) error {
		var err error
		u, err = s.spendLink(ctx, c, token, purpose)
		return err
	})
	return u, err
}

// CheckLink reports whether a link is still usable for purpose without
// spending it: a page shows its confirm button only for a live link.
func (s *Service) CheckLink(ctx context.Context, token string, purpose logintoken.Purpose) bool {
	if token == "" || len(token) > 256 {
		return false
	}
	lt, err := s.client.LoginToken.Query().Where(logintoken.SecretHash(credential.Hash(token))).Only(rule.AsSystem(ctx))
	return err == nil && lt.Purpose == purpose && lt.UsedAt == nil && s.now().Before(lt.ExpiresAt)
}
