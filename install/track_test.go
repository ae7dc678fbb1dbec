package install_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/auditlogentry"
	"github.com/tandemhq/tandem/ent/campaign"
	"github.com/tandemhq/tandem/ent/click"
	"github.com/tandemhq/tandem/ent/conversion"
	"github.com/tandemhq/tandem/ent/lead"
	"github.com/tandemhq/tandem/install"
	"github.com/tandemhq/tandem/viewer"
)

var trackNow = time.Date(2026, 4, 2, 10, 30, 0, 0, time.UTC)

var trackSalt = []byte("test-ip-salt")

// trackFixture is an organization with a pixel key, a 20% campaign and an
// approved affiliate "jane", served by the tracking handler.
type trackFixture struct {
	*installFixture
	h    http.Handler
	cmp  *ent.Campaign
	jane *ent.Affiliate
	key  string
}

func newTrackFixture(t *testing.T) *trackFixture {
	f := newInstallFixture(t)
	ctx := f.ownerCtx()
	org, err := install.PixelKeyCreate(ctx, f.client, f.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.org = org
	tf := &trackFixture{installFixture: f, key: *org.PixelPublicKey}
	tf.cmp = f.campaign(org, "main", func(c *ent.CampaignCreate) { c.SetCookieWindowDays(60) })
	tf.jane = f.affiliate(tf.cmp, "jane", nil)
	tf.h = install.TrackHandler(install.TrackConfig{Client: f.client, Now: func() time.Time { return trackNow }, IPSalt: trackSalt})
	return tf
}

type trackResp struct {
	status int
	header http.Header
	body   map[string]any
}

func (r trackResp) str(k string) string { s, _ := r.body[k].(string); return s }

func (tf *trackFixture) post(t *testing.T, path string, body any) trackResp {
	t.Helper()
	var raw []byte
	switch b := body.(type) {
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	req.Header.Set("Origin", "https://shop.example")
	req.Header.Set("User-Agent", "TestBrowser/1.0")
	req.RemoteAddr = "203.0.113.7:51234"
	return tf.serve(t, req)
}

func (tf *trackFixture) serve(t *testing.T, req *http.Request) trackResp {
	t.Helper()
	rec := httptest.NewRecorder()
	tf.h.ServeHTTP(rec, req)
	out := trackResp{status: rec.Code, header: rec.Header()}
	if rec.Body.Len() > 0 && strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(rec.Body.Bytes(), &out.body); err != nil {
			t.Fatalf("decoding %q: %v", rec.Body.String(), err)
		}
	}
	return out
}

// wantTrackError fails unless r is a JSON error with status, code and field.
func wantTrackError(t *testing.T, r trackResp, status int, code, field string) {
	t.Helper()
	if r.status != status || r.str("error") != code || r.str("field") != field || r.str("message") == "" {
		t.Fatalf("got %d %v, want %d error %q on field %q with a message", r.status, r.body, status, code, field)
	}
	if r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("error response without CORS header")
	}
}

func TestTrackScript(t *testing.T) {
	tf := newTrackFixture(t)
	rec := httptest.NewRecorder()
	tf.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/t.js", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /t.js: %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
	if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "public") || !strings.Contains(cc, "max-age=") {
		t.Errorf("cache control %q", cc)
	}
	body := rec.Body.String()
	for _, s := range []string{"data-program", "/api/track/click", "/api/track/conversion", "/api/track/lead", "tandem_ref", "pixelKey"} {
		if !strings.Contains(body, s) {
			t.Errorf("script does not mention %q", s)
		}
	}
	if len(body) > 8<<10 {
		t.Errorf("script is %d bytes; keep it small", len(body))
	}
	etag := rec.Header().Get("ETag")
	req := httptest.NewRequest(http.MethodGet, "/t.js", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	tf.h.ServeHTTP(rec, req)
	if etag == "" || rec.Code != http.StatusNotModified {
		t.Errorf("revalidating with ETag %q: %d, want 304", etag, rec.Code)
	}
}

