package reports

import (
	"context"
	"math/big"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/click"
	"github.com/tandemhq/tandem/ent/conversion"
	"github.com/tandemhq/tandem/ent/lead"
)

// statusTotals is one (status, home currency) group of conversions.
type statusTotals struct {
	Status       conversion.Status `json:"status"`
	HomeCurrency string            `json:"home_currency"`
	N            int               `json:"n"`
	Amount       int64             `json:"amount"`
	Commission   int64             `json:"commission"`
}

// conversionTotals counts and sums the conversions q selects per status and
// home currency: at most a few rows, whatever the number of conversions.
func conversionTotals(ctx context.Context, q *ent.ConversionQuery) ([]statusTotals, error) {
	var rows []statusTotals
	err := q.GroupBy(conversion.FieldStatus, conversion.FieldHomeCurrency).
		Aggregate(countAs("n"), sumOf(conversion.FieldHomeAmountCents, "amount"), sumOf(conversion.FieldHomeCommissionCents, "commission")).
		Scan(ctx, &rows)
	return rows, err
}

// AffiliateTotals are one affiliate's all-time figures. Money is in minor
// units of Currency, the organization's home currency, and covers the
// conversions recorded in it (OtherCurrencyConversions counts the others).
type AffiliateTotals struct {
	Clicks int
	Leads  int
	// Conversions counts Pending, Approved and Paid conversions.
	Conversions              int
	OtherCurrencyConversions int
	// RevenueCents sums the sales of Pending, Approved and Paid conversions.
	RevenueCents            int64
	PendingCommissionCents  int64
	ApprovedCommissionCents int64
	PaidCommissionCents     int64
	Currency                string
}

// TotalsOfAffiliate computes an affiliate's all-time totals: three
// aggregate queries on the per-affiliate indexes.
func TotalsOfAffiliate(ctx context.Context, client *ent.Client, affiliateID string) (*AffiliateTotals, error) {
	org, err := viewerOrg(ctx, client)
	if err != nil {
		return nil, err
	}
	t := &AffiliateTotals{Currency: org.HomeCurrency}
	rows, err := conversionTotals(ctx, client.Conversion.Query().Where(conversion.AffiliateID(affiliateID)))
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if !isEarning(r.Status) {
			continue
		}
		t.Conversions += r.N
		if r.HomeCurrency != org.HomeCurrency {
			t.OtherCurrencyConversions += r.N
			continue
		}
		t.RevenueCents += r.Amount
		switch r.Status {
		case conversion.StatusPending:
			t.PendingCommissionCents += r.Commission
		case conversion.StatusApproved:
			t.ApprovedCommissionCents += r.Commission
		case conversion.StatusPaid:
			t.PaidCommissionCents += r.Commission
		}
	}
	if t.Clicks, err = client.Click.Query().Where(click.AffiliateID(affiliateID)).Aggregate(countAs("n")).Int(ctx); err != nil {
		return nil, err
	}
	if t.Leads, err = client.Lead.Query().Where(lead.AffiliateID(affiliateID)).Aggregate(countAs("n")).Int(ctx); err != nil {
		return nil, err
	}
	return t, nil
}

// CampaignStats are a campaign's figures over a range, like the dashboard
// summary's but for one campaign.
type CampaignStats struct {
	Range string
	From  *time.Time // nil for all time
	To    time.Time
	// Conversions counts Pending, Approved and Paid conversions; the money
	// sums those recorded in Currency, the organization's home currency.
	Conversions     int
	RevenueCents    int64
	CommissionCents int64
	Leads           int
	Clicks          int
	Currency        string
}

// StatsOfCampaign computes a campaign's figures over rng (nil: 30d; the
// dashboard's ranges) ending at now.
func StatsOfCampaign(ctx context.Context, client *ent.Client, now time.Time, campaignID string, rng *string) (*CampaignStats, error) {
	w, err := parseWindow("range", rng, now, summaryRanges)
	if err != nil {
		return nil, err
	}
	org, err := viewerOrg(ctx, client)
	if err != nil {
		return nil, err
	}
	st := &CampaignStats{Range: w.Range, From: w.From, To: w.To, Currency: org.HomeCurrency}
	rows, err := conversionTotals(ctx, client.Conversion.Query().Where(conversion.CampaignID(campaignID), conversionsIn(w)))
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if !isEarning(r.Status) {
			continue
		}
		st.Conversions += r.N
		if r.HomeCurrency == org.HomeCurrency {
			st.RevenueCents += r.Amount
			st.CommissionCents += r.Commission
		}
	}
	if st.Clicks, err = client.Click.Query().Where(click.CampaignID(campaignID), clicksIn(w)).Aggregate(countAs("n")).Int(ctx); err != nil {
		return nil, err
	}
	if st.Leads, err = client.Lead.Query().Where(lead.CampaignID(campaignID), leadsIn(w)).Aggregate(countAs("n")).Int(ctx); err != nil {
		return nil, err
	}
	return st, nil
}

// CampaignAffiliateCount counts a campaign's affiliates, every status: one
// COUNT on the (campaign_id, email) index.
func CampaignAffiliateCount(ctx context.Context, client *ent.Client, campaignID string) (int, error) {
	return client.Affiliate.Query().Where(affiliate.CampaignID(campaignID)).Aggregate(countAs("n")).Int(ctx)
}

