package programs

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/campaign"
	"github.com/tandemhq/tandem/ent/conversion"
	"github.com/tandemhq/tandem/ent/lead"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/money"
	"github.com/tandemhq/tandem/viewer"
)

// RecordConversionInput is a sale a brand's server reports (the
// recordConversion mutation, POST /api/v1/conversions). Field names are the
// public API's: the REST body is this object as JSON.
type RecordConversionInput struct {
	// Slug is the affiliate's referral slug (the tandem_ref cookie's slug).
	// Optional when Email is a lead an affiliate referred.
	Slug *string
	// CampaignID defaults to the affiliate's campaign; when given it must be
	// that campaign (or, without a slug, the campaign whose lead is looked up).
	CampaignID *string
	// AmountCents is the sale in minor units of Currency (4900 = 49.00).
	AmountCents int64
	Currency    string
	// OrderID is the brand's order or invoice id: the idempotency key, stored
	// as the conversion's external_id.
	OrderID      string
	Email        *string
	CustomerName *string
	Type         *conversion.Type // nil: Sale
	OccurredAt   *time.Time       // nil: now
}

// RecordConversionPayload is what recordConversion answers: the conversion,
// and whether this call created it (false: the orderId was already
// recorded, and that conversion is returned unchanged).
type RecordConversionPayload struct {
	Conversion *ent.Conversion
	Created    bool
}

// Bounds of a reported sale.
const (
	// MaxConversionAmountCents is the largest sale recordConversion accepts,
	// in minor units (10,000,000,000.00 in a two-decimal currency): more is a
	// unit mistake, and it keeps every sum far from overflowing.
	MaxConversionAmountCents = 1_000_000_000_000
	// MaxOrderIDLen bounds orderId (the external_id column).
	MaxOrderIDLen = 255
	// ConversionClockSkew is how far past Tandem's clock an occurredAt may
	// be: a partner server's clock a little ahead still reports "now". Such a
	// time is recorded as now; anything later is refused as in the future.
	ConversionClockSkew = 5 * time.Minute
)

