package enrollment_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem/enrollment"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/auditlogentry"
	"github.com/tandemhq/tandem/ent/conversion"
	"github.com/tandemhq/tandem/ent/outboxmessage"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/provision"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/viewer"
)

// clock is a time source the test moves by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func sys() context.Context { return rule.AsSystem(context.Background()) }

// org is a seeded organization: a campaign with two affiliates, Ada (with
// traffic and sales) and Bob (with sales of his own).
type org struct {
	ID, Campaign, Ada, Bob string
	ctx                    context.Context // an owner's
}

func seedOrg(t *testing.T, c *ent.Client, slug, color string) *org {
	t.Helper()
	ctx := sys()
	res, err := provision.CreateOrg(ctx, c, provision.OrgInput{Name: strings.ToUpper(slug[:1]) + slug[1:], Slug: slug, OwnerEmail: "owner@" + slug + ".test", Plan: "growth"})
	if err != nil {
		t.Fatal(err)
	}
	c.Organization.UpdateOneID(res.OrgID).SetBrandColor(color).ExecX(ctx)
	o := &org{ID: res.OrgID}
	o.ctx = viewer.NewContext(context.Background(), &viewer.Viewer{OrgID: o.ID, UserID: res.OwnerUserID, ActorID: res.OwnerUserID,
		Role: viewer.RoleOwner, ActorType: viewer.ActorUser, Plan: "Growth", SubscriptionStatus: "active"})
	o.Campaign = c.Campaign.Create().SetOrgID(o.ID).SetName(slug + " partners").SetSlug(slug + "-partners").SaveX(ctx).ID
	o.Ada = c.Affiliate.Create().SetOrgID(o.ID).SetCampaignID(o.Campaign).SetEmail("ada@" + slug + ".test").
		SetFullName("Ada Lovelace").SetSlug(slug + "-ada").SetStatus(affiliate.StatusApproved).SaveX(ctx).ID
	o.Bob = c.Affiliate.Create().SetOrgID(o.ID).SetCampaignID(o.Campaign).SetEmail("bob@" + slug + ".test").
		SetSlug(slug + "-bob").SetStatus(affiliate.StatusApproved).SaveX(ctx).ID
	return o
}

func addConversion(t *testing.T, c *ent.Client, o *org, aff string, status conversion.Status, commission int64, at time.Time, customer string) {
	t.Helper()
	c.Conversion.Create().SetOrgID(o.ID).SetAffiliateID(aff).SetCampaignID(o.Campaign).SetStatus(status).
		SetAmountCents(commission * 5).SetCommissionCents(commission).SetCurrency("USD").
		SetHomeAmountCents(commission * 5).SetHomeCommissionCents(commission).SetHomeCurrency("USD").
		SetCustomerEmail(customer).SetOccurredAt(at).ExecX(sys())
}

type page struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, h http.Handler, path, token string) page {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path+"?token="+url.QueryEscape(token), nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return page{rec.Code, rec.Header(), rec.Body.String()}
}