func TestTrackCORSAndMethods(t *testing.T) {
	tf := newTrackFixture(t)
	pre := httptest.NewRequest(http.MethodOptions, "/api/track/conversion", nil)
	pre.Header.Set("Origin", "https://shop.example")
	pre.Header.Set("Access-Control-Request-Method", "POST")
	r := tf.serve(t, pre)
	if r.status != http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(r.header.Get("Access-Control-Allow-Methods"), "POST") ||
		r.header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("preflight: %d %v", r.status, r.header)
	}
	r = tf.serve(t, httptest.NewRequest(http.MethodGet, "/api/track/click", nil))
	wantTrackError(t, r, http.StatusMethodNotAllowed, "method_not_allowed", "")
	r = tf.serve(t, httptest.NewRequest(http.MethodPost, "/api/track/nothing", strings.NewReader("{}")))
	wantTrackError(t, r, http.StatusNotFound, "not_found", "")
}

func TestTrackClick(t *testing.T) {
	tf := newTrackFixture(t)
	r := tf.post(t, "/api/track/click", map[string]any{
		"program": tf.cmp.ID, "slug": " Jane ", "param": "via",
		"landingURL": "https://shop.example/?via=jane", "referrer": "https://blog.example/post", "visitorID": "0123456789abcdef0123456789abcdef",
	})
	if r.status != http.StatusCreated {
		t.Fatalf("click: %d %v", r.status, r.body)
	}
	if r.body["cookieDays"] != float64(60) || r.str("slug") != "jane" || r.str("attributionModel") != "LastClick" || !strings.HasPrefix(r.str("clickId"), "clk_") {
		t.Errorf("click response %v", r.body)
	}
	clk := tf.client.Click.GetX(installSys(), r.str("clickId"))
	if clk.OrgID != tf.org.ID || clk.AffiliateID != tf.jane.ID || clk.CampaignID != tf.cmp.ID ||
		clk.AttributionParam != "via" || clk.LandingURL != "https://shop.example/?via=jane" ||
		clk.Referrer != "https://blog.example/post" || clk.UserAgent != "TestBrowser/1.0" || !clk.OccurredAt.Equal(trackNow) {
		t.Errorf("stored click %+v", clk)
	}
	if want := install.TrackHashIP(trackSalt, "203.0.113.7"); clk.IPHash != want || len(want) != 64 {
		t.Errorf("ip hash %q, want the salted hash %q", clk.IPHash, want)
	}
	if a, b := install.TrackIPSaltFrom([]byte("k1")), install.TrackIPSaltFrom([]byte("k2")); len(a) != 32 || bytes.Equal(a, b) || !bytes.Equal(a, install.TrackIPSaltFrom([]byte("k1"))) {
		t.Errorf("TrackIPSaltFrom is not a stable per-secret salt: %x %x", a, b)
	}
	if strings.Contains(clk.IPHash, "203.0.113") || install.TrackHashIP([]byte("other salt"), "203.0.113.7") == clk.IPHash {
		t.Errorf("ip hash %q does not depend on the salt", clk.IPHash)
	}
	if n := tf.client.AuditLogEntry.Query().Where(auditlogentry.EntityType("click")).CountX(installSys()); n != 0 {
		t.Errorf("%d audit rows for a click, want none (clicks are traffic, not actions)", n)
	}
}