// conversionEarliest is the earliest occurredAt accepted: an earlier one
// is a zero or unset time on the caller's side, not a real sale.
var conversionEarliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// RecordConversion records a sale reported by the brand's server and the
// commission it earns, as a Pending conversion for review.
//
// The sale is credited to the Approved affiliate whose referral slug is
// given. Without a slug, it is credited to the affiliate who referred the
// customer's email as a lead (in campaignID's campaign when one is given,
// else the most recent such lead); with neither, the call is refused with
// BAD_USER_INPUT on slug. The campaign is the affiliate's and must be Active.
//
// orderId is the idempotency key within the organization: reporting it
// again returns the conversion already recorded (Created false) and never a
// second commission; reusing it for a different amount or currency is
// refused with CONFLICT order_id_reused.
//
// The commission follows the campaign's rules (Commission, with the
// affiliate's custom rate): a per-sale (Cps) campaign pays on Sale,
// Subscription and Renewal conversions; per-click and per-lead campaigns
// record the sale with no commission. A recruiter on a sub-affiliate campaign
// earns its Override. Amounts are also stored in the organization's home
// currency (money.ToHome), which today refuses any other currency.
//
// client must be the mutation's transaction client; now is the caller's clock.
func RecordConversion(ctx context.Context, client *ent.Client, now time.Time, in RecordConversionInput) (*RecordConversionPayload, error) {
	// Refused before any lookup, so a read-only member learns the same
	// thing whether or not the orderId was already recorded.
	if err := rule.RequireWriter(ctx); err != nil {
		return nil, err
	}
	now = now.UTC()
	sale, err := convCheck(now, in)
	if err != nil {
		return nil, err
	}

	existing, err := client.Conversion.Query().Where(conversion.ExternalID(sale.orderID)).Only(ctx)
	switch {
	case err == nil:
		if existing.AmountCents != sale.amount || existing.Currency != sale.currency {
			return nil, fault.Conflict("orderId", "order_id_reused",
				"orderId %q already records a sale of %d %s (conversion %s), not %d %s: send each order under its own orderId; to change a recorded sale, deny it and report the order under a new orderId",
				sale.orderID, existing.AmountCents, existing.Currency, existing.ID, sale.amount, sale.currency)
		}
		return &RecordConversionPayload{Conversion: existing}, nil
	case !ent.IsNotFound(err):
		return nil, err
	}

	aff, cmp, leadID, err := convCreditFor(ctx, client, sale)
	if err != nil {
		return nil, err
	}
	org, err := client.Organization.Get(ctx, viewer.FromContext(ctx).OrgID)
	if err != nil {
		return nil, err
	}

	var commission int64
	if cmp.CommissionModel == campaign.CommissionModelCps {
		commission = Commission(cmp, aff, sale.amount)
		if CommissionType(cmp, aff) == campaign.CommissionTypeFixed && commission != 0 && cmp.Currency != sale.currency {
			return nil, fault.Invalid("currency", "is %s, but the campaign %q pays a fixed commission in %s: send the sale in %s",
				sale.currency, cmp.Name, cmp.Currency, cmp.Currency)
		}
	}
	var recruiterID *string
	var override int64
	if cmp.SubAffiliatesEnabled && aff.RecruitedByID != nil {
		recruiter, err := client.Affiliate.Get(ctx, *aff.RecruitedByID)
		switch {
		case err == nil && recruiter.Status == affiliate.StatusApproved:
			recruiterID, override = &recruiter.ID, Override(cmp, commission)
		case err != nil && !ent.IsNotFound(err):
			return nil, err
		}
	}
	home, rate, err := money.ToHome("currency", sale.currency, org.HomeCurrency, sale.amount, commission)
	if err != nil {
		return nil, err
	}

	create := client.Conversion.Create().
		SetAffiliateID(aff.ID).
		SetCampaignID(cmp.ID).
		SetType(sale.typ).
		SetStatus(conversion.StatusPending).
		SetAmountCents(sale.amount).
		SetCurrency(sale.currency).
		SetCommissionCents(commission).
		SetHomeAmountCents(home[0]).
		SetHomeCommissionCents(home[1]).
		SetHomeCurrency(org.HomeCurrency).
		SetFxRate(rate).
		SetNillableOverrideAffiliateID(recruiterID).
		SetOverrideCommissionCents(override).
		SetExternalID(sale.orderID).
		SetCustomerEmail(sale.email).
		SetCustomerName(sale.name).
		SetOccurredAt(sale.occurredAt)
	if leadID != "" {
		create.SetLeadID(leadID)
	}
	cnv, err := create.Save(ctx)
	if ent.IsConstraintError(err) {
		// Another request with the same orderId committed between the lookup
		// above and this insert. The transaction cannot read past the failed
		// insert, so the caller asks again and receives that conversion.
		return nil, fault.Conflict("orderId", "order_id_in_flight",
			"another request recorded orderId %q at the same moment: send this request again (signed anew) to receive that conversion", sale.orderID)
	}
	if err != nil {
		return nil, err
	}
	return &RecordConversionPayload{Conversion: cnv, Created: true}, nil
}

// convSale is a RecordConversionInput checked and normalized.
type convSale struct {
	slug, campaignID  string
	amount            int64
	currency, orderID string
	email, name       string
	typ               conversion.Type
	occurredAt        time.Time
}