func TestDashboardPage(t *testing.T) {
	c := storetest.SQLite(t).Client
	clk := &clock{now: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	acme := seedOrg(t, c, "acme", "#FF6600")
	other := seedOrg(t, c, "other", "#00aa00")

	for range 3 {
		c.Click.Create().SetOrgID(acme.ID).SetAffiliateID(acme.Ada).SetCampaignID(acme.Campaign).ExecX(sys())
	}
	c.Lead.Create().SetOrgID(acme.ID).SetAffiliateID(acme.Ada).SetCampaignID(acme.Campaign).SetEmail("l1@x.test").ExecX(sys())
	c.Lead.Create().SetOrgID(acme.ID).SetAffiliateID(acme.Ada).SetCampaignID(acme.Campaign).SetEmail("l2@x.test").ExecX(sys())
	day := clk.now.Add(-24 * time.Hour)
	addConversion(t, c, acme, acme.Ada, conversion.StatusPending, 200, day, "first@cust.test")
	addConversion(t, c, acme, acme.Ada, conversion.StatusApproved, 300, day.Add(-time.Hour), "c2@cust.test")
	addConversion(t, c, acme, acme.Ada, conversion.StatusPaid, 500, day.Add(-2*time.Hour), "c3@cust.test")
	addConversion(t, c, acme, acme.Ada, conversion.StatusDenied, 99900, day.Add(-3*time.Hour), "c4@cust.test")
	for i := range 8 { // older ones, so that 12 exist and only the newest 10 show
		addConversion(t, c, acme, acme.Ada, conversion.StatusPaid, 100, day.Add(-time.Duration(10+i)*24*time.Hour), "old@cust.test")
	}
	addConversion(t, c, acme, acme.Bob, conversion.StatusApproved, 77700, day, "bob-cust@cust.test")
	addConversion(t, c, other, other.Ada, conversion.StatusApproved, 88800, day, "other@cust.test")

	svc := enrollment.New(clk.Now, "https://tandem.test")
	emb, err := svc.MintEmbedToken(acme.ctx, c, enrollment.EmbedInput{AffiliateID: acme.Ada, AllowedOrigins: []string{"https://shop.acme.test", "http://localhost:3000"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(emb.Token, "rk_emb_") || emb.EmbedURL != "https://tandem.test/embed/affiliate?token="+emb.Token {
		t.Fatalf("minted %+v", emb)
	}
	h := enrollment.PageHandler(enrollment.PageConfig{Client: c, Now: clk.Now, PublicURL: "https://tandem.test"})

	p := get(t, h, enrollment.EmbedPath, emb.Token)
	if p.status != http.StatusOK {
		t.Fatalf("status %d: %s", p.status, p.body)
	}
	csp := p.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors https://shop.acme.test http://localhost:3000") || strings.Contains(csp, "'unsafe-inline'") {
		t.Errorf("CSP %q", csp)
	}
	if p.header.Get("X-Frame-Options") != "" || p.header.Get("Cache-Control") != "no-store" || p.header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("headers %v", p.header)
	}
	for _, want := range []string{
		"Ada Lovelace", "acme partners", "Active", "acme-ada", "?ref=acme-ada", "?via=acme-ada", "#ff6600",
		"Clicks</span><b>3</b>", "Signups (leads)</span><b>2</b>", "Conversions</span><b>11</b>",
		"USD 2.00", "USD 3.00", "USD 13.00", // pending, approved, paid (5.00 + 8 × 1.00)
		"f•••@cust.test", "2026-03-09",
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// A denied conversion is listed with its status but earns nothing.
	if !strings.Contains(p.body, "<td>Denied</td>") {
		t.Errorf("page does not list the denied conversion")
	}
	for _, gone := range []string{"first@cust.test", "777.00", "888.00", "bob-cust", "USD 1,012.00"} {
		if strings.Contains(p.body, gone) {
			t.Errorf("page shows %q", gone)
		}
	}
	if n := strings.Count(p.body, "<tr><td>2026-"); n != 10 {
		t.Errorf("page lists %d conversions, want the last 10", n)
	}
	nonce := regexp.MustCompile(`'nonce-([^']+)'`).FindStringSubmatch(csp)
	if nonce == nil || !strings.Contains(p.body, `<style nonce="`+nonce[1]+`">`) {
		t.Errorf("the stylesheet does not carry the CSP nonce")
	}

	// last_used_at is written at most once a minute, and leaves no audit entry.
	used := c.AffiliateToken.GetX(sys(), emb.TokenID).LastUsedAt
	if used == nil || !used.Equal(clk.now) {
		t.Fatalf("last_used_at %v, want %v", used, clk.now)
	}
	clk.advance(30 * time.Second)
	get(t, h, enrollment.EmbedPath, emb.Token)
	if got := c.AffiliateToken.GetX(sys(), emb.TokenID).LastUsedAt; !got.Equal(*used) {
		t.Errorf("last_used_at moved to %v within a minute", got)
	}
	clk.advance(time.Minute)
	get(t, h, enrollment.EmbedPath, emb.Token)
	if got := c.AffiliateToken.GetX(sys(), emb.TokenID).LastUsedAt; !got.Equal(clk.now) {
		t.Errorf("last_used_at %v after a minute, want %v", got, clk.now)
	}
	if n := c.AuditLogEntry.Query().Where(auditlogentry.Action("affiliate_token.update")).CountX(sys()); n != 0 {
		t.Errorf("%d audit entries for token use, want none", n)
	}

	// The embed token opens nothing else, and other pages refuse it.
	if p := get(t, h, enrollment.WelcomePath, emb.Token); p.status != http.StatusUnauthorized {
		t.Errorf("embed token on the welcome page: status %d", p.status)
	}

	// Expired.
	clk.advance(24 * time.Hour)
	p = get(t, h, enrollment.EmbedPath, emb.Token)
	if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "expired") || strings.Contains(p.body, "Ada Lovelace") {
		t.Errorf("expired token: status %d body %s", p.status, p.body)
	}
	if !strings.Contains(p.header.Get("Content-Security-Policy"), "frame-ancestors https://shop.acme.test") {
		t.Errorf("expired token page CSP %q: still only the allowed origins may frame it", p.header.Get("Content-Security-Policy"))
	}
}

func TestDashboardPageRefusals(t *testing.T) {
	c := storetest.SQLite(t).Client
	clk := &clock{now: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	acme := seedOrg(t, c, "acme", "#123456")
	svc := enrollment.New(clk.Now, "https://tandem.test")
	h := enrollment.PageHandler(enrollment.PageConfig{Client: c, Now: clk.Now})

	old, err := svc.MintEmbedToken(acme.ctx, c, enrollment.EmbedInput{AffiliateID: acme.Ada})
	if err != nil {
		t.Fatal(err)
	}
	if p := get(t, h, enrollment.EmbedPath, old.Token); p.status != http.StatusOK ||
		!strings.HasSuffix(p.header.Get("Content-Security-Policy"), "frame-ancestors https:") {
		t.Fatalf("token without origins: status %d CSP %q", p.status, p.header.Get("Content-Security-Policy"))
	}
	// Rotating revokes the old token.
	fresh, err := svc.MintEmbedToken(acme.ctx, c, enrollment.EmbedInput{AffiliateID: acme.Ada, Rotate: true})
	if err != nil {
		t.Fatal(err)
	}
	if fresh.RevokedTokens != 1 {
		t.Errorf("rotate revoked %d tokens, want 1", fresh.RevokedTokens)
	}
	p := get(t, h, enrollment.EmbedPath, old.Token)
	if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "revoked") {
		t.Errorf("revoked token: status %d body %s", p.status, p.body)
	}
	if p := get(t, h, enrollment.EmbedPath, fresh.Token); p.status != http.StatusOK {
		t.Errorf("fresh token: status %d", p.status)
	}

	for name, tok := range map[string]string{
		"missing":   "",
		"garbage":   "hello",
		"unknown":   "rk_emb_" + strings.Repeat("A", 43),
		"truncated": fresh.Token[:len(fresh.Token)-2],
	} {
		p := get(t, h, enrollment.EmbedPath, tok)
		if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "This link does not work") {
			t.Errorf("%s token: status %d", name, p.status)
		}
	}

	// A POST is not served.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, enrollment.EmbedPath+"?token="+fresh.Token, nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d", rec.Code)
	}

	// A blocked affiliate's dashboard is closed.
	c.Affiliate.UpdateOneID(acme.Ada).SetStatus(affiliate.StatusBlocked).ExecX(sys())
	if p := get(t, h, enrollment.EmbedPath, fresh.Token); p.status != http.StatusForbidden || strings.Contains(p.body, "acme-ada") {
		t.Errorf("blocked affiliate: status %d", p.status)
	}
}

