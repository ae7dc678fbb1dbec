package enrollment

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/affiliatetoken"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/notify"
)

// Paths of the affiliate's own dashboard page, served by PageHandler. The
// token is the "token" query parameter.
const (
	// WelcomePath opens the dashboard from the link in an invitation or
	// approval email (a welcome token), as a top-level page.
	WelcomePath = "/a/welcome"
	// EmbedPath is the dashboard as an iframe on the brand's site (an embed token).
	EmbedPath = "/embed/affiliate"
)

// Token prefixes: what a pasted or leaked dashboard token is.
const (
	EmbedTokenPrefix   = credential.EmbedTokenPrefix
	WelcomeTokenPrefix = credential.WelcomeTokenPrefix
)

// WelcomeTTL is how long the dashboard link in an invitation or approval
// email works.
const WelcomeTTL = 7 * 24 * time.Hour

// Outbox kinds of the emails this package sends.
const (
	KindInvite   = "affiliate_invite"
	KindApproved = "affiliate_approved"
	KindRejected = "affiliate_rejected"
)

// Service runs enrollment for one request: its clock and the base URL of
// the links it emails. Every method takes the client to work with, which in
// a mutation is the transaction's.
type Service struct {
	now       func() time.Time
	publicURL string
}

// New returns a Service. now nil means the wall clock; publicURL is the base
// of links (no trailing slash needed).
func New(now func() time.Time, publicURL string) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{now: now, publicURL: strings.TrimRight(publicURL, "/")}
}

func (s *Service) clock() time.Time { return s.now().UTC() }

// link returns the absolute URL of path carrying token.
func (s *Service) link(path, token string) string {
	return s.publicURL + path + "?token=" + url.QueryEscape(token)
}

// newToken returns a fresh dashboard token: the prefix and 256 random bits
// in unpadded base64url. Only credential.Hash of it is stored.
func newToken(prefix string) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("enrollment: reading randomness: %w", err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// tokenLen is the length of every dashboard token: a 7-byte prefix and 43
// body characters.
const tokenLen = 7 + 43

var tokenShape = regexp.MustCompile(`^rk_(?:emb|wlc)_[A-Za-z0-9_-]{43}$`)

// wellFormed reports whether s looks like a dashboard token of the prefix,
// so that garbage is refused without a database lookup.
func wellFormed(s, prefix string) bool {
	return len(s) == tokenLen && strings.HasPrefix(s, prefix) && tokenShape.MatchString(s)
}

// WelcomeLink stores a new welcome token for the affiliate and returns the
// dashboard link that carries it.
func (s *Service) WelcomeLink(ctx context.Context, c *ent.Client, aff *ent.Affiliate) (string, error) {
	token, err := newToken(WelcomeTokenPrefix)
	if err != nil {
		return "", err
	}
	if err := c.AffiliateToken.Create().
		SetAffiliateID(aff.ID).
		SetPurpose(affiliatetoken.PurposeWelcome).
		SetSecretHash(credential.Hash(token)).
		SetExpiresAt(s.clock().Add(WelcomeTTL)).
		Exec(ctx); err != nil {
		return "", err
	}
	return s.link(WelcomePath, token), nil
}

// getAffiliate reads an affiliate of the viewer's organization, reporting
// any other ID as not found under field.
func getAffiliate(ctx context.Context, c *ent.Client, field, id string) (*ent.Affiliate, error) {
	a, err := c.Affiliate.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, fault.NotFound(field, "no affiliate %s in this organization: check the ID with list_affiliates", id)
	}
	return a, err
}

// getCampaign reads a campaign of the viewer's organization.
func getCampaign(ctx context.Context, c *ent.Client, field, id string) (*ent.Campaign, error) {
	cmp, err := c.Campaign.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, fault.NotFound(field, "no campaign %s in this organization: check the ID with list_campaigns", id)
	}
	return cmp, err
}

// checkEmail returns the address trimmed and lower-cased, or a refusal
// naming field.
func checkEmail(field, s string) (string, error) {
	addr, ok := notify.Address(s)
	if !ok {
		if strings.TrimSpace(s) == "" {
			return "", fault.Invalid(field, "is required: an email address, e.g. ada@example.com")
		}
		return "", fault.Invalid(field, "%q is not an email address; give a bare address such as ada@example.com", clipText(s, 80))
	}
	return addr, nil
}

// optionalText trims an optional text input and checks its length in
// characters and in bytes (the database's limit); nil or blank is "".
func optionalText(field string, s *string, max int) (string, error) {
	if s == nil {
		return "", nil
	}
	t := strings.TrimSpace(*s)
	switch {
	case !utf8.ValidString(t):
		return "", fault.Invalid(field, "is not valid UTF-8 text")
	case utf8.RuneCountInString(t) > max:
		return "", fault.Invalid(field, "is %d characters long; it may have at most %d", utf8.RuneCountInString(t), max)
	case len(t) > max:
		return "", fault.Invalid(field, "is %d bytes long in UTF-8; it may have at most %d: shorten it", len(t), max)
	}
	return t, nil
}

