package account

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/logintoken"
)

// Outbox message kinds this package queues.
const (
	MessageVerifyEmail = "verify_email"
	MessageSignInLink  = "sign_in_link"
)

// Paths of the dashboard pages emailed links open; the token is the
// "token" query parameter.
const (
	VerifyEmailPath = "/verify-email"
	SignInLinkPath  = "/sign-in/link"
)

type email struct {
	kind, subject, text string
}

// link returns the absolute URL of path with the token.
func (s *Service) link(path, token string) string {
	return strings.TrimRight(s.opts.PublicURL, "/") + path + "?token=" + url.QueryEscape(token)
}

// linkEmail writes the email that carries a login token to u.
func (s *Service) linkEmail(u *ent.User, purpose logintoken.Purpose, token string) email {
	greeting := "Hello,"
	if u.FullName != "" {
		greeting = "Hello " + u.FullName + ","
	}
	if purpose == logintoken.PurposeVerifyEmail {
		return email{
			kind:    MessageVerifyEmail,
			subject: "Verify your email address for Tandem",
			text: fmt.Sprintf("%s\n\nConfirm that %s is your address by opening this link:\n\n%s\n\n"+
				"The link works once, for %d days. If you did not sign up for Tandem, ignore this email.\n",
				greeting, u.Email, s.link(VerifyEmailPath, token), int(VerifyEmailTTL.Hours()/24)),
		}
	}
	return email{
		kind:    MessageSignInLink,
		subject: "Your Tandem sign-in link",
		text: fmt.Sprintf("%s\n\nOpen this link to sign in to Tandem:\n\n%s\n\n"+
			"The link works once, within %d minutes. If you did not ask to sign in, ignore this email: "+
			"nobody can use your account without opening it.\n",
			greeting, s.link(SignInLinkPath, token), int(SignInLinkTTL.Minutes())),
	}
}