func TestTrackClickRefusals(t *testing.T) {
	tf := newTrackFixture(t)
	tf.affiliate(tf.cmp, "pending-pat", func(c *ent.AffiliateCreate) { c.SetStatus(affiliate.StatusPending) })
	paused := tf.campaign(tf.org, "paused", func(c *ent.CampaignCreate) { c.SetStatus(campaign.StatusPaused) })
	tf.affiliate(paused, "paula", nil)
	other := tf.newOrg("globex")
	otherCmp := tf.campaign(other, "globex-main", nil)
	tf.affiliate(otherCmp, "gary", nil)

	clk := func(program, slug string) map[string]any { return map[string]any{"program": program, "slug": slug} }
	for _, tc := range []struct {
		name   string
		body   any
		status int
		code   string
		field  string
	}{
		{"unknown slug", clk(tf.cmp.ID, "nobody"), 404, "not_found", "slug"},
		{"pending affiliate", clk(tf.cmp.ID, "pending-pat"), 404, "not_found", "slug"},
		{"another organization's affiliate", clk(tf.cmp.ID, "gary"), 404, "not_found", "slug"},
		{"affiliate of a paused campaign", clk(tf.cmp.ID, "paula"), 409, "campaign_inactive", "slug"},
		{"unknown program", clk("cmp_01JZZZZZZZZZZZZZZZZZZZZZZZ", "jane"), 404, "not_found", "program"},
		{"malformed program", clk("aff_123", "jane"), 400, "invalid_input", "program"},
		{"missing program", map[string]any{"slug": "jane"}, 400, "invalid_input", "program"},
		{"missing slug", map[string]any{"program": tf.cmp.ID}, 400, "invalid_input", "slug"},
		{"slug with spaces", clk(tf.cmp.ID, "product hunt"), 400, "invalid_input", "slug"},
		{"bad param", map[string]any{"program": tf.cmp.ID, "slug": "jane", "param": "v a"}, 400, "invalid_input", "param"},
		{"unknown field", map[string]any{"program": tf.cmp.ID, "slug": "jane", "affiliate": "x"}, 400, "invalid_input", "affiliate"},
		{"wrong type", map[string]any{"program": tf.cmp.ID, "slug": 42}, 400, "invalid_input", "slug"},
		{"not JSON", "program=cmp_1", 400, "invalid_input", ""},
		{"too large", `{"program":"` + tf.cmp.ID + `","slug":"jane","landingURL":"` + strings.Repeat("x", 9000) + `"}`, 413, "body_too_large", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantTrackError(t, tf.post(t, "/api/track/click", tc.body), tc.status, tc.code, tc.field)
		})
	}
	if n := tf.client.Click.Query().Where(click.OrgIDIn(tf.org.ID, other.ID)).CountX(installSys()); n != 0 {
		t.Errorf("%d clicks recorded by refused requests", n)
	}
}

// sale posts a conversion for jane's cookie.
func (tf *trackFixture) sale(t *testing.T, slug, orderID string, amount int64, currency string) trackResp {
	t.Helper()
	return tf.post(t, "/api/track/conversion", map[string]any{
		"program": tf.cmp.ID, "pixelKey": tf.key, "slug": slug,
		"amountCents": amount, "currency": currency, "orderId": orderID, "email": "Buyer@Example.com",
	})
}

func TestTrackConversion(t *testing.T) {
	tf := newTrackFixture(t)
	r := tf.sale(t, "jane", "ORDER-1001", 4999, "usd")
	if r.status != http.StatusCreated || r.body["credited"] != true || r.body["duplicate"] != false {
		t.Fatalf("conversion: %d %v", r.status, r.body)
	}
	id := r.str("conversionId")
	cnv := tf.client.Conversion.GetX(installSys(), id)
	// 20% of 49.99 is 9.998, rounded to 10.00.
	if cnv.CommissionCents != 1000 || cnv.AmountCents != 4999 || cnv.Currency != "USD" ||
		cnv.HomeAmountCents != 4999 || cnv.HomeCommissionCents != 1000 || cnv.HomeCurrency != "USD" || cnv.FxRate != 1 {
		t.Errorf("amounts: %+v", cnv)
	}
	if cnv.Status != conversion.StatusPending || cnv.Type != conversion.TypeSale || cnv.AffiliateID != tf.jane.ID ||
		cnv.CampaignID != tf.cmp.ID || cnv.ExternalID == nil || *cnv.ExternalID != "ORDER-1001" ||
		cnv.CustomerEmail != "buyer@example.com" || !cnv.OccurredAt.Equal(trackNow) || cnv.OverrideAffiliateID != nil {
		t.Errorf("conversion %+v", cnv)
	}
	audit := tf.client.AuditLogEntry.Query().Where(auditlogentry.Action("conversion.create"), auditlogentry.EntityID(id)).OnlyX(installSys())
	if audit.ActorType != auditlogentry.ActorTypeSystem || audit.OrgID != tf.org.ID || audit.ActorID != "tracking_pixel" {
		t.Errorf("audit row %+v, want actor system in the organization", audit)
	}

	// The same order again, even with another amount, is the same conversion.
	again := tf.sale(t, "jane", "ORDER-1001", 9999, "USD")
	if again.status != http.StatusOK || again.str("conversionId") != id || again.body["duplicate"] != true {
		t.Errorf("repeat: %d %v, want 200 with the same id", again.status, again.body)
	}
	if n := tf.client.Conversion.Query().Where(conversion.ExternalID("ORDER-1001")).CountX(installSys()); n != 1 {
		t.Errorf("%d conversions for one order", n)
	}
}

