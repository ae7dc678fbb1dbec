package account

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tandemhq/tandem/auth"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/logintoken"
	"github.com/tandemhq/tandem/ent/membership"
	"github.com/tandemhq/tandem/ent/organization"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/ent/user"
	"github.com/tandemhq/tandem/viewer"
)

// AuthPayload is a new dashboard session: the JWT the browser presents, when
// it expires, and whose it is.
type AuthPayload struct {
	Session   string
	ExpiresAt time.Time
	User      *ent.User
}

// SignUpInput is what a person gives to open an account.
type SignUpInput struct {
	Email            string
	Password         string
	FullName         string
	OrganizationName string
	OrganizationSlug string
}

// SignUp creates an organization on a 14-day trial, its owner with the
// password, and the owner's membership; queues the email that verifies the
// address; and signs the owner in. It is all or nothing.
func (s *Service) SignUp(ctx context.Context, in SignUpInput) (*AuthPayload, error) {
	email, err := checkEmail("email", in.Email)
	if err != nil {
		return nil, err
	}
	if err := checkPassword("password", in.Password); err != nil {
		return nil, err
	}
	fullName, err := checkText("fullName", in.FullName, 200)
	if err != nil {
		return nil, err
	}
	orgName, err := checkText("organizationName", in.OrganizationName, 120)
	if err != nil {
		return nil, err
	}
	if err := checkSlug("organizationSlug", in.OrganizationSlug); err != nil {
		return nil, err
	}
	hash, err := auth.HashPassword(in.Password, s.opts.Argon2)
	if err != nil {
		return nil, err
	}
	var u *ent.User
	// A new organization is nobody's business but its own: whoever calls
	// signUp (signed in elsewhere or not) must not have it audited into
	// their organization's log.
	ctx = viewer.NewContext(ctx, nil)
	err = s.inTx(ctx, func(ctx context.Context, c *ent.Client) error {
		sys := rule.AsSystem(ctx)
		if taken, err := c.User.Query().Where(user.Email(email)).Exist(sys); err != nil {
			return err
		} else if taken {
			return &Error{Kind: KindConflict, Field: "email", Message: "an account with this email exists; sign in instead"}
		}
		slugTaken := &Error{Kind: KindConflict, Field: "organizationSlug", Message: "organizationSlug is taken by another organization; choose another"}
		if taken, err := c.Organization.Query().Where(organization.Slug(in.OrganizationSlug)).Exist(sys); err != nil {
			return err
		} else if taken {
			return slugTaken
		}
		now := s.now()
		org, err := c.Organization.Create().SetName(orgName).SetSlug(in.OrganizationSlug).
			SetPlanTier(organization.PlanTierTrial).SetSubscriptionStatus(organization.SubscriptionStatusTrialing).
			SetTrialEndsAt(now.AddDate(0, 0, TrialDays)).Save(sys)
		if ent.IsConstraintError(err) {
			return slugTaken // another sign-up took it since the check
		} else if err != nil {
			return err
		}
		u, err = c.User.Create().SetEmail(email).SetFullName(fullName).SetPasswordHash(hash).Save(sys)
		if ent.IsConstraintError(err) {
			return &Error{Kind: KindConflict, Field: "email", Message: "an account with this email exists; sign in instead"}
		} else if err != nil {
			return err
		}
		if _, err := c.Membership.Create().SetOrgID(org.ID).SetUserID(u.ID).SetRole(membership.RoleOwner).Save(sys); err != nil {
			return err
		}
		return s.sendLink(ctx, c, u, org.ID, logintoken.PurposeVerifyEmail)
	})
	if err != nil {
		return nil, err
	}
	return s.session(u)
}

