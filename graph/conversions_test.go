package graph_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/auditlogentry"
	"github.com/tandemhq/tandem/ent/campaign"
	"github.com/tandemhq/tandem/ent/conversion"
	"github.com/tandemhq/tandem/graph"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/viewer"
)

const recordConversionQ = `mutation($in: RecordConversionInput!) {
	recordConversion(input: $in) {
		created
		conversion {
			id status type amountCents commissionCents currency homeAmountCents homeCommissionCents homeCurrency
			affiliateID campaignID leadID externalID customerEmail customerName occurredAt
			overrideAffiliateID overrideCommissionCents
		}
	}
}`

// recordedConversion is recordConversion's answer as the query selects it.
type recordedConversion struct {
	Created    bool `json:"created"`
	Conversion struct {
		ID                      string    `json:"id"`
		Status                  string    `json:"status"`
		Type                    string    `json:"type"`
		AmountCents             int64     `json:"amountCents"`
		CommissionCents         int64     `json:"commissionCents"`
		Currency                string    `json:"currency"`
		HomeAmountCents         int64     `json:"homeAmountCents"`
		HomeCommissionCents     int64     `json:"homeCommissionCents"`
		HomeCurrency            string    `json:"homeCurrency"`
		AffiliateID             string    `json:"affiliateID"`
		CampaignID              string    `json:"campaignID"`
		LeadID                  *string   `json:"leadID"`
		ExternalID              *string   `json:"externalID"`
		CustomerEmail           string    `json:"customerEmail"`
		CustomerName            string    `json:"customerName"`
		OccurredAt              time.Time `json:"occurredAt"`
		OverrideAffiliateID     *string   `json:"overrideAffiliateID"`
		OverrideCommissionCents int64     `json:"overrideCommissionCents"`
	} `json:"conversion"`
}

// convFixture is two organizations, each with its partner approved, and an
// API on a clock the test holds.
type convFixture struct {
	db   *ent.Client
	api  *api
	clk  *clock
	a, b *tenant
}

func newConvFixture(t *testing.T) *convFixture {
	t.Helper()
	c := storetest.SQLite(t).Client
	clk := newClock()
	deps := testDeps()
	deps.Now = clk.Now
	f := &convFixture{db: c, api: newAPIWith(c, graph.Options{}, deps), clk: clk,
		a: seedTenant(t, c, "alpha"), b: seedTenant(t, c, "bravo")}
	for _, tn := range []*tenant{f.a, f.b} {
		must(c.Affiliate.UpdateOneID(tn.Affiliate).SetStatus(affiliate.StatusApproved).Save(sys())).get(t)
	}
	return f
}

func (f *convFixture) record(t *testing.T, v *viewer.Viewer, in map[string]any) recordedConversion {
	t.Helper()
	var got struct {
		R recordedConversion `json:"recordConversion"`
	}
	f.api.ok(t, v, recordConversionQ, map[string]any{"in": in}).decode(t, &got)
	return got.R
}

func TestRecordConversionPercentage(t *testing.T) {
	f := newConvFixture(t)
	got := f.record(t, f.a.Owner, map[string]any{
		"slug": "alpha-partner", "amountCents": 12345, "currency": "USD", "orderId": "inv_1001",
		"email": "Lead@Alpha.test", "customerName": " Ada Lovelace ", "type": "Subscription",
	})
	c := got.Conversion
	if !got.Created || !strings.HasPrefix(c.ID, "cnv_") || c.Status != "Pending" || c.Type != "Subscription" {
		t.Fatalf("got %+v", got)
	}
	// The seeded campaign pays 20%: 2469 of 12345 (2469.0).
	if c.AmountCents != 12345 || c.CommissionCents != 2469 || c.Currency != "USD" ||
		c.HomeAmountCents != 12345 || c.HomeCommissionCents != 2469 || c.HomeCurrency != "USD" {
		t.Fatalf("amounts %+v", c)
	}
	if c.AffiliateID != f.a.Affiliate || c.CampaignID != f.a.Campaign || c.LeadID == nil || *c.LeadID != f.a.Lead ||
		c.ExternalID == nil || *c.ExternalID != "inv_1001" || c.CustomerEmail != "lead@alpha.test" || c.CustomerName != "Ada Lovelace" {
		t.Fatalf("credit %+v", c)
	}
	if !c.OccurredAt.Equal(f.clk.Now()) || c.OverrideAffiliateID != nil {
		t.Fatalf("occurredAt %v (want %v), override %v", c.OccurredAt, f.clk.Now(), c.OverrideAffiliateID)
	}
	// The audit hook logged the create as the owner, in the same transaction.
	entries := must(f.db.AuditLogEntry.Query().Where(auditlogentry.EntityID(c.ID)).All(sys())).get(t)
	if len(entries) != 1 || entries[0].Action != "conversion.create" || entries[0].ActorType != auditlogentry.ActorTypeUser ||
		entries[0].ActorID != f.a.OwnerUser || entries[0].OrgID != f.a.OrgID {
		t.Fatalf("audit entries %+v, want one conversion.create by the owner", entries)
	}
}

