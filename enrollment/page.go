package enrollment

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/affiliatetoken"
	"github.com/tandemhq/tandem/ent/click"
	"github.com/tandemhq/tandem/ent/conversion"
	"github.com/tandemhq/tandem/ent/lead"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/notify"
	"github.com/tandemhq/tandem/viewer"
	"github.com/tandemhq/tandem/webpage"
)

// PageConfig is what the affiliate dashboard page needs.
type PageConfig struct {
	Client *ent.Client
	Now    func() time.Time // nil: time.Now
	Logger *slog.Logger     // nil: slog.Default()
	// PublicURL is the base URL the pages are served under, as for the
	// Service. The pages link nowhere (no script, no navigation), so
	// rendering does not need it today; it is part of the configuration so
	// that the server wires the pages like the links that lead to them.
	PublicURL string
}

// touchEvery is how often a token's last_used_at is written at most.
const touchEvery = time.Minute

// recentConversions is how many conversions the page lists.
const recentConversions = 10

// PageHandler serves an affiliate's own dashboard, opened by a token
// instead of an account:
//
//   - GET /embed/affiliate?token=rk_emb_… (EmbedPath): for an iframe on the
//     brand's site. Content-Security-Policy frame-ancestors lists the
//     token's allowed origins (any https site when it has none).
//   - GET /a/welcome?token=rk_wlc_… (WelcomePath): the link in an
//     invitation or approval email, a top-level page that no site may frame.
//
// An unknown, expired or revoked token gets a 401 page that says which and
// what to do. The page is read-only, server-rendered, runs no script, and is
// never cached or sent as a referrer (its URL holds the token).
func PageHandler(cfg PageConfig) http.Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	p := &pages{cfg: cfg}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+EmbedPath, func(w http.ResponseWriter, r *http.Request) {
		p.serve(w, r, affiliatetoken.PurposeEmbed)
	})
	mux.HandleFunc("GET "+WelcomePath, func(w http.ResponseWriter, r *http.Request) {
		p.serve(w, r, affiliatetoken.PurposeWelcome)
	})
	return mux
}

type pages struct {
	cfg PageConfig
}

// dashboard is what the page template shows.
type dashboard struct {
	Nonce      string
	Brand      pageBrand
	Title      string
	Name       string
	Email      string
	Campaign   string
	Status     string
	StatusNote string
	Commission string
	Slug       string
	Params     []string // referral URL parameters, preferred first
	Clicks     string
	Leads      string
	Sales      string
	Totals     []currencyTotals
	Recent     []recentRow
	ValidUntil string // for a welcome link
}

type pageBrand struct {
	Name, Color, TextColor, LogoURL string
}

type currencyTotals struct {
	Currency                string
	Pending, Approved, Paid string
}

type recentRow struct {
	Date, Type, Customer, Amount, Commission, Status string
}

// problem is what an error page shows.
type problem struct {
	Nonce   string
	Brand   pageBrand
	Title   string
	Message string
}

func (p *pages) serve(w http.ResponseWriter, r *http.Request, purpose affiliatetoken.Purpose) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	nonce := webpage.Nonce()
	frame := "'none'"
	if purpose == affiliatetoken.PurposeEmbed {
		// Until the token says where it may be shown, an error page may be
		// framed anywhere, so a broken embed explains itself in place. It
		// shows nothing but the error.
		frame = "*"
	} else {
		h.Set("X-Frame-Options", "DENY")
	}
	setCSP(h, nonce, frame)

	brand := pageBrand{Name: "Affiliate dashboard", Color: notify.DefaultBrandColor, TextColor: notify.TextOn(notify.DefaultBrandColor)}
	invalid := func(msg string) {
		p.render(w, http.StatusUnauthorized, problemPage, problem{Nonce: nonce, Brand: brand, Title: "This link does not work", Message: msg})
	}

	token := r.URL.Query().Get("token")
	prefix := WelcomeTokenPrefix
	if purpose == affiliatetoken.PurposeEmbed {
		prefix = EmbedTokenPrefix
	}
	if token == "" {
		invalid("The link has no token. Open the full link from your email, or ask the program for a new one.")
		return
	}
	if !wellFormed(token, prefix) {
		invalid("The link is incomplete or mistyped. Open the full link from your email, or ask the program for a new one.")
		return
	}

	// The page has no viewer yet: the token is what identifies the
	// affiliate, so it is looked up as the system, then everything else is
	// read as a read-only system viewer of the token's organization.
	sys := rule.AsSystem(r.Context())
	tok, err := p.cfg.Client.AffiliateToken.Query().
		Where(affiliatetoken.SecretHash(credential.Hash(token))).
		Only(sys)
	if ent.IsNotFound(err) || (err == nil && tok.Purpose != purpose) {
		invalid("This link is not valid. Ask the program for a new one.")
		return
	} else if err != nil {
		p.fail(w, r, nonce, brand, "looking up a dashboard token", err)
		return
	}
	if purpose == affiliatetoken.PurposeEmbed {
		setCSP(h, nonce, frameAncestors(tok.AllowedOrigins))
	}

	ctx := viewer.NewContext(r.Context(), &viewer.Viewer{
		OrgID:       tok.OrgID,
		Role:        viewer.RoleMember, // reads only
		ActorType:   viewer.ActorSystem,
		ActorID:     tok.ID,
		TokenID:     tok.ID,
		AffiliateID: tok.AffiliateID,
	})
	org, err := p.cfg.Client.Organization.Get(ctx, tok.OrgID)
	if err != nil {
		p.fail(w, r, nonce, brand, "reading the organization of a dashboard token", err)
		return
	}
	brand = brandOf(org)

	now := p.cfg.Now().UTC()
	switch {
	case tok.RevokedAt != nil:
		p.render(w, http.StatusUnauthorized, problemPage, problem{Nonce: nonce, Brand: brand, Title: "This link was revoked",
			Message: "This dashboard link was revoked by " + org.Name + ". Ask " + org.Name + " for a new one."})
		return
	case !now.Before(tok.ExpiresAt):
		p.render(w, http.StatusUnauthorized, problemPage, problem{Nonce: nonce, Brand: brand, Title: "This link has expired",
			Message: "This dashboard link expired on " + tok.ExpiresAt.UTC().Format("2 January 2006 at 15:04 UTC") + ". Ask " + org.Name + " for a new one."})
		return
	}
	p.touch(sys, tok, now)

	d, err := p.load(ctx, org, tok, now)
	if err != nil {
		p.fail(w, r, nonce, brand, "loading an affiliate dashboard", err)
		return
	}
	if d == nil {
		p.render(w, http.StatusForbidden, problemPage, problem{Nonce: nonce, Brand: brand, Title: "This account is not active",
			Message: "This affiliate account is not active in " + org.Name + "'s program. Contact " + org.Name + " if you think this is a mistake."})
		return
	}
	d.Nonce = nonce
	p.render(w, http.StatusOK, dashboardPage, d)
}