func TestTrackConversionCommissions(t *testing.T) {
	tf := newTrackFixture(t)
	fixed := tf.campaign(tf.org, "fixed", func(c *ent.CampaignCreate) {
		c.SetCommissionType(campaign.CommissionTypeFixed).SetCommissionValue(1500)
	})
	subs := tf.campaign(tf.org, "subs", nil) // 20%
	tf.client.Campaign.UpdateOne(subs).SetSubAffiliatesEnabled(true).SetSubAffiliateOverrideBps(1000).ExecX(installSys())
	freddie := tf.affiliate(fixed, "freddie", nil)
	custom := tf.affiliate(tf.cmp, "custom-carl", func(c *ent.AffiliateCreate) {
		c.SetCustomCommissionType(affiliate.CustomCommissionTypeFixed).SetCustomCommissionValue(700)
	})
	pct := tf.affiliate(tf.cmp, "pct-pia", func(c *ent.AffiliateCreate) { c.SetCustomCommissionValue(3000) }) // 30% on a Percentage campaign
	recruiter := tf.affiliate(subs, "rita", nil)
	recruit := tf.affiliate(subs, "ron", func(c *ent.AffiliateCreate) { c.SetRecruitedByID(recruiter.ID) })
	blockedRecruiter := tf.affiliate(subs, "bob", func(c *ent.AffiliateCreate) { c.SetStatus(affiliate.StatusBlocked) })
	tf.affiliate(subs, "orphan", func(c *ent.AffiliateCreate) { c.SetRecruitedByID(blockedRecruiter.ID) })
	tf.affiliate(tf.cmp, "no-subs", func(c *ent.AffiliateCreate) { c.SetRecruitedByID(recruiter.ID) })

	for _, tc := range []struct {
		slug           string
		amount         int64
		wantCommission int64
		wantOverride   int64
		wantOverrideBy string
		wantAffiliate  string
	}{
		{"freddie", 10000, 1500, 0, "", freddie.ID},         // Fixed 15.00 whatever the amount
		{"custom-carl", 10000, 700, 0, "", custom.ID},       // affiliate's Fixed overrides the campaign's 20%
		{"pct-pia", 12345, 3704, 0, "", pct.ID},             // 30% of 123.45 = 37.035 → 37.04
		{"ron", 10000, 2000, 200, recruiter.ID, recruit.ID}, // 10% of the recruit's 20.00
		{"orphan", 10000, 2000, 0, "", ""},                  // a blocked recruiter earns nothing
		{"no-subs", 10000, 2000, 0, "", ""},                 // sub-affiliates off on the campaign
	} {
		t.Run(tc.slug, func(t *testing.T) {
			r := tf.sale(t, tc.slug, "order-"+tc.slug, tc.amount, "USD")
			if r.status != http.StatusCreated {
				t.Fatalf("%d %v", r.status, r.body)
			}
			cnv := tf.client.Conversion.GetX(installSys(), r.str("conversionId"))
			if cnv.CommissionCents != tc.wantCommission || cnv.HomeCommissionCents != tc.wantCommission {
				t.Errorf("commission %d (home %d), want %d", cnv.CommissionCents, cnv.HomeCommissionCents, tc.wantCommission)
			}
			if cnv.OverrideCommissionCents != tc.wantOverride {
				t.Errorf("override %d, want %d", cnv.OverrideCommissionCents, tc.wantOverride)
			}
			gotBy := ""
			if cnv.OverrideAffiliateID != nil {
				gotBy = *cnv.OverrideAffiliateID
			}
			if gotBy != tc.wantOverrideBy {
				t.Errorf("override affiliate %q, want %q", gotBy, tc.wantOverrideBy)
			}
			if tc.wantAffiliate != "" && cnv.AffiliateID != tc.wantAffiliate {
				t.Errorf("credited %s, want %s", cnv.AffiliateID, tc.wantAffiliate)
			}
		})
	}

	// A fixed commission in USD cannot be paid on a EUR sale without a rate.
	r := tf.sale(t, "freddie", "order-eur", 10000, "EUR")
	wantTrackError(t, r, http.StatusBadRequest, "invalid_input", "currency")
}