// SignIn checks an email and password. Whether the email is unknown, the
// account has no password, or the password is wrong, the answer and the
// work done (one argon2id verification) are the same.
func (s *Service) SignIn(ctx context.Context, email, password string) (*AuthPayload, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	var u *ent.User
	err := s.inTx(ctx, func(ctx context.Context, c *ent.Client) error {
		var err error
		u, err = c.User.Query().Where(user.Email(email)).Only(rule.AsSystem(ctx))
		if ent.IsNotFound(err) {
			u, err = nil, nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	hash := s.dummyHash()
	if u != nil && u.PasswordHash != "" {
		hash = u.PasswordHash
	}
	if err := auth.VerifyPassword(password, hash); err != nil {
		if !errors.Is(err, auth.ErrPasswordMismatch) {
			return nil, err // a stored hash the server cannot read
		}
		return nil, ErrWrongPassword
	}
	if u == nil || u.PasswordHash == "" {
		return nil, ErrWrongPassword
	}
	return s.session(u)
}

// RequestSignInLink queues an email with a one-time sign-in link when a
// user has the address, and does nothing otherwise; the caller cannot tell
// which (no account enumeration).
func (s *Service) RequestSignInLink(ctx context.Context, email string) error {
	email, err := checkEmail("email", email)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(ctx context.Context, c *ent.Client) error {
		u, err := c.User.Query().Where(user.Email(email)).Only(rule.AsSystem(ctx))
		if ent.IsNotFound(err) {
			return nil
		} else if err != nil {
			return err
		}
		return s.sendLink(ctx, c, u, "", logintoken.PurposeSignIn)
	})
}

// SignInWithLink spends a sign-in link's token and signs its user in. A
// link proves the address, so it also marks the email verified.
func (s *Service) SignInWithLink(ctx context.Context, token string) (*AuthPayload, error) {
	var u *ent.User
	err := s.inTx(ctx, func(ctx context.Context, c *ent.Client) error {
		var err error
		u, err = s.spendLink(ctx, c, token, logintoken.PurposeSignIn)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.session(u)
}

// VerifyEmail spends an email verification link's token and marks its
// user's address verified.
func (s *Service) VerifyEmail(ctx context.Context, token string) (*ent.User, error) {
	var u *ent.User
	err := s.inTx(ctx, func(ctx context.Context, c *ent.Client) error {
		var err error
		u, err = s.spendLink(ctx, c, token, logintoken.PurposeVerifyEmail)
		return err
	})
	return u, err
}

// SignOutEverywhere bumps the signed-in person's session version, so every
// session signed before now is refused.
func (s *Service) SignOutEverywhere(ctx context.Context) error {
	v := viewer.FromContext(ctx)
	if v == nil {
		return rule.ErrNoViewer
	}
	if v.ActorType != viewer.ActorUser || v.UserID == "" {
		return ErrSessionOnly
	}
	return s.inTx(ctx, func(ctx context.Context, c *ent.Client) error {
		return c.User.UpdateOneID(v.UserID).AddSessionVersion(1).Exec(rule.AsSystem(ctx))
	})
}

// CreateUser creates a person with a password, or with none when password
// is empty (such a person signs in by email link). It is the system's
// (`tandem user create`); the address starts unverified.
func (s *Service) CreateUser(ctx context.Context, email, password string) (*ent.User, error) {
	email, err := checkEmail("email", email)
	if err != nil {
		return nil, err
	}
	hash := ""
	if password != "" {
		if err := checkPassword("password", password); err != nil {
			return nil, err
		}
		if hash, err = auth.HashPassword(password, s.opts.Argon2); err != nil {
			return nil, err
		}
	}
	var u *ent.User
	err = s.inTx(ctx, func(ctx context.Context, c *ent.Client) error {
		sys := rule.AsSystem(ctx)
		exists := &Error{Kind: KindConflict, Field: "email", Message: "a user with email " + email + " exists"}
		if taken, err := c.User.Query().Where(user.Email(email)).Exist(sys); err != nil {
			return err
		} else if taken {
			return exists
		}
		create := c.User.Create().SetEmail(email)
		if hash != "" {
			create.SetPasswordHash(hash)
		}
		u, err = create.Save(sys)
		if ent.IsConstraintError(err) {
			return exists
		}
		return err
	})
	return u, err
}

// session signs a dashboard session for u.
func (s *Service) session(u *ent.User) (*AuthPayload, error) {
	tok, exp, err := auth.Sessions{Key: s.opts.Keys.Session, Now: s.now}.Sign(u.ID, u.SessionVersion)
	if err != nil {
		return nil, err
	}
	return &AuthPayload{Session: tok, ExpiresAt: exp, User: u}, nil
}

// dummyHash is a hash of no one's password, verified for unknown emails so
// they cost what known ones do.
func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() {
		pw, _ := newLinkToken()
		s.dummy, _ = auth.HashPassword(pw, s.opts.Argon2)
	})
	return s.dummy
}

// sendLink stores a new login token for u (its hash only) and queues the
// email that carries it, in c's transaction.
func (s *Service) sendLink(ctx context.Context, c *ent.Client, u *ent.User, orgID string, purpose logintoken.Purpose) error {
	now := s.now()
	ttl := SignInLinkTTL
	if purpose == logintoken.PurposeVerifyEmail {
		ttl = VerifyEmailTTL
	}
	token, err := issueLink(ctx, c, u.ID, purpose, now.Add(ttl))
	if err != nil {
		return err
	}
	msg := s.linkEmail(u, purpose, token)
	create := c.OutboxMessage.Create().SetKind(msg.kind).SetToAddress(u.Email).SetSubject(msg.subject).
		SetTextBody(msg.text).SetNextAttemptAt(now)
	if orgID != "" {
		create.SetOrgID(orgID)
	}
	_, err = create.Save(rule.AsSystem(ctx))
	return err
}

// spendLink finds the unused, unexpired login token for purpose, marks it
// used, marks its user's address verified, claims the account when it is an
// unclaimed shadow (claimShadow), and returns the user. Any failure is
// ErrInvalidLink, so a caller learns nothing about other tokens.
func (s *Service) spendLink(ctx context.Context, c *ent.Client, token string, purpose logintoken.Purpose) (*ent.User, error) {
	sys := rule.AsSystem(ctx)
	now := s.now()
	lt, err := liveLink(ctx, c, token, purpose, now)
	if err != nil {
		return nil, err
	}
	// The condition on used_at makes spending atomic: of two concurrent
	// uses, one updates the row and the other finds it spent.
	n, err := c.LoginToken.Update().Where(logintoken.ID(lt.ID), logintoken.UsedAtIsNil()).SetUsedAt(now).Save(sys)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, ErrInvalidLink
	}
	u, err := c.User.Get(sys, lt.UserID)
	if err != nil {
		return nil, err
	}
	// Every link proves the address, so whoever spends one on an account
	// someone else created for them takes it over, whatever the link was
	// for: the tokens issued before are revoked with it.
	if IsUnclaimedShadow(u) {
		return claimShadow(ctx, c, u, now)
	}
	if u.EmailVerifiedAt == nil {
		if u, err = c.User.UpdateOne(u).SetEmailVerifiedAt(now).Save(sys); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// newLinkToken returns 256 random bits, base64url: the secret in an emailed link.
func newLinkToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// checkEmail returns the address, lower-cased, or an error naming field.
func checkEmail(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", invalid(field, "is required")
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || len(s) > 254 {
		return "", invalid(field, "is not an email address, e.g. ada@example.com")
	}
	return strings.ToLower(s), nil
}

func checkPassword(field, pw string) error {
	if err := auth.CheckPasswordPolicy(pw); err != nil {
		return &Error{Kind: KindInvalid, Field: field, Message: strings.Replace(err.Error(), "password", field, 1)}
	}
	return nil
}

// checkText trims s and requires 1 to max characters.
func checkText(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", invalid(field, "is required")
	case len(s) > max:
		return "", invalid(field, "is too long: at most %d characters", max)
	case !utf8.ValidString(s):
		return "", invalid(field, "is not valid text")
	}
	return s, nil
}

func checkSlug(field, slug string) error {
	if slug == "" {
		return invalid(field, "is required")
	}
	if err := organization.SlugValidator(slug); err != nil {
		return invalid(field, "%q is not a slug: use lowercase letters, digits and single hyphens, e.g. acme-shop", slug)
	}
	return nil
}
