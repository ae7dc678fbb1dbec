package programs_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/campaign"
	"github.com/tandemhq/tandem/ent/conversion"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/programs"
	"github.com/tandemhq/tandem/provision"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/viewer"
)

// convWorld is one organization (home currency USD) with a 20% campaign,
// an approved affiliate on it and a recruit of that affiliate.
type convWorld struct {
	client    *ent.Client
	ctx       context.Context // the owner
	now       time.Time
	orgID     string
	campaign  *ent.Campaign
	recruiter *ent.Affiliate
	recruit   *ent.Affiliate
}

func newConvWorld(t *testing.T) *convWorld {
	t.Helper()
	db := storetest.SQLite(t)
	sys := rule.AsSystem(context.Background())
	res, err := provision.CreateOrg(sys, db.Client, provision.OrgInput{
		Name: "Acme", Slug: "acme", OwnerEmail: "owner@acme.test", Plan: "growth",
	})
	if err != nil {
		t.Fatal(err)
	}
	w := &convWorld{client: db.Client, orgID: res.OrgID, now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	w.ctx = viewer.NewContext(context.Background(), &viewer.Viewer{
		OrgID: res.OrgID, UserID: res.OwnerUserID, Role: viewer.RoleOwner, ActorType: viewer.ActorUser, ActorID: res.OwnerUserID,
	})
	w.campaign = db.Client.Campaign.Create().SetOrgID(res.OrgID).SetName("Main").SetSlug("main").
		SetCommissionValue(2000).SetSubAffiliatesEnabled(true).SetSubAffiliateOverrideBps(1000).SaveX(sys)
	w.recruiter = db.Client.Affiliate.Create().SetOrgID(res.OrgID).SetCampaignID(w.campaign.ID).
		SetEmail("jane@partners.test").SetSlug("jane").SetStatus(affiliate.StatusApproved).SaveX(sys)
	w.recruit = db.Client.Affiliate.Create().SetOrgID(res.OrgID).SetCampaignID(w.campaign.ID).
		SetEmail("sam@partners.test").SetSlug("sam").SetStatus(affiliate.StatusApproved).
		SetRecruitedByID(w.recruiter.ID).SaveX(sys)
	return w
}

func (w *convWorld) record(in programs.RecordConversionInput) (*programs.RecordConversionPayload, error) {
	return programs.RecordConversion(w.ctx, w.client, w.now, in)
}

func convInput(slug string, amount int64, order string) programs.RecordConversionInput {
	return programs.RecordConversionInput{Slug: &slug, AmountCents: amount, Currency: "usd", OrderID: order}
}

// convWantFault fails unless err is a refusal of kind on field (and reason,
// when given).
func convWantFault(t *testing.T, err error, kind fault.Kind, field, reason string) *fault.Error {
	t.Helper()
	var f *fault.Error
	if !errors.As(err, &f) || f.Kind != kind || f.Field != field || (reason != "" && f.Reason != reason) {
		t.Fatalf("got %v (%#v), want kind %d on %s %s", err, f, kind, field, reason)
	}
	return f
}

func TestRecordConversionCommissionAndOverride(t *testing.T) {
	w := newConvWorld(t)
	got, err := w.record(convInput(" SAM ", 4999, "  ORD-1 "))
	if err != nil {
		t.Fatal(err)
	}
	c := got.Conversion
	if !got.Created || c.AffiliateID != w.recruit.ID || c.CampaignID != w.campaign.ID || c.Status != conversion.StatusPending ||
		c.Type != conversion.TypeSale || c.Currency != "USD" || c.ExternalID == nil || *c.ExternalID != "ORD-1" {
		t.Fatalf("got %+v", c)
	}
	// 20% of 49.99 is 9.998, rounded half away from zero; the recruiter's 10% override of that is 1.00.
	if c.AmountCents != 4999 || c.CommissionCents != 1000 || c.HomeAmountCents != 4999 || c.HomeCommissionCents != 1000 ||
		c.HomeCurrency != "USD" || c.FxRate != 1 {
		t.Fatalf("amounts %d/%d home %d/%d %s @%v", c.AmountCents, c.CommissionCents, c.HomeAmountCents, c.HomeCommissionCents, c.HomeCurrency, c.FxRate)
	}
	if c.OverrideAffiliateID == nil || *c.OverrideAffiliateID != w.recruiter.ID || c.OverrideCommissionCents != 100 {
		t.Fatalf("override %v %d, want the recruiter's 100", c.OverrideAffiliateID, c.OverrideCommissionCents)
	}
	if !c.OccurredAt.Equal(w.now) {
		t.Fatalf("occurredAt %v, want now %v", c.OccurredAt, w.now)
	}

	// The affiliate's custom rate wins over the campaign's.
	w.client.Affiliate.UpdateOneID(w.recruiter.ID).SetCustomCommissionType(affiliate.CustomCommissionTypeFixed).
		SetCustomCommissionValue(750).ExecX(rule.AsSystem(context.Background()))
	got, err = w.record(convInput("jane", 100000, "ORD-2"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Conversion.CommissionCents != 750 || got.Conversion.OverrideAffiliateID != nil {
		t.Fatalf("custom fixed: commission %d override %v, want 750 and none", got.Conversion.CommissionCents, got.Conversion.OverrideAffiliateID)
	}
	// A fixed commission in USD cannot pay on a sale in another currency.
	in := convInput("jane", 100000, "ORD-3")
	in.Currency = "EUR"
	_, err = w.record(in)
	if f := convWantFault(t, err, fault.KindInvalid, "currency", ""); !strings.Contains(f.Message, "fixed commission in USD") {
		t.Fatalf("message %q does not name the campaign's currency", f.Message)
	}
}

// A per-lead campaign records the sale but pays nothing for it.
func TestRecordConversionNonSaleModelPaysNothing(t *testing.T) {
	w := newConvWorld(t)
	w.client.Campaign.UpdateOneID(w.campaign.ID).SetCommissionModel(campaign.CommissionModelCpl).
		SetCommissionType(campaign.CommissionTypeFixed).SetCommissionValue(300).ExecX(rule.AsSystem(context.Background()))
	got, err := w.record(convInput("jane", 5000, "ORD-1"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Conversion.CommissionCents != 0 || got.Conversion.HomeCommissionCents != 0 {
		t.Fatalf("commission %d, want 0 on a per-lead campaign", got.Conversion.CommissionCents)
	}
}

func TestRecordConversionIdempotency(t *testing.T) {
	w := newConvWorld(t)
	first, err := w.record(convInput("jane", 4900, "ORD-1"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := w.record(convInput("jane", 4900, "ORD-1"))
	if err != nil {
		t.Fatal(err)
	}
	if again.Created || again.Conversion.ID != first.Conversion.ID {
		t.Fatalf("repeat: created %v id %s, want the first conversion %s", again.Created, again.Conversion.ID, first.Conversion.ID)
	}
	// The same order id for another sale is refused, not silently merged.
	_, err = w.record(convInput("jane", 5900, "ORD-1"))
	convWantFault(t, err, fault.KindConflict, "orderId", "order_id_reused")
	if n := w.client.Conversion.Query().CountX(w.ctx); n != 1 {
		t.Fatalf("%d conversions, want 1", n)
	}
}

func TestRecordConversionLeadAttribution(t *testing.T) {
	w := newConvWorld(t)
	sys := rule.AsSystem(context.Background())
	other := w.client.Campaign.Create().SetOrgID(w.orgID).SetName("Other").SetSlug("other").SaveX(sys)
	otherAff := w.client.Affiliate.Create().SetOrgID(w.orgID).SetCampaignID(other.ID).
		SetEmail("olga@partners.test").SetSlug("olga").SetStatus(affiliate.StatusApproved).SaveX(sys)
	lead := w.client.Lead.Create().SetOrgID(w.orgID).SetAffiliateID(w.recruiter.ID).SetCampaignID(w.campaign.ID).
		SetEmail("buyer@example.com").SetOccurredAt(w.now.Add(-48 * time.Hour)).SaveX(sys)
	w.client.Lead.Create().SetOrgID(w.orgID).SetAffiliateID(otherAff.ID).SetCampaignID(other.ID).
		SetEmail("buyer@example.com").SetOccurredAt(w.now.Add(-72 * time.Hour)).SaveX(sys)

	email := "Buyer@Example.com"
	// Without a campaign, the most recent lead of the email wins.
	got, err := w.record(programs.RecordConversionInput{Email: &email, AmountCents: 1000, Currency: "USD", OrderID: "A"})
	if err != nil {
		t.Fatal(err)
	}
	c := got.Conversion
	if c.AffiliateID != w.recruiter.ID || c.LeadID == nil || *c.LeadID != lead.ID || c.CustomerEmail != "buyer@example.com" {
		t.Fatalf("got affiliate %s lead %v email %q, want jane's lead", c.AffiliateID, c.LeadID, c.CustomerEmail)
	}
	// With a campaign, only that campaign's lead counts.
	got, err = w.record(programs.RecordConversionInput{Email: &email, CampaignID: &other.ID, AmountCents: 1000, Currency: "USD", OrderID: "B"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Conversion.AffiliateID != otherAff.ID {
		t.Fatalf("got affiliate %s, want olga of the named campaign", got.Conversion.AffiliateID)
	}
	// A slug with the email of its own lead links the lead.
	in := convInput("jane", 1000, "C")
	in.Email = &email
	if got, err = w.record(in); err != nil || got.Conversion.LeadID == nil || *got.Conversion.LeadID != lead.ID {
		t.Fatalf("slug and email: %+v, %v; want the lead linked", got, err)
	}
	// Neither a slug nor a lead's email: refused on slug.
	stranger := "nobody@example.com"
	_, err = w.record(programs.RecordConversionInput{Email: &stranger, AmountCents: 1000, Currency: "USD", OrderID: "D"})
	if f := convWantFault(t, err, fault.KindInvalid, "slug", ""); !strings.Contains(f.Message, "nobody@example.com") {
		t.Fatalf("message %q does not name the email", f.Message)
	}
	_, err = w.record(programs.RecordConversionInput{AmountCents: 1000, Currency: "USD", OrderID: "E"})
	convWantFault(t, err, fault.KindInvalid, "slug", "")
	// A lead whose affiliate is not approved earns nothing.
	w.client.Affiliate.UpdateOneID(w.recruiter.ID).SetStatus(affiliate.StatusBlocked).ExecX(sys)
	_, err = w.record(programs.RecordConversionInput{Email: &email, CampaignID: &w.campaign.ID, AmountCents: 1000, Currency: "USD", OrderID: "F"})
	convWantFault(t, err, fault.KindConflict, "email", "affiliate_not_approved")
}

func TestRecordConversionRefusals(t *testing.T) {
	w := newConvWorld(t)
	sys := rule.AsSystem(context.Background())
	pending := w.client.Affiliate.Create().SetOrgID(w.orgID).SetCampaignID(w.campaign.ID).
		SetEmail("pat@partners.test").SetSlug("pat").SaveX(sys)
	paused := w.client.Campaign.Create().SetOrgID(w.orgID).SetName("Paused").SetSlug("paused").
		SetStatus(campaign.StatusPaused).SaveX(sys)
	w.client.Affiliate.Create().SetOrgID(w.orgID).SetCampaignID(paused.ID).
		SetEmail("pia@partners.test").SetSlug("pia").SetStatus(affiliate.StatusApproved).SaveX(sys)
	typ := func(t conversion.Type) *conversion.Type { return &t }
	at := func(d time.Duration) *time.Time { t := w.now.Add(d); return &t }
	str := func(s string) *string { return &s }
	with := func(f func(*programs.RecordConversionInput)) programs.RecordConversionInput {
		in := convInput("jane", 4900, "ORD-X")
		f(&in)
		return in
	}
	for name, tc := range map[string]struct {
		in            programs.RecordConversionInput
		kind          fault.Kind
		field, reason string
	}{
		"zero amount":         {with(func(in *programs.RecordConversionInput) { in.AmountCents = 0 }), fault.KindInvalid, "amountCents", ""},
		"negative amount":     {with(func(in *programs.RecordConversionInput) { in.AmountCents = -5 }), fault.KindInvalid, "amountCents", ""},
		"huge amount":         {with(func(in *programs.RecordConversionInput) { in.AmountCents = programs.MaxConversionAmountCents + 1 }), fault.KindInvalid, "amountCents", ""},
		"no currency":         {with(func(in *programs.RecordConversionInput) { in.Currency = " " }), fault.KindInvalid, "currency", ""},
		"bad currency":        {with(func(in *programs.RecordConversionInput) { in.Currency = "dollars" }), fault.KindInvalid, "currency", ""},
		"other currency":      {with(func(in *programs.RecordConversionInput) { in.Currency = "EUR" }), fault.KindInvalid, "currency", ""},
		"no order id":         {with(func(in *programs.RecordConversionInput) { in.OrderID = "  " }), fault.KindInvalid, "orderId", ""},
		"long order id":       {with(func(in *programs.RecordConversionInput) { in.OrderID = strings.Repeat("x", 256) }), fault.KindInvalid, "orderId", ""},
		"control in order id": {with(func(in *programs.RecordConversionInput) { in.OrderID = "a\nb" }), fault.KindInvalid, "orderId", ""},
		"bad slug":            {with(func(in *programs.RecordConversionInput) { in.Slug = str("Jane Doe!") }), fault.KindInvalid, "slug", ""},
		"bad email":           {with(func(in *programs.RecordConversionInput) { in.Email = str("Buyer <b@example.com>") }), fault.KindInvalid, "email", ""},
		"long name":           {with(func(in *programs.RecordConversionInput) { in.CustomerName = str(strings.Repeat("n", 201)) }), fault.KindInvalid, "customerName", ""},
		"lead type":           {with(func(in *programs.RecordConversionInput) { in.Type = typ(conversion.TypeLead) }), fault.KindInvalid, "type", ""},
		"future": {with(func(in *programs.RecordConversionInput) {
			in.OccurredAt = at(programs.ConversionClockSkew + time.Second)
		}), fault.KindInvalid, "occurredAt", ""},
		"zero time":         {with(func(in *programs.RecordConversionInput) { in.OccurredAt = &time.Time{} }), fault.KindInvalid, "occurredAt", ""},
		"other campaign":    {with(func(in *programs.RecordConversionInput) { in.CampaignID = &paused.ID }), fault.KindInvalid, "campaignId", ""},
		"pending affiliate": {with(func(in *programs.RecordConversionInput) { in.Slug = &pending.Slug }), fault.KindConflict, "slug", "affiliate_not_approved"},
		"paused campaign":   {with(func(in *programs.RecordConversionInput) { in.Slug = str("pia") }), fault.KindConflict, "slug", "campaign_inactive"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := w.record(tc.in)
			convWantFault(t, err, tc.kind, tc.field, tc.reason)
		})
	}
	t.Run("unknown slug", func(t *testing.T) {
		_, err := w.record(convInput("ghost", 4900, "ORD-X"))
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Kind != fault.KindNotFound || fe.Field != "slug" {
			t.Fatalf("got %v, want NOT_FOUND on slug", err)
		}
	})
	t.Run("read-only member", func(t *testing.T) {
		member := viewer.NewContext(context.Background(), &viewer.Viewer{OrgID: w.orgID, UserID: "usr_m", Role: viewer.RoleMember, ActorType: viewer.ActorUser})
		if _, err := programs.RecordConversion(member, w.client, w.now, convInput("jane", 4900, "ORD-X")); !errors.Is(err, rule.ErrReadOnly) {
			t.Fatalf("got %v, want the read-only refusal", err)
		}
	})
	if n := w.client.Conversion.Query().CountX(w.ctx); n != 0 {
		t.Fatalf("a refused call recorded %d conversions", n)
	}
}

// A time a little ahead of Tandem's clock is the partner's clock skew: it
// is recorded as now. An earlier time is kept, with the type given.
func TestRecordConversionOccurredAt(t *testing.T) {
	w := newConvWorld(t)
	ahead := w.now.Add(time.Minute)
	in := convInput("jane", 4900, "A")
	in.OccurredAt = &ahead
	got, err := w.record(in)
	if err != nil || !got.Conversion.OccurredAt.Equal(w.now) {
		t.Fatalf("got %+v, %v; want occurredAt clamped to now", got, err)
	}
	earlier := w.now.Add(-36 * time.Hour).In(time.FixedZone("CET", 3600))
	renewal := conversion.TypeRenewal
	in = convInput("jane", 4900, "B")
	in.OccurredAt, in.Type = &earlier, &renewal
	got, err = w.record(in)
	if err != nil || !got.Conversion.OccurredAt.Equal(earlier) || got.Conversion.Type != conversion.TypeRenewal || got.Conversion.CommissionCents != 980 {
		t.Fatalf("got %+v, %v; want the earlier time, Renewal, and its commission", got, err)
	}
}