// convCheck validates every input that needs no lookup, naming the field
// and the fix.
func convCheck(now time.Time, in RecordConversionInput) (convSale, error) {
	s := convSale{amount: in.AmountCents, typ: conversion.TypeSale, occurredAt: now}
	if in.Slug != nil {
		s.slug = strings.ToLower(strings.TrimSpace(*in.Slug))
		if s.slug != "" && affiliate.SlugValidator(s.slug) != nil {
			return s, fault.Invalid("slug", "must be an affiliate's referral slug (lowercase letters, digits and single hyphens, at most 64 characters), such as the slug in the tandem_ref cookie; not %q", convClip(*in.Slug, 80))
		}
	}
	if in.CampaignID != nil {
		s.campaignID = strings.TrimSpace(*in.CampaignID)
	}
	switch {
	case s.amount <= 0:
		return s, fault.Invalid("amountCents", "must be greater than 0: the sale amount in minor units of currency (4900 = 49.00), not %d", s.amount)
	case s.amount > MaxConversionAmountCents:
		return s, fault.Invalid("amountCents", "must be at most %d: it is in minor units (4900 = 49.00), not in thousandths or micros", int64(MaxConversionAmountCents))
	}
	if strings.TrimSpace(in.Currency) == "" {
		return s, fault.Invalid("currency", "is required: the ISO 4217 code of amountCents, such as USD")
	}
	cur, err := money.Code("currency", in.Currency)
	if err != nil {
		return s, err
	}
	s.currency = cur
	s.orderID = strings.TrimSpace(in.OrderID)
	switch {
	case s.orderID == "":
		return s, fault.Invalid("orderId", "is required: your order or invoice id, which makes a repeated call record one sale")
	case len(s.orderID) > MaxOrderIDLen:
		return s, fault.Invalid("orderId", "must be at most %d bytes", MaxOrderIDLen)
	case !utf8.ValidString(s.orderID) || strings.ContainsFunc(s.orderID, unicode.IsControl):
		return s, fault.Invalid("orderId", "must be plain text without control characters")
	}
	if in.Email != nil && strings.TrimSpace(*in.Email) != "" {
		e := strings.TrimSpace(*in.Email)
		a, err := mail.ParseAddress(e)
		at := strings.LastIndexByte(e, '@')
		if len(e) > 254 || err != nil || a.Address != e || at < 1 || !strings.Contains(e[at+1:], ".") {
			return s, fault.Invalid("email", "must be the customer's bare email address, such as ada@example.com, not %q", convClip(e, 80))
		}
		s.email = strings.ToLower(e)
	}
	if in.CustomerName != nil {
		s.name = strings.TrimSpace(*in.CustomerName)
		switch {
		case utf8.RuneCountInString(s.name) > 200:
			return s, fault.Invalid("customerName", "must be at most 200 characters")
		case !utf8.ValidString(s.name) || strings.ContainsFunc(s.name, unicode.IsControl):
			return s, fault.Invalid("customerName", "must be plain text without control characters")
		}
	}
	if in.Type != nil {
		switch *in.Type {
		case conversion.TypeSale, conversion.TypeSubscription, conversion.TypeRenewal:
			s.typ = *in.Type
		default:
			return s, fault.Invalid("type", "must be Sale, Subscription or Renewal, not %s: leads are recorded with recordLead and clicks by the tracking script", *in.Type)
		}
	}
	if in.OccurredAt != nil {
		at := in.OccurredAt.UTC()
		switch {
		case at.After(now.Add(ConversionClockSkew)):
			return s, fault.Invalid("occurredAt", "is %s, in the future (Tandem's clock says %s): send when the sale happened, or leave it out for now",
				at.Format(time.RFC3339), now.Format(time.RFC3339))
		case at.Before(conversionEarliest):
			return s, fault.Invalid("occurredAt", "is %s, before 2000: send the sale's real time (RFC 3339, e.g. 2026-03-01T12:00:00Z), or leave it out for now",
				at.Format(time.RFC3339))
		case at.After(now):
			at = now // within the allowed skew: the caller's clock is a little ahead
		}
		s.occurredAt = at
	}
	return s, nil
}