// clipText shortens s for quoting in a message.
func clipText(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// Greeting is the first line of every email to an affiliate.
func Greeting(a *ent.Affiliate) string {
	if f := strings.Fields(a.FullName); len(f) > 0 {
		return "Hi " + f[0] + ","
	}
	return "Hi there,"
}

// referralParam is the URL parameter the brand's site reads the referral
// from: the organization's first custom attribution parameter, else "ref".
func referralParam(org *ent.Organization) string {
	for _, p := range org.CustomAttributionParams {
		if paramShape.MatchString(p) {
			return p
		}
	}
	return "ref"
}

var paramShape = regexp.MustCompile(`^[a-z0-9_-]{2,32}$`)

// commissionSentence says what the affiliate earns, in words, with the
// affiliate's own rate when it has one.
func commissionSentence(cmp *ent.Campaign, a *ent.Affiliate) string {
	kind := string(cmp.CommissionType)
	if a.CustomCommissionType != nil {
		kind = string(*a.CustomCommissionType)
	}
	value := cmp.CommissionValue
	if a.CustomCommissionValue != nil {
		value = *a.CustomCommissionValue
	}
	var what string
	switch cmp.CommissionModel {
	case "Cpl":
		what = "every signup you refer"
	case "Cpc":
		what = "every click you send"
	default:
		what = "every sale you refer"
	}
	if kind == "Percentage" {
		return fmt.Sprintf("You earn %s of %s.", FormatPercent(value), what)
	}
	return fmt.Sprintf("You earn %s for %s.", FormatMoney(value, cmp.Currency), what)
}

// DashboardParagraphs are the lines about the dashboard link in an
// invitation or approval.
func DashboardParagraphs(org *ent.Organization, a *ent.Affiliate) []string {
	return []string{
		fmt.Sprintf("Your referral code is %s. Add ?%s=%s to any link to %s's site and the customers you send are credited to you.",
			a.Slug, referralParam(org), a.Slug, org.Name),
		fmt.Sprintf("The button opens your affiliate dashboard, where you can follow your clicks, signups and commissions. "+
			"It works for %d days; after that, ask %s for a new link.", int(WelcomeTTL.Hours()/24), org.Name),
	}
}

// queueInvite writes the invitation email to a, with a fresh dashboard link.
func (s *Service) queueInvite(ctx context.Context, c *ent.Client, org *ent.Organization, cmp *ent.Campaign, a *ent.Affiliate, noteHTML string) error {
	link, err := s.WelcomeLink(ctx, c, a)
	if err != nil {
		return err
	}
	paras := []string{Greeting(a)}
	heading := "You're invited to promote " + cmp.Name
	if a.Status == "Pending" {
		heading = "You're invited to join " + cmp.Name
		paras = append(paras,
			fmt.Sprintf("%s has invited you to join %s as an affiliate. %s", org.Name, cmp.Name, commissionSentence(cmp, a)),
			fmt.Sprintf("Your account is waiting for %s's approval; you will get another email when it is approved.", org.Name))
	} else {
		paras = append(paras,
			fmt.Sprintf("%s has invited you to promote %s as an affiliate, and your account is ready. %s", org.Name, cmp.Name, commissionSentence(cmp, a)))
	}
	paras = append(paras, DashboardParagraphs(org, a)...)
	return notify.Queue(ctx, c, org, a.Email, notify.Message{
		Kind:        KindInvite,
		Subject:     notify.Subject(fmt.Sprintf("%s invites you to the %s affiliate program", org.Name, cmp.Name)),
		Heading:     heading,
		Paragraphs:  paras,
		NoteHTML:    noteHTML,
		ActionLabel: "Open your affiliate dashboard",
		ActionURL:   link,
	})
}

// queueApproved writes the welcome email of an approved affiliate.
func (s *Service) queueApproved(ctx context.Context, c *ent.Client, org *ent.Organization, cmp *ent.Campaign, a *ent.Affiliate) error {
	link, err := s.WelcomeLink(ctx, c, a)
	if err != nil {
		return err
	}
	paras := append([]string{
		Greeting(a),
		fmt.Sprintf("%s has approved you as an affiliate of %s. %s", org.Name, cmp.Name, commissionSentence(cmp, a)),
	}, DashboardParagraphs(org, a)...)
	return notify.Queue(ctx, c, org, a.Email, notify.Message{
		Kind:        KindApproved,
		Subject:     notify.Subject(fmt.Sprintf("You're approved: welcome to %s", cmp.Name)),
		Heading:     "Welcome to " + cmp.Name,
		Paragraphs:  paras,
		ActionLabel: "Open your affiliate dashboard",
		ActionURL:   link,
	})
}

// queueRejected writes the email telling an applicant the answer is no.
func queueRejected(ctx context.Context, c *ent.Client, org *ent.Organization, cmp *ent.Campaign, a *ent.Affiliate, reason string) error {
	paras := []string{
		Greeting(a),
		fmt.Sprintf("Thank you for applying to %s. %s has decided not to approve your application.", cmp.Name, org.Name),
	}
	if reason != "" {
		paras = append(paras, "Their reason: "+reason)
	}
	return notify.Queue(ctx, c, org, a.Email, notify.Message{
		Kind:       KindRejected,
		Subject:    notify.Subject(fmt.Sprintf("Your application to %s", cmp.Name)),
		Heading:    "About your application to " + cmp.Name,
		Paragraphs: paras,
	})
}