func TestTrackConversionRefusals(t *testing.T) {
	tf := newTrackFixture(t)
	other := tf.newOrg("globex")
	otherOrg, err := install.PixelKeyCreate(tf.ownerCtxOf(other), tf.client, other.ID)
	if err != nil {
		t.Fatal(err)
	}
	base := func() map[string]any {
		return map[string]any{"program": tf.cmp.ID, "pixelKey": tf.key, "slug": "jane", "amountCents": 4900, "currency": "USD", "orderId": "o-1"}
	}
	with := func(k string, v any) map[string]any {
		b := base()
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
		return b
	}
	for _, tc := range []struct {
		name   string
		body   any
		status int
		code   string
		field  string
	}{
		{"wrong pixel key", with("pixelKey", "pk_wrongwrongwrongwrongwron"), 401, "unauthorized", "pixelKey"},
		{"another organization's pixel key", with("pixelKey", *otherOrg.PixelPublicKey), 401, "unauthorized", "pixelKey"},
		{"no pixel key", with("pixelKey", nil), 401, "unauthorized", "pixelKey"},
		{"zero amount", with("amountCents", 0), 400, "invalid_input", "amountCents"},
		{"negative amount", with("amountCents", -5), 400, "invalid_input", "amountCents"},
		{"fractional amount", with("amountCents", 49.99), 400, "invalid_input", "amountCents"},
		{"amount as text", with("amountCents", "lots"), 400, "invalid_input", "amountCents"},
		{"no amount", with("amountCents", nil), 400, "invalid_input", "amountCents"},
		{"no currency", with("currency", nil), 400, "invalid_input", "currency"},
		{"bad currency", with("currency", "dollars"), 400, "invalid_input", "currency"},
		{"currency other than home", with("currency", "EUR"), 400, "invalid_input", "currency"},
		{"no order id", with("orderId", " "), 400, "invalid_input", "orderId"},
		{"long order id", with("orderId", strings.Repeat("9", 256)), 400, "invalid_input", "orderId"},
		{"bad email", with("email", "not-an-email"), 400, "invalid_input", "email"},
		{"unknown slug", with("slug", "nobody"), 404, "not_found", "slug"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantTrackError(t, tf.post(t, "/api/track/conversion", tc.body), tc.status, tc.code, tc.field)
		})
	}
	if n := tf.client.Conversion.Query().CountX(installSys()); n != 0 {
		t.Errorf("%d conversions recorded by refused requests", n)
	}

	// No slug and no referred email: nothing to credit, nothing recorded.
	r := tf.post(t, "/api/track/conversion", with("slug", nil))
	if r.status != http.StatusOK || r.body["credited"] != false {
		t.Errorf("unreferred sale: %d %v", r.status, r.body)
	}
	if n := tf.client.Conversion.Query().CountX(installSys()); n != 0 {
		t.Errorf("%d conversions for an unreferred sale", n)
	}
}

func (f *installFixture) ownerCtxOf(org *ent.Organization) context.Context {
	return viewer.NewContext(context.Background(), &viewer.Viewer{OrgID: org.ID, Role: viewer.RoleOwner, ActorType: viewer.ActorUser})
}