// touch records that the token was used, at most once a minute. It runs as
// the system without a viewer: bookkeeping, not a change anyone made, so it
// leaves no audit entry. A failure is logged and the page still shows.
func (p *pages) touch(sys context.Context, tok *ent.AffiliateToken, now time.Time) {
	if tok.LastUsedAt != nil && now.Sub(*tok.LastUsedAt) < touchEvery {
		return
	}
	err := p.cfg.Client.AffiliateToken.Update().
		Where(affiliatetoken.ID(tok.ID), affiliatetoken.Or(
			affiliatetoken.LastUsedAtIsNil(),
			affiliatetoken.LastUsedAtLTE(now.Add(-touchEvery)),
		)).
		SetLastUsedAt(now).
		Exec(sys)
	if err != nil {
		p.cfg.Logger.WarnContext(sys, "enrollment: recording a dashboard token's use", "token_id", tok.ID, "err", err)
	}
}

// load reads the dashboard of the token's affiliate, or nil when the
// affiliate is blocked.
func (p *pages) load(ctx context.Context, org *ent.Organization, tok *ent.AffiliateToken, now time.Time) (*dashboard, error) {
	c := p.cfg.Client
	a, err := c.Affiliate.Get(ctx, tok.AffiliateID)
	if err != nil {
		return nil, err
	}
	if a.Status == affiliate.StatusBlocked {
		return nil, nil
	}
	cmp, err := c.Campaign.Get(ctx, a.CampaignID)
	if err != nil {
		return nil, err
	}
	clicks, err := c.Click.Query().Where(click.AffiliateID(a.ID)).Count(ctx)
	if err != nil {
		return nil, err
	}
	leads, err := c.Lead.Query().Where(lead.AffiliateID(a.ID)).Count(ctx)
	if err != nil {
		return nil, err
	}
	earning := conversion.StatusIn(conversion.StatusPending, conversion.StatusApproved, conversion.StatusPaid)
	sales, err := c.Conversion.Query().Where(conversion.AffiliateID(a.ID), earning).Count(ctx)
	if err != nil {
		return nil, err
	}
	var sums []struct {
		Status   conversion.Status `json:"status"`
		Currency string            `json:"home_currency"`
		Sum      int64             `json:"sum"`
	}
	if err := c.Conversion.Query().
		Where(conversion.AffiliateID(a.ID), earning).
		GroupBy(conversion.FieldStatus, conversion.FieldHomeCurrency).
		Aggregate(ent.Sum(conversion.FieldHomeCommissionCents)).
		Scan(ctx, &sums); err != nil {
		return nil, err
	}
	recent, err := c.Conversion.Query().
		Where(conversion.AffiliateID(a.ID)).
		Order(ent.Desc(conversion.FieldOccurredAt), ent.Desc(conversion.FieldID)).
		Limit(recentConversions).
		All(ctx)
	if err != nil {
		return nil, err
	}

	name := a.FullName
	if name == "" {
		name = a.Email
	}
	d := &dashboard{
		Brand:      brandOf(org),
		Title:      name + " · " + cmp.Name,
		Name:       name,
		Email:      a.Email,
		Campaign:   cmp.Name,
		Commission: commissionSentence(cmp, a),
		Slug:       a.Slug,
		Params:     referralParams(org),
		Clicks:     groupThousands(strconv.Itoa(clicks)),
		Leads:      groupThousands(strconv.Itoa(leads)),
		Sales:      groupThousands(strconv.Itoa(sales)),
	}
	switch a.Status {
	case affiliate.StatusApproved:
		d.Status = "Active"
	case affiliate.StatusPending:
		d.Status, d.StatusNote = "Waiting for approval", org.Name+" has not approved your account yet; referrals count once it does."
	case affiliate.StatusRejected:
		d.Status, d.StatusNote = "Not approved", org.Name+" did not approve your application."
	}
	if tok.Purpose == affiliatetoken.PurposeWelcome {
		d.ValidUntil = tok.ExpiresAt.UTC().Format("2 January 2006")
	}

	totals := map[string]*[3]int64{}
	for _, s := range sums {
		t := totals[s.Currency]
		if t == nil {
			t = &[3]int64{}
			totals[s.Currency] = t
		}
		switch s.Status {
		case conversion.StatusPending:
			t[0] += s.Sum
		case conversion.StatusApproved:
			t[1] += s.Sum
		case conversion.StatusPaid:
			t[2] += s.Sum
		}
	}
	currencies := make([]string, 0, len(totals))
	for cur := range totals {
		currencies = append(currencies, cur)
	}
	// The organization's home currency first, then alphabetical.
	slices.SortFunc(currencies, func(x, y string) int {
		switch {
		case x == org.HomeCurrency:
			return -1
		case y == org.HomeCurrency:
			return 1
		}
		return strings.Compare(x, y)
	})
	if len(currencies) == 0 {
		currencies = []string{org.HomeCurrency}
		totals[org.HomeCurrency] = &[3]int64{}
	}
	for _, cur := range currencies {
		t := totals[cur]
		d.Totals = append(d.Totals, currencyTotals{Currency: cur,
			Pending: FormatMoney(t[0], cur), Approved: FormatMoney(t[1], cur), Paid: FormatMoney(t[2], cur)})
	}
	for _, cv := range recent {
		d.Recent = append(d.Recent, recentRow{
			Date:       cv.OccurredAt.UTC().Format("2006-01-02"),
			Type:       string(cv.Type),
			Customer:   maskEmail(cv.CustomerEmail),
			Amount:     FormatMoney(cv.AmountCents, cv.Currency),
			Commission: FormatMoney(cv.CommissionCents, cv.Currency),
			Status:     string(cv.Status),
		})
	}
	return d, nil
}

