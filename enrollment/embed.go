package enrollment

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/affiliatetoken"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/fault"
)

// Bounds of an embed token.
const (
	MinEmbedHours      = 1
	MaxEmbedHours      = 720
	DefaultEmbedHours  = 24
	MaxAllowedOrigins  = 10
	MaxActiveEmbedsPer = 25 // active embed tokens per affiliate
)

// EmbedInput is a mintEmbedToken call.
type EmbedInput struct {
	AffiliateID    string
	ExpiresInHours *int // nil: DefaultEmbedHours
	AllowedOrigins []string
	Rotate         bool
}

// EmbedToken is a freshly minted embed token. Token is the only time the
// plaintext is shown.
type EmbedToken struct {
	Token     string
	TokenID   string
	ExpiresAt time.Time
	// AllowedOrigins are the normalized origins that may frame the embed;
	// empty means any https site.
	AllowedOrigins []string
	// EmbedURL is the iframe's src.
	EmbedURL string
	// RevokedTokens counts the affiliate's earlier embed tokens revoked by rotate.
	RevokedTokens int
}

// MintEmbedToken issues a token that shows one affiliate's dashboard in an
// iframe on the brand's site, for 1 to 720 hours, frameable only by the
// allowed origins (any https site when none are given). With rotate, the
// affiliate's active embed tokens are revoked first. The token row's audit
// entry never holds the secret (only its hash is stored, and that is
// Sensitive).
func (s *Service) MintEmbedToken(ctx context.Context, c *ent.Client, in EmbedInput) (*EmbedToken, error) {
	if err := rule.RequireWriter(ctx); err != nil {
		return nil, err
	}
	hours := DefaultEmbedHours
	if in.ExpiresInHours != nil {
		hours = *in.ExpiresInHours
	}
	if hours < MinEmbedHours || hours > MaxEmbedHours {
		return nil, fault.Invalid("expiresInHours", "is %d; it must be between %d and %d hours (30 days)", hours, MinEmbedHours, MaxEmbedHours)
	}
	origins, err := NormalizeOrigins("allowedOrigins", in.AllowedOrigins)
	if err != nil {
		return nil, err
	}
	a, err := getAffiliate(ctx, c, "affiliateID", in.AffiliateID)
	if err != nil {
		return nil, err
	}
	if a.Status == affiliate.StatusBlocked || a.Status == affiliate.StatusRejected {
		return nil, fault.Conflict("affiliateID", "affiliate_not_active",
			"affiliate %s is %s, so it has no dashboard to embed: approve it first", a.ID, strings.ToLower(string(a.Status)))
	}
	now := s.clock()
	active := c.AffiliateToken.Query().Where(
		affiliatetoken.AffiliateID(a.ID),
		affiliatetoken.PurposeEQ(affiliatetoken.PurposeEmbed),
		affiliatetoken.RevokedAtIsNil(),
		affiliatetoken.ExpiresAtGT(now),
	)
	revoked := 0
	if in.Rotate {
		ids, err := active.IDs(ctx)
		if err != nil {
			return nil, err
		}
		if len(ids) > 0 {
			if revoked, err = c.AffiliateToken.Update().
				Where(affiliatetoken.IDIn(ids...)).
				SetRevokedAt(now).
				Save(ctx); err != nil {
				return nil, err
			}
		}
	} else {
		n, err := active.Count(ctx)
		if err != nil {
			return nil, err
		}
		if n >= MaxActiveEmbedsPer {
			return nil, &fault.Error{Kind: fault.KindLimitReached, Field: "affiliateID", Reason: "embed_token_limit",
				Message: fmt.Sprintf("affiliate %s already has %d active embed tokens, the most allowed: call again with rotate: true to revoke them and mint a new one", a.ID, n)}
		}
	}
	token, err := newToken(EmbedTokenPrefix)
	if err != nil {
		return nil, err
	}
	create := c.AffiliateToken.Create().
		SetAffiliateID(a.ID).
		SetPurpose(affiliatetoken.PurposeEmbed).
		SetSecretHash(credential.Hash(token)).
		SetExpiresAt(now.Add(time.Duration(hours) * time.Hour))
	if len(origins) > 0 {
		create.SetAllowedOrigins(origins)
	}
	t, err := create.Save(ctx)
	if err != nil {
		return nil, err
	}
	return &EmbedToken{
		Token:          token,
		TokenID:        t.ID,
		ExpiresAt:      t.ExpiresAt,
		AllowedOrigins: origins,
		EmbedURL:       s.link(EmbedPath, token),
		RevokedTokens:  revoked,
	}, nil
}

// NormalizeOrigins checks origins a page may be framed by and returns them
// in origin form (scheme://host[:port], lower case, default port dropped),
// without duplicates. Each must be https, or http on localhost for
// development; paths, queries, credentials and wildcards are refused, with
// field named.
func NormalizeOrigins(field string, origins []string) ([]string, error) {
	out := []string{}
	seen := map[string]bool{}
	for _, raw := range origins {
		o, err := normalizeOrigin(raw)
		if err != nil {
			return nil, fault.Invalid(field, "has %q, which %s", clipText(raw, 100), err.Error())
		}
		if !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	if len(out) > MaxAllowedOrigins {
		return nil, fault.Invalid(field, "has %d origins; at most %d may frame one embed", len(out), MaxAllowedOrigins)
	}
	return out, nil
}

type originError string

func (e originError) Error() string { return string(e) }

func normalizeOrigin(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", originError("is empty")
	}
	if strings.ContainsAny(s, "* \t\r\n;,'\"") {
		return "", originError("is not an origin: give one scheme://host[:port] per entry, without wildcards, e.g. https://shop.example.com")
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", originError("is not an origin such as https://shop.example.com")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || (u.Path != "" && u.Path != "/") {
		return "", originError("is a URL, not an origin: keep only scheme://host[:port], e.g. https://shop.example.com")
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if host == "" {
		return "", originError("has no host")
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", originError("has an invalid port")
		}
		port = strconv.Itoa(n)
	}
	switch scheme {
	case "https":
		if port == "443" {
			port = ""
		}
	case "http":
		if !isLocalhost(host) {
			return "", originError("is http: use https (http is allowed only for localhost)")
		}
		if port == "80" {
			port = ""
		}
	default:
		return "", originError("must start with https://")
	}
	if !validHost(host) {
		return "", originError("has an invalid host name (write international names in their xn-- punycode form)")
	}
	hostPort := host
	if strings.Contains(host, ":") { // IPv6
		hostPort = "[" + host + "]"
	}
	if port != "" {
		hostPort += ":" + port
	}
	return scheme + "://" + hostPort, nil
}

func isLocalhost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validHost accepts DNS names (letters, digits, hyphens and dots) and IP
// literals, which is what a Content-Security-Policy source may hold.
func validHost(host string) bool {
	if net.ParseIP(host) != nil {
		return true
	}
	if len(host) > 253 {
		return false
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}
