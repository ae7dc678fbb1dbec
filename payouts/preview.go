package payouts

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/tandemhq/tandem/audit"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/conversion"
	"github.com/tandemhq/tandem/ent/organization"
	"github.com/tandemhq/tandem/ent/predicate"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/viewer"
)

// MaxPreviewAffiliates is the most affiliates a preview lists, largest
// totals first; the totals always cover every affiliate.
const MaxPreviewAffiliates = 1000

// PayoutPreview is what a payout batch run now would pay: every affiliate's
// approved, unpaid commissions whose sale is older than the organization's
// payout grace period, plus the sub-affiliate overrides recruiters earn on
// them. Amounts are minor units of Currency, the organization's home
// currency.
type PayoutPreview struct {
	Currency string
	// Cutoff is now minus the payout grace period: sales at or before it
	// are payable.
	Cutoff          time.Time
	GraceDays       int
	CampaignID      *string
	Since           *time.Time
	TotalCents      int64
	CommissionCents int64
	OverrideCents   int64
	ConversionCount int
	// AffiliateCount is how many affiliates would be paid; Affiliates
	// lists at most MaxPreviewAffiliates of them (Truncated says so).
	AffiliateCount int
	Truncated      bool
	Affiliates     []*PayoutPreviewAffiliate
	Excluded       *PayoutPreviewExcluded
}

// PayoutPreviewAffiliate is one affiliate's share of a payout preview.
type PayoutPreviewAffiliate struct {
	AffiliateID string
	FullName    string
	Email       string
	PaypalEmail string
	Status      affiliate.Status
	// ConversionCount counts the affiliate's own payable conversions.
	ConversionCount int
	CommissionCents int64
	// OverrideCents is what the affiliate earns as a recruiter on its
	// recruits' payable conversions.
	OverrideCents int64
	TotalCents    int64
}

// PayoutPreviewExcluded counts the unpaid commissions left out, so a
// preview says why an expected amount is missing.
type PayoutPreviewExcluded struct {
	// Pending conversions await approval.
	PendingCount int
	PendingCents int64
	// TooRecent conversions are approved but still inside the grace period.
	TooRecentCount int
	TooRecentCents int64
	// OtherCurrency conversions are payable but recorded in another home
	// currency than the current one, and cannot be added to it.
	OtherCurrencyCount int
}

// PreviewInput scopes a payout preview.
type PreviewInput struct {
	CampaignID *string    // one campaign; nil: all
	Since      *time.Time // sales at or after this time only; nil: all
	Now        time.Time
}