func TestWelcomePage(t *testing.T) {
	c := storetest.SQLite(t).Client
	clk := &clock{now: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	acme := seedOrg(t, c, "acme", "#123456")
	svc := enrollment.New(clk.Now, "https://tandem.test")
	inv, err := svc.Invite(acme.ctx, c, enrollment.InviteInput{CampaignID: acme.Campaign, Email: "Grace@Example.com", FullName: ptr("Grace Hopper")})
	if err != nil {
		t.Fatal(err)
	}
	msg := c.OutboxMessage.Query().Where(outboxmessage.ToAddress("grace@example.com")).OnlyX(sys())
	m := regexp.MustCompile(`https://tandem\.test/a/welcome\?token=(rk_wlc_[A-Za-z0-9_-]{43})`).FindStringSubmatch(msg.TextBody)
	if m == nil {
		t.Fatalf("no welcome link in %s", msg.TextBody)
	}
	h := enrollment.PageHandler(enrollment.PageConfig{Client: c, Now: clk.Now})
	p := get(t, h, enrollment.WelcomePath, m[1])
	if p.status != http.StatusOK || !strings.Contains(p.body, "Grace Hopper") || !strings.Contains(p.body, inv.Affiliate.Slug) {
		t.Fatalf("welcome page: status %d body %s", p.status, p.body)
	}
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || p.header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("welcome page may be framed: CSP %q XFO %q", csp, p.header.Get("X-Frame-Options"))
	}
	if !strings.Contains(p.body, "This link works until 17 March 2026") {
		t.Errorf("welcome page does not say how long the link works")
	}
	if p := get(t, h, enrollment.EmbedPath, m[1]); p.status != http.StatusUnauthorized {
		t.Errorf("welcome token on the embed page: status %d", p.status)
	}
	clk.advance(enrollment.WelcomeTTL)
	if p := get(t, h, enrollment.WelcomePath, m[1]); p.status != http.StatusUnauthorized || !strings.Contains(p.body, "expired") {
		t.Errorf("welcome link after 7 days: status %d", p.status)
	}
}

func ptr[T any](v T) *T { return &v }