func TestRecordConversionFixed(t *testing.T) {
	f := newConvFixture(t)
	cmp := must(f.db.Campaign.Create().SetOrgID(f.a.OrgID).SetName("Flat").SetSlug("flat").
		SetCommissionType(campaign.CommissionTypeFixed).SetCommissionValue(1500).Save(sys())).get(t)
	must(f.db.Affiliate.Create().SetOrgID(f.a.OrgID).SetCampaignID(cmp.ID).SetEmail("flat@partners.test").
		SetSlug("flat-partner").SetStatus(affiliate.StatusApproved).Save(sys())).get(t)
	got := f.record(t, f.a.Owner, map[string]any{
		"slug": "flat-partner", "campaignId": cmp.ID, "amountCents": 99, "currency": "usd", "orderId": "inv_1",
		"occurredAt": f.clk.Now().Add(-time.Hour).Format(time.RFC3339),
	})
	if c := got.Conversion; c.CommissionCents != 1500 || c.CampaignID != cmp.ID || c.Type != "Sale" ||
		!c.OccurredAt.Equal(f.clk.Now().Add(-time.Hour)) {
		t.Fatalf("got %+v, want the fixed 1500 on the flat campaign an hour ago", c)
	}
}

// A repeated orderId returns the conversion already recorded, whoever
// retries it, and never earns a second commission.
func TestRecordConversionIdempotent(t *testing.T) {
	f := newConvFixture(t)
	in := map[string]any{"slug": "alpha-partner", "amountCents": 5000, "currency": "USD", "orderId": "ord-7"}
	first := f.record(t, f.a.Owner, in)
	f.clk.advance(time.Hour)
	again := f.record(t, f.a.Owner, in)
	if !first.Created || again.Created || again.Conversion.ID != first.Conversion.ID || again.Conversion.CommissionCents != 1000 {
		t.Fatalf("first %+v, again %+v; want the same conversion, created only once", first, again)
	}
	n := must(f.db.Conversion.Query().Where(conversion.ExternalID("ord-7")).Count(sys())).get(t)
	audits := must(f.db.AuditLogEntry.Query().Where(auditlogentry.EntityID(first.Conversion.ID)).Count(sys())).get(t)
	if n != 1 || audits != 1 {
		t.Fatalf("%d conversions and %d audit entries for ord-7, want 1 and 1", n, audits)
	}
	in["amountCents"] = 6000
	e := wantError(t, f.api.do(t, f.a.Owner, recordConversionQ, map[string]any{"in": in}), graph.CodeConflict, "orderId")
	convWantReason(t, e, "order_id_reused")
	// Another organization's order ids are its own.
	other := f.record(t, f.b.Owner, map[string]any{"slug": "bravo-partner", "amountCents": 5000, "currency": "USD", "orderId": "ord-7"})
	if !other.Created || other.Conversion.ID == first.Conversion.ID {
		t.Fatalf("bravo's ord-7: %+v, want its own conversion", other)
	}
}