func TestTrackLead(t *testing.T) {
	tf := newTrackFixture(t)
	body := map[string]any{"program": tf.cmp.ID, "pixelKey": tf.key, "slug": "jane", "email": " New.User@Example.com ", "name": "New User"}
	r := tf.post(t, "/api/track/lead", body)
	if r.status != http.StatusCreated || r.body["duplicate"] != false || !strings.HasPrefix(r.str("leadId"), "led_") {
		t.Fatalf("lead: %d %v", r.status, r.body)
	}
	l := tf.client.Lead.GetX(installSys(), r.str("leadId"))
	if l.Email != "new.user@example.com" || l.Name != "New User" || l.Source != lead.SourcePixel || l.AffiliateID != tf.jane.ID || l.CampaignID != tf.cmp.ID {
		t.Errorf("lead %+v", l)
	}
	if n := tf.client.AuditLogEntry.Query().Where(auditlogentry.Action("lead.create"), auditlogentry.ActorTypeEQ(auditlogentry.ActorTypeSystem)).CountX(installSys()); n != 1 {
		t.Errorf("%d lead.create audit rows, want 1", n)
	}
	again := tf.post(t, "/api/track/lead", body)
	if again.status != http.StatusOK || again.str("leadId") != l.ID || again.body["duplicate"] != true {
		t.Errorf("repeat: %d %v", again.status, again.body)
	}
	if n := tf.client.Lead.Query().Where(lead.CampaignID(tf.cmp.ID), lead.Email("new.user@example.com")).CountX(installSys()); n != 1 {
		t.Errorf("%d leads for one email", n)
	}
	// On a per-sale campaign a lead earns nothing by itself.
	if n := tf.client.Conversion.Query().CountX(installSys()); n != 0 {
		t.Errorf("%d conversions for a lead on a per-sale campaign", n)
	}

	// A later sale without the cookie is credited through the lead.
	s := tf.post(t, "/api/track/conversion", map[string]any{
		"program": tf.cmp.ID, "pixelKey": tf.key, "amountCents": 10000, "currency": "USD", "orderId": "later", "email": "new.user@example.com",
	})
	if s.status != http.StatusCreated {
		t.Fatalf("sale through the lead: %d %v", s.status, s.body)
	}
	cnv := tf.client.Conversion.GetX(installSys(), s.str("conversionId"))
	if cnv.AffiliateID != tf.jane.ID || cnv.LeadID == nil || *cnv.LeadID != l.ID || cnv.CommissionCents != 2000 {
		t.Errorf("sale through the lead: %+v", cnv)
	}

	for _, tc := range []struct {
		name   string
		edit   map[string]any
		status int
		code   string
		field  string
	}{
		{"no slug", map[string]any{"slug": ""}, 400, "invalid_input", "slug"},
		{"no email", map[string]any{"email": ""}, 400, "invalid_input", "email"},
		{"wrong pixel key", map[string]any{"pixelKey": "pk_nope"}, 401, "unauthorized", "pixelKey"},
		{"unknown slug", map[string]any{"slug": "nobody"}, 404, "not_found", "slug"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := map[string]any{}
			for k, v := range body {
				b[k] = v
			}
			b["email"] = "other@example.com"
			for k, v := range tc.edit {
				b[k] = v
			}
			wantTrackError(t, tf.post(t, "/api/track/lead", b), tc.status, tc.code, tc.field)
		})
	}
}

func TestTrackLeadOnPerLeadCampaign(t *testing.T) {
	tf := newTrackFixture(t)
	cpl := tf.campaign(tf.org, "cpl", func(c *ent.CampaignCreate) {
		c.SetCommissionModel(campaign.CommissionModelCpl).SetCommissionType(campaign.CommissionTypeFixed).SetCommissionValue(300)
	})
	tf.affiliate(cpl, "lena", nil)
	r := tf.post(t, "/api/track/lead", map[string]any{"program": tf.cmp.ID, "pixelKey": tf.key, "slug": "lena", "email": "a@example.com"})
	if r.status != http.StatusCreated {
		t.Fatalf("%d %v", r.status, r.body)
	}
	cnv := tf.client.Conversion.Query().Where(conversion.LeadID(r.str("leadId"))).OnlyX(installSys())
	if cnv.Type != conversion.TypeLead || cnv.CommissionCents != 300 || cnv.AmountCents != 0 || cnv.Status != conversion.StatusPending || cnv.CampaignID != cpl.ID {
		t.Errorf("lead conversion %+v", cnv)
	}
	// A per-lead commission in a currency other than home cannot be recorded:
	// refused, naming the fix, and the lead is not half-recorded.
	eur := tf.campaign(tf.org, "cpl-eur", func(c *ent.CampaignCreate) {
		c.SetCommissionModel(campaign.CommissionModelCpl).SetCommissionType(campaign.CommissionTypeFixed).SetCommissionValue(300).SetCurrency("EUR")
	})
	tf.affiliate(eur, "elsa", nil)
	bad := tf.post(t, "/api/track/lead", map[string]any{"program": tf.cmp.ID, "pixelKey": tf.key, "slug": "elsa", "email": "b@example.com"})
	wantTrackError(t, bad, http.StatusConflict, "campaign_currency_mismatch", "")
	if n := tf.client.Lead.Query().Where(lead.CampaignID(eur.ID)).CountX(installSys()); n != 0 {
		t.Errorf("%d leads recorded by a refused call", n)
	}

	// A repeat earns nothing more.
	tf.post(t, "/api/track/lead", map[string]any{"program": tf.cmp.ID, "pixelKey": tf.key, "slug": "lena", "email": "a@example.com"})
	if n := tf.client.Conversion.Query().Where(conversion.CampaignID(cpl.ID)).CountX(installSys()); n != 1 {
		t.Errorf("%d lead conversions after a repeat, want 1", n)
	}
}

