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
	var token string
	err := s.inTx(ctx, func(ctx context.Context, c *ent.Client) error {
		var err error
		token, err = issueLink(ctx, c, userID, purpose, s.now().Add(ttl))
		return err
	})
	return token, err
}

// SpendLink spends a link IssueLink (or the sign-in and verification emails)
// made for purpose, marks its user's address verified, claims an unclaimed
// shadow account (claimShadow) and returns the user. Any failure is
// ErrInvalidLink. It runs in ctx's transaction when there is one, so a
// caller's follow-up work and the spending commit together.
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
	_, err := liveLink(ctx, s.client, token, purpose, s.now())
	return err == nil
}

// issueLink stores a new login token for userID (its hash only), in c's
// transaction, and returns the plaintext.
func issueLink(ctx context.Context, c *ent.Client, userID string, purpose logintoken.Purpose, expiresAt time.Time) (string, error) {
	token, err := newLinkToken()
	if err != nil {
		return "", err
	}
	err = c.LoginToken.Create().SetUserID(userID).SetPurpose(purpose).
		SetSecretHash(credential.Hash(token)).SetExpiresAt(expiresAt).Exec(rule.AsSystem(ctx))
	if err != nil {
		return "", err
	}
	return token, nil
}

// liveLink returns the login token for token when it is for purpose, unused
// and unexpired at now; otherwise ErrInvalidLink, or the store's error.
func liveLink(ctx context.Context, c *ent.Client, token string, purpose logintoken.Purpose, now time.Time) (*ent.LoginToken, error) {
	if token == "" || len(token) > 256 {
		return nil, ErrInvalidLink
	}
	lt, err := c.LoginToken.Query().Where(logintoken.SecretHash(credential.Hash(token))).Only(rule.AsSystem(ctx))
	if ent.IsNotFound(err) {
		return nil, ErrInvalidLink
	} else if err != nil {
		return nil, err
	}
	if lt.Purpose != purpose || lt.UsedAt != nil || !now.Before(lt.ExpiresAt) {
		return nil, ErrInvalidLink
	}
	return lt, nil
}
