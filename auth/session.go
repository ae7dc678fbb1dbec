package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// SessionTTL is how long a dashboard session lasts before signing in again.
const SessionTTL = 12 * time.Hour

// sessionIssuer and sessionAudience pin tokens to this use, so a JWT minted
// for anything else is refused even if it shares a key.
const (
	sessionIssuer   = "tandem"
	sessionAudience = "tandem-dashboard"
)

// ErrInvalidSession is returned for any session that does not verify.
var ErrInvalidSession = errors.New("invalid or expired session")

// Session is a verified session's content.
type Session struct {
	UserID string
	// Version is the user's session version when signed; bumping the stored
	// version (sign out everywhere, password change) invalidates older sessions.
	Version   int
	ExpiresAt time.Time
}

type sessionClaims struct {
	jwt.RegisteredClaims
	Version int `json:"ver"`
}

// Sessions signs and verifies session JWTs (HS256).
type Sessions struct {
	Key []byte
	Now func() time.Time
}

func (s Sessions) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Sign returns a session JWT for the user.
func (s Sessions) Sign(userID string, version int) (string, time.Time, error) {
	if len(s.Key) < 32 {
		return "", time.Time{}, errors.New("auth: session key must be at least 32 bytes")
	}
	now := s.now()
	exp := now.Add(SessionTTL)
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, sessionClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    sessionIssuer,
			Audience:  jwt.ClaimStrings{sessionAudience},
			Subject:   userID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
		Version: version,
	})
	signed, err := tok.SignedString(s.Key)
	return signed, exp, err
}

// Verify checks a session JWT's signature, algorithm, issuer, audience and expiry.
func (s Sessions) Verify(token string) (Session, error) {
	var claims sessionClaims
	_, err := jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return s.Key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(sessionIssuer),
		jwt.WithAudience(sessionAudience),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(s.now),
	)
	if err != nil || claims.Subject == "" {
		return Session{}, fmt.Errorf("%w", ErrInvalidSession)
	}
	return Session{UserID: claims.Subject, Version: claims.Version, ExpiresAt: claims.ExpiresAt.Time}, nil
}