// referralParams are the URL parameters to show: the organization's custom
// ones first, then ref and via; at most three.
func referralParams(org *ent.Organization) []string {
	var out []string
	for _, p := range append(slices.Clone(org.CustomAttributionParams), "ref", "via") {
		if paramShape.MatchString(p) && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out[:min(len(out), 3)]
}

// maskEmail shows enough of a customer's address for an affiliate to
// recognise a referral without handing over the address: j•••@example.com.
func maskEmail(email string) string {
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" {
		return ""
	}
	r := []rune(local)
	return string(r[0]) + "•••@" + domain
}

func brandOf(org *ent.Organization) pageBrand {
	b := pageBrand{Name: org.Name, Color: notify.DefaultBrandColor}
	if hexColorShape.MatchString(org.BrandColor) {
		b.Color = strings.ToLower(org.BrandColor)
	}
	b.TextColor = notify.TextOn(b.Color)
	if strings.HasPrefix(org.LogoURL, "https://") {
		b.LogoURL = org.LogoURL
	}
	return b
}

// setCSP sets the page's Content-Security-Policy: nothing loads but its
// own nonce'd stylesheet and https images (the logo); frame says who may
// frame it.
func setCSP(h http.Header, nonce, frame string) {
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+nonce+"'; img-src https:; "+
		"base-uri 'none'; form-action 'none'; frame-ancestors "+frame)
}

// frameAncestors is the frame-ancestors source list of an embed token.
func frameAncestors(origins []string) string {
	var kept []string
	for _, o := range origins {
		// Stored origins were normalized when minted; anything that could
		// break out of the header value is skipped all the same.
		if !strings.ContainsAny(o, " ;,'\"\r\n") && o != "" {
			kept = append(kept, o)
		}
	}
	if len(kept) == 0 {
		return "https:"
	}
	return strings.Join(kept, " ")
}

func (p *pages) fail(w http.ResponseWriter, r *http.Request, nonce string, brand pageBrand, what string, err error) {
	p.cfg.Logger.ErrorContext(r.Context(), "enrollment: dashboard page: "+what, "err", err)
	p.render(w, http.StatusInternalServerError, problemPage, problem{Nonce: nonce, Brand: brand,
		Title: "Something went wrong", Message: "The dashboard could not be shown. Try again in a minute."})
}

func (p *pages) render(w http.ResponseWriter, status int, t *template.Template, data any) {
	webpage.Render(w, status, t, data, p.cfg.Logger, "enrollment: the dashboard page")
}