// Preview computes a payout batch without running it: it changes nothing
// (an MCP or API-key call is recorded in the audit log) and can be called
// any number of times. Locked (settled, imported-as-paid)
// and already-paid conversions never count. Sums are taken in SQL, grouped
// by affiliate.
func Preview(ctx context.Context, c *ent.Client, orgID string, in PreviewInput) (*PayoutPreview, error) {
	org, err := c.Organization.Query().
		Where(organization.ID(orgID)).
		Select(organization.FieldHomeCurrency, organization.FieldPayoutGraceDays).
		Only(ctx)
	if err != nil {
		return nil, err
	}
	if in.CampaignID != nil {
		if _, err := c.Campaign.Get(ctx, *in.CampaignID); ent.IsNotFound(err) {
			return nil, fault.NotFound("campaignID", "no campaign %s in this organization: check the ID with list_campaigns, or leave campaignId out for every campaign", *in.CampaignID)
		} else if err != nil {
			return nil, err
		}
	}
	home := org.HomeCurrency
	cutoff := in.Now.UTC().AddDate(0, 0, -org.PayoutGraceDays)
	p := &PayoutPreview{
		Currency:   home,
		Cutoff:     cutoff,
		GraceDays:  org.PayoutGraceDays,
		CampaignID: in.CampaignID,
		Since:      in.Since,
		Affiliates: []*PayoutPreviewAffiliate{},
		Excluded:   &PayoutPreviewExcluded{},
	}

	// Unpaid: not settled history, not in a payout yet.
	scope := []predicate.Conversion{
		conversion.Locked(false),
		conversion.PayoutLineItemIDIsNil(),
	}
	if in.CampaignID != nil {
		scope = append(scope, conversion.CampaignID(*in.CampaignID))
	}
	if in.Since != nil {
		scope = append(scope, conversion.OccurredAtGTE(in.Since.UTC()))
	}
	with := func(ps ...predicate.Conversion) []predicate.Conversion { return slices.Concat(scope, ps) }
	payable := with(conversion.StatusEQ(conversion.StatusApproved), conversion.OccurredAtLTE(cutoff))

	rows := map[string]*PayoutPreviewAffiliate{}
	get := func(id string) *PayoutPreviewAffiliate {
		r, ok := rows[id]
		if !ok {
			r = &PayoutPreviewAffiliate{AffiliateID: id}
			rows[id] = r
		}
		return r
	}

	var own []struct {
		AffiliateID string `json:"affiliate_id"`
		Count       int    `json:"count"`
		Cents       int64  `json:"cents"`
	}
	if err := c.Conversion.Query().
		Where(slices.Concat(payable, []predicate.Conversion{conversion.HomeCurrency(home)})...).
		GroupBy(conversion.FieldAffiliateID).
		Aggregate(ent.As(ent.Count(), "count"), ent.As(ent.Sum(conversion.FieldHomeCommissionCents), "cents")).
		Scan(ctx, &own); err != nil {
		return nil, err
	}
	for _, o := range own {
		r := get(o.AffiliateID)
		r.ConversionCount += o.Count
		r.CommissionCents += o.Cents
	}

	// Overrides are in the conversion's own currency; those in the home
	// currency add up.
	var overrides []struct {
		AffiliateID string `json:"override_affiliate_id"`
		Cents       int64  `json:"cents"`
	}
	if err := c.Conversion.Query().
		Where(slices.Concat(payable, []predicate.Conversion{conversion.Currency(home), conversion.HomeCurrency(home),
			conversion.OverrideAffiliateIDNotNil(), conversion.OverrideCommissionCentsNEQ(0)})...).
		GroupBy(conversion.FieldOverrideAffiliateID).
		Aggregate(ent.As(ent.Sum(conversion.FieldOverrideCommissionCents), "cents")).
		Scan(ctx, &overrides); err != nil {
		return nil, err
	}
	for _, o := range overrides {
		get(o.AffiliateID).OverrideCents += o.Cents
	}

	if err := fillAffiliates(ctx, c, rows); err != nil {
		return nil, err
	}
	for _, r := range rows {
		r.TotalCents = r.CommissionCents + r.OverrideCents
		p.CommissionCents += r.CommissionCents
		p.OverrideCents += r.OverrideCents
		p.ConversionCount += r.ConversionCount
		p.Affiliates = append(p.Affiliates, r)
	}
	p.TotalCents = p.CommissionCents + p.OverrideCents
	sort.Slice(p.Affiliates, func(i, j int) bool {
		a, b := p.Affiliates[i], p.Affiliates[j]
		if a.TotalCents != b.TotalCents {
			return a.TotalCents > b.TotalCents
		}
		return a.AffiliateID < b.AffiliateID
	})
	p.AffiliateCount = len(p.Affiliates)
	if len(p.Affiliates) > MaxPreviewAffiliates {
		p.Affiliates, p.Truncated = p.Affiliates[:MaxPreviewAffiliates], true
	}

	// What is left out, and why.
	var excluded []struct {
		Status conversion.Status `json:"status"`
		Count  int               `json:"count"`
		Cents  int64             `json:"cents"`
	}
	if err := c.Conversion.Query().
		Where(with(conversion.HomeCurrency(home), conversion.Or(
			conversion.StatusEQ(conversion.StatusPending),
			conversion.And(conversion.StatusEQ(conversion.StatusApproved), conversion.OccurredAtGT(cutoff)),
		))...).
		GroupBy(conversion.FieldStatus).
		Aggregate(ent.As(ent.Count(), "count"), ent.As(ent.Sum(conversion.FieldHomeCommissionCents), "cents")).
		Scan(ctx, &excluded); err != nil {
		return nil, err
	}
	for _, e := range excluded {
		if e.Status == conversion.StatusPending {
			p.Excluded.PendingCount, p.Excluded.PendingCents = e.Count, e.Cents
		} else {
			p.Excluded.TooRecentCount, p.Excluded.TooRecentCents = e.Count, e.Cents
		}
	}
	other, err := c.Conversion.Query().Where(slices.Concat(payable, []predicate.Conversion{conversion.HomeCurrencyNEQ(home)})...).Count(ctx)
	if err != nil {
		return nil, err
	}
	p.Excluded.OtherCurrencyCount = other

	// An assistant's or a server's call leaves a trace, as their reads do
	// (graph's auditReads); the preview itself changes nothing, so the
	// audit hook sees nothing.
	if v := viewer.FromContext(ctx); v != nil && (v.ActorType == viewer.ActorMCP || v.ActorType == viewer.ActorAPIKey) {
		after := map[string]any{"currency": p.Currency, "cutoff": p.Cutoff, "totalCents": p.TotalCents, "affiliateCount": p.AffiliateCount}
		if in.CampaignID != nil {
			after["campaignId"] = *in.CampaignID
		}
		if in.Since != nil {
			after["since"] = in.Since.UTC()
		}
		if err := audit.RecordOperation(ctx, c, "payout.preview", "", "", after); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// fillAffiliates adds each affiliate's name, emails and status.
func fillAffiliates(ctx context.Context, c *ent.Client, rows map[string]*PayoutPreviewAffiliate) error {
	ids := make([]string, 0, len(rows))
	for id := range rows {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for len(ids) > 0 {
		part := ids[:min(500, len(ids))]
		ids = ids[len(part):]
		as, err := c.Affiliate.Query().
			Where(affiliate.IDIn(part...)).
			Select(affiliate.FieldFullName, affiliate.FieldEmail, affiliate.FieldPaypalEmail, affiliate.FieldStatus).
			All(ctx)
		if err != nil {
			return err
		}
		for _, a := range as {
			r := rows[a.ID]
			r.FullName, r.Email, r.PaypalEmail, r.Status = a.FullName, a.Email, a.PaypalEmail, a.Status
		}
	}
	return nil
}