// SubAffiliate is one affiliate recruited by another, with what the recruit
// earned and what its recruiter earned on it. Money is in minor units of
// Currency, the organization's home currency, over Pending, Approved and
// Paid conversions recorded in it.
type SubAffiliate struct {
	ID        string
	FullName  string
	Email     string
	Slug      string
	Status    affiliate.Status
	CreatedAt time.Time
	// TotalCommissionCents is the commission the recruit's own conversions earned.
	TotalCommissionCents int64
	// OverrideEarnedCents is the recruiter's override on those conversions.
	OverrideEarnedCents int64
	Currency            string
}

// inChunk bounds the IDs in one IN list, well below SQLite's and
// PostgreSQL's bind-parameter limits.
const inChunk = 500

// SubAffiliates lists the affiliates recruited by affiliateID, oldest first.
// An affiliate of another organization is not found.
func SubAffiliates(ctx context.Context, client *ent.Client, affiliateID string) ([]*SubAffiliate, error) {
	recruiter, err := client.Affiliate.Get(ctx, affiliateID)
	if err != nil {
		return nil, err
	}
	org, err := viewerOrg(ctx, client)
	if err != nil {
		return nil, err
	}
	home := org.HomeCurrency
	recruits, err := client.Affiliate.Query().Where(affiliate.RecruitedByID(recruiter.ID)).
		Order(ent.Asc(affiliate.FieldCreatedAt), ent.Asc(affiliate.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*SubAffiliate, len(recruits))
	byID := make(map[string]*SubAffiliate, len(recruits))
	ids := make([]string, len(recruits))
	for i, a := range recruits {
		out[i] = &SubAffiliate{ID: a.ID, FullName: a.FullName, Email: a.Email, Slug: a.Slug,
			Status: a.Status, CreatedAt: a.CreatedAt, Currency: home}
		byID[a.ID] = out[i]
		ids[i] = a.ID
	}
	if len(recruits) == 0 {
		return out, nil
	}

	// The commission each recruit generated: one grouped sum per chunk.
	for start := 0; start < len(ids); start += inChunk {
		chunk := ids[start:min(start+inChunk, len(ids))]
		var rows []struct {
			AffiliateID string `json:"affiliate_id"`
			Commission  int64  `json:"commission"`
		}
		err := client.Conversion.Query().
			Where(conversion.AffiliateIDIn(chunk...), conversion.StatusIn(earning...), conversion.HomeCurrencyEQ(home)).
			GroupBy(conversion.FieldAffiliateID).
			Aggregate(sumOf(conversion.FieldHomeCommissionCents, "commission")).
			Scan(ctx, &rows)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			byID[r.AffiliateID].TotalCommissionCents += r.Commission
		}
	}

	// The recruiter's override. It is recorded in the conversion's own
	// currency: where that is the home currency it is summed in SQL; a
	// conversion in another currency converts it at the conversion's own rate
	// (home commission / commission), row by row, in integers.
	earned := client.Conversion.Query().Where(
		conversion.OverrideAffiliateID(recruiter.ID), conversion.StatusIn(earning...),
		conversion.HomeCurrencyEQ(home), conversion.OverrideCommissionCentsGT(0),
	)
	var same []struct {
		AffiliateID string `json:"affiliate_id"`
		Override    int64  `json:"override"`
	}
	err = earned.Clone().Where(sameCurrency(true)).
		GroupBy(conversion.FieldAffiliateID).
		Aggregate(sumOf(conversion.FieldOverrideCommissionCents, "override")).
		Scan(ctx, &same)
	if err != nil {
		return nil, err
	}
	for _, r := range same {
		if s := byID[r.AffiliateID]; s != nil {
			s.OverrideEarnedCents += r.Override
		}
	}
	var foreign []struct {
		AffiliateID string `json:"affiliate_id"`
		Override    int64  `json:"override_commission_cents"`
		Commission  int64  `json:"commission_cents"`
		Home        int64  `json:"home_commission_cents"`
	}
	err = earned.Clone().Where(sameCurrency(false)).
		Select(conversion.FieldAffiliateID, conversion.FieldOverrideCommissionCents,
			conversion.FieldCommissionCents, conversion.FieldHomeCommissionCents).
		Scan(ctx, &foreign)
	if err != nil {
		return nil, err
	}
	for _, r := range foreign {
		if s := byID[r.AffiliateID]; s != nil && r.Commission != 0 {
			s.OverrideEarnedCents += mulDivRound(r.Override, r.Home, r.Commission)
		}
	}
	return out, nil
}

// sameCurrency selects conversions recorded in (eq) or not in (!eq) the
// home currency they were converted to.
func sameCurrency(eq bool) func(*sql.Selector) {
	return func(s *sql.Selector) {
		if eq {
			s.Where(sql.ColumnsEQ(s.C(conversion.FieldCurrency), s.C(conversion.FieldHomeCurrency)))
		} else {
			s.Where(sql.ColumnsNEQ(s.C(conversion.FieldCurrency), s.C(conversion.FieldHomeCurrency)))
		}
	}
}

// mulDivRound returns a*b/c rounded half away from zero, exactly.
func mulDivRound(a, b, c int64) int64 {
	n := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
	d := big.NewInt(c)
	sign := int64(n.Sign() * d.Sign())
	n.Abs(n)
	d.Abs(d)
	n.Add(n, new(big.Int).Rsh(d, 1))
	return sign * n.Quo(n, d).Int64()
}