// Without a slug, the lead who signed up with the email names the affiliate.
func TestRecordConversionLeadEmail(t *testing.T) {
	f := newConvFixture(t)
	got := f.record(t, f.a.Owner, map[string]any{
		"email": "lead@alpha.test", "campaignId": f.a.Campaign, "amountCents": 2000, "currency": "USD", "orderId": "o-1",
	})
	if c := got.Conversion; c.AffiliateID != f.a.Affiliate || c.LeadID == nil || *c.LeadID != f.a.Lead || c.CommissionCents != 400 {
		t.Fatalf("got %+v, want the lead's affiliate credited", c)
	}
	got = f.record(t, f.a.Owner, map[string]any{"email": "LEAD@alpha.test", "amountCents": 2000, "currency": "USD", "orderId": "o-2"})
	if got.Conversion.AffiliateID != f.a.Affiliate {
		t.Fatalf("without campaignId: %+v", got.Conversion)
	}
}

func TestRecordConversionErrors(t *testing.T) {
	f := newConvFixture(t)
	base := func(kv ...any) map[string]any {
		in := map[string]any{"slug": "alpha-partner", "amountCents": 5000, "currency": "USD", "orderId": "o-1"}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(in, kv[i].(string))
			} else {
				in[kv[i].(string)] = kv[i+1]
			}
		}
		return in
	}
	for name, tc := range map[string]struct {
		v             *viewer.Viewer
		in            map[string]any
		code, field   string
		reason, inMsg string
	}{
		"neither slug nor email":  {f.a.Owner, base("slug", nil), graph.CodeBadUserInput, "slug", "", "slug is required"},
		"email of no lead":        {f.a.Owner, base("slug", nil, "email", "stranger@example.com"), graph.CodeBadUserInput, "slug", "", "stranger@example.com"},
		"pending affiliate":       {f.a.Owner, base("slug", "alpha-recruit"), graph.CodeConflict, "slug", "affiliate_not_approved", "Pending"},
		"wrong currency":          {f.a.Owner, base("currency", "EUR"), graph.CodeBadUserInput, "currency", "", "home currency USD"},
		"zero amount":             {f.a.Owner, base("amountCents", 0), graph.CodeBadUserInput, "amountCents", "", ""},
		"future":                  {f.a.Owner, base("occurredAt", f.clk.Now().Add(time.Hour).Format(time.RFC3339)), graph.CodeBadUserInput, "occurredAt", "", "future"},
		"click type":              {f.a.Owner, base("type", "Click"), graph.CodeBadUserInput, "type", "", ""},
		"unknown slug":            {f.a.Owner, base("slug", "nobody"), graph.CodeNotFound, "slug", "", "nobody"},
		"another org's slug":      {f.a.Owner, base("slug", "bravo-partner"), graph.CodeNotFound, "slug", "", ""},
		"another org's campaign":  {f.a.Owner, base("slug", nil, "email", "lead@bravo.test", "campaignId", f.b.Campaign), graph.CodeNotFound, "campaignId", "", ""},
		"another org's lead":      {f.a.Owner, base("slug", nil, "email", "lead@bravo.test"), graph.CodeBadUserInput, "slug", "", ""},
		"campaign of another aff": {f.a.Owner, base("campaignId", f.b.Campaign), graph.CodeBadUserInput, "campaignId", "", ""},
		"read-only member":        {f.a.Member, base(), graph.CodeForbidden, "", "", ""},
	} {
		t.Run(name, func(t *testing.T) {
			e := wantError(t, f.api.do(t, tc.v, recordConversionQ, map[string]any{"in": tc.in}), tc.code, tc.field)
			if tc.reason != "" {
				convWantReason(t, e, tc.reason)
			}
			if !strings.Contains(e.Message, tc.inMsg) {
				t.Fatalf("message %q lacks %q", e.Message, tc.inMsg)
			}
		})
	}
	if n := must(f.db.Conversion.Query().Where(conversion.ExternalID("o-1")).Count(sys())).get(t); n != 0 {
		t.Fatalf("refused calls recorded %d conversions", n)
	}
	// No viewer at all.
	wantError(t, f.api.do(t, nil, recordConversionQ, map[string]any{"in": base()}), graph.CodeUnauthenticated, "")
}

// convWantReason fails unless e carries extensions.reason reason.
func convWantReason(t *testing.T, e gqlError, reason string) {
	t.Helper()
	if got, _ := e.Extensions["reason"].(string); got != reason {
		t.Fatalf("got reason %q (%q), want %q", got, e.Message, reason)
	}
}