// trackNodeHarness runs t.js in Node with a minimal browser (a location, a
// cookie jar, the script's own tag) against the real endpoints, then calls
// its API as an order confirmation page would.
const trackNodeHarness = `
const fs = require("fs"), vm = require("vm");
const [scriptPath, base, program, pixel, landing] = process.argv.slice(2);
const jar = {}, maxAge = {};
const attrs = { "data-program": program, "data-pixel": pixel, "data-params": "partner,via,ref" };
globalThis.window = globalThis;
globalThis.location = new URL(landing);
globalThis.document = {
  currentScript: { src: base + "/t.js", getAttribute: (n) => (n in attrs ? attrs[n] : null) },
  referrer: "https://blog.example/post",
  querySelector: () => null,
  get cookie() { return Object.entries(jar).map(([k, v]) => k + "=" + v).join("; "); },
  set cookie(s) {
    const [kv, ...rest] = s.split("; ");
    const i = kv.indexOf("=");
    jar[kv.slice(0, i)] = kv.slice(i + 1);
    for (const a of rest) if (a.startsWith("Max-Age=")) maxAge[kv.slice(0, i)] = Number(a.slice(8));
  },
};
vm.runInThisContext(fs.readFileSync(scriptPath, "utf8"));
(async () => {
  for (let i = 0; i < 200 && !jar.tandem_ref; i++) await new Promise((r) => setTimeout(r, 10));
  const out = { cookies: jar, maxAge, referral: window.tandem.referral() };
  out.conversion = await window.tandem.conversion({ amountCents: 4900, currency: "USD", orderId: "A-1", email: "buyer@example.com" });
  out.lead = await window.tandem.lead({ email: "signup@example.com", name: "Sam" });
  out.refused = await window.tandem.conversion({ amountCents: 0, currency: "USD", orderId: "A-2" }).then(() => "accepted", (e) => e.message);
  process.stdout.write(JSON.stringify(out), () => process.exit(0));
})().catch((e) => { console.error(e); process.exit(1); });
`

func TestTrackScriptInNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	tf := newTrackFixture(t)
	srv := httptest.NewServer(tf.h)
	defer srv.Close()
	harness := filepath.Join(t.TempDir(), "harness.js")
	if err := os.WriteFile(harness, []byte(trackNodeHarness), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, harness, "t.js", srv.URL, tf.cmp.ID, tf.key, "https://shop.example/pricing?utm_source=news&via=Jane")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var out struct {
		Cookies    map[string]string `json:"cookies"`
		MaxAge     map[string]int    `json:"maxAge"`
		Referral   string            `json:"referral"`
		Conversion map[string]any    `json:"conversion"`
		Lead       map[string]any    `json:"lead"`
		Refused    string            `json:"refused"`
	}
	if err := json.Unmarshal(stdout, &out); err != nil {
		t.Fatalf("harness output %q: %v", stdout, err)
	}
	if out.Referral != "jane" || out.MaxAge["tandem_ref"] != 60*86400 {
		t.Errorf("referral %q remembered for %ds, want jane for 60 days; cookies %v", out.Referral, out.MaxAge["tandem_ref"], out.Cookies)
	}
	clk := tf.client.Click.Query().OnlyX(installSys())
	if clk.AffiliateID != tf.jane.ID || clk.AttributionParam != "via" || clk.Referrer != "https://blog.example/post" ||
		clk.LandingURL != "https://shop.example/pricing?utm_source=news&via=Jane" || len(clk.VisitorID) != 32 {
		t.Errorf("click %+v", clk)
	}
	if out.Conversion["credited"] != true {
		t.Fatalf("conversion %v", out.Conversion)
	}
	cnv := tf.client.Conversion.GetX(installSys(), out.Conversion["conversionId"].(string))
	if cnv.AffiliateID != tf.jane.ID || cnv.AmountCents != 4900 || cnv.CommissionCents != 980 || *cnv.ExternalID != "A-1" {
		t.Errorf("conversion %+v", cnv)
	}
	if out.Lead["credited"] != true || tf.client.Lead.Query().Where(lead.Email("signup@example.com"), lead.AffiliateID(tf.jane.ID)).CountX(installSys()) != 1 {
		t.Errorf("lead %v", out.Lead)
	}
	if !strings.Contains(out.Refused, "amountCents") {
		t.Errorf("a zero amount was not refused with a message naming amountCents: %q", out.Refused)
	}
}