// convCreditFor finds whom s is credited to: the affiliate of its slug, else
// the affiliate who referred its email as a lead. It also returns the lead
// of that email the conversion links to, if any.
func convCreditFor(ctx context.Context, client *ent.Client, s convSale) (*ent.Affiliate, *ent.Campaign, string, error) {
	if s.slug == "" {
		return convCreditByLead(ctx, client, s)
	}
	aff, err := client.Affiliate.Query().Where(affiliate.Slug(s.slug)).WithCampaign().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil, "", fault.NotFound("slug", "no affiliate has the slug %q in this organization: check the slug saved with the order (list_affiliates shows every slug)", s.slug)
	}
	if err != nil {
		return nil, nil, "", err
	}
	if s.campaignID != "" && s.campaignID != aff.CampaignID {
		return nil, nil, "", fault.Invalid("campaignId", "is %s, but affiliate %s belongs to campaign %s: leave campaignId out, or pass %s",
			s.campaignID, aff.Slug, aff.CampaignID, aff.CampaignID)
	}
	if err := convCreditable(aff, "slug"); err != nil {
		return nil, nil, "", err
	}
	var leadID string
	if s.email != "" {
		l, err := client.Lead.Query().
			Where(lead.CampaignID(aff.CampaignID), lead.AffiliateID(aff.ID), lead.EmailEqualFold(s.email)).
			First(ctx)
		switch {
		case err == nil:
			leadID = l.ID
		case !ent.IsNotFound(err):
			return nil, nil, "", err
		}
	}
	return aff, aff.Edges.Campaign, leadID, nil
}

// convCreditByLead credits a sale without a slug to the affiliate who referred
// its email as a lead.
func convCreditByLead(ctx context.Context, client *ent.Client, s convSale) (*ent.Affiliate, *ent.Campaign, string, error) {
	if s.email == "" {
		return nil, nil, "", fault.Invalid("slug", "is required: pass the affiliate's referral slug (saved from the tandem_ref cookie with the order), or the customer's email when an affiliate referred them as a lead")
	}
	q := client.Lead.Query().Where(lead.EmailEqualFold(s.email))
	where := "this organization"
	if s.campaignID != "" {
		cmp, err := client.Campaign.Get(ctx, s.campaignID)
		if ent.IsNotFound(err) {
			return nil, nil, "", fault.NotFound("campaignId", "no campaign %s in this organization: pass an id from list_campaigns, or leave campaignId out", s.campaignID)
		}
		if err != nil {
			return nil, nil, "", err
		}
		q.Where(lead.CampaignID(cmp.ID))
		where = fmt.Sprintf("campaign %q", cmp.Name)
	}
	l, err := q.Order(ent.Desc(lead.FieldOccurredAt), ent.Desc(lead.FieldID)).
		WithAffiliate(func(aq *ent.AffiliateQuery) { aq.WithCampaign() }).
		First(ctx)
	if ent.IsNotFound(err) {
		return nil, nil, "", fault.Invalid("slug", "is required: %s is not a lead of any affiliate in %s, so Tandem cannot tell who referred this sale; pass the affiliate's referral slug",
			s.email, where)
	}
	if err != nil {
		return nil, nil, "", err
	}
	aff := l.Edges.Affiliate
	if err := convCreditable(aff, "email"); err != nil {
		return nil, nil, "", err
	}
	return aff, aff.Edges.Campaign, l.ID, nil
}

// convCreditable refuses an affiliate that may not earn: one not Approved, or
// on a campaign that is not Active. field is the input that named it.
func convCreditable(aff *ent.Affiliate, field string) error {
	if aff.Status != affiliate.StatusApproved {
		return fault.Conflict(field, "affiliate_not_approved",
			"affiliate %s is %s, and only an Approved affiliate earns commissions: approve it (approve_affiliate) and report the sale again",
			aff.Slug, aff.Status)
	}
	if cmp := aff.Edges.Campaign; cmp.Status != campaign.StatusActive {
		return fault.Conflict(field, "campaign_inactive",
			"affiliate %s belongs to the campaign %q, which is %s: it records no sales until the brand makes it Active again",
			aff.Slug, cmp.Name, cmp.Status)
	}
	return nil
}

// clip cuts s to at most n runes for an error message.
func convClip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
