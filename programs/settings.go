// Package programs holds the Programs product's business rules that are more
// than a generated create or update: settings with allowlists and units.
package programs

import (
	"context"
	"math"
	"slices"
	"strings"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/fault"
)

// SupportedHomeCurrencies are the ISO 4217 codes an organization may report
// and pay out in: the currencies of the payout rails we support.
var SupportedHomeCurrencies = []string{
	"AUD", "BRL", "CAD", "CHF", "CZK", "DKK", "EUR", "GBP", "HKD", "HUF", "ILS", "INR",
	"JPY", "KRW", "MXN", "NOK", "NZD", "PHP", "PLN", "SEK", "SGD", "THB", "TWD", "USD", "ZAR",
}

// SetHomeCurrency changes the organization's home currency. Setting the
// current value writes nothing (and so leaves no audit row): it is idempotent.
// Conversions keep their native amounts and the home amounts they were
// recorded with.
func SetHomeCurrency(ctx context.Context, client *ent.Client, orgID, code string) (*ent.Organization, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if !slices.Contains(SupportedHomeCurrencies, code) {
		return nil, fault.Invalid("homeCurrency", "must be one of %s (ISO 4217)", strings.Join(SupportedHomeCurrencies, ", "))
	}
	org, err := client.Organization.Get(ctx, orgID)
	if err != nil || org.HomeCurrency == code {
		return org, err
	}
	return client.Organization.UpdateOne(org).SetHomeCurrency(code).Save(ctx)
}

// SetSubAffiliateConfig turns sub-affiliate recruiting on a campaign on or
// off and sets the recruiter's override as a percentage (0–100, two decimals)
// of each recruit's commission.
func SetSubAffiliateConfig(ctx context.Context, client *ent.Client, campaignID string, enabled bool, percent float64) (*ent.Campaign, error) {
	if math.IsNaN(percent) || percent < 0 || percent > 100 {
		return nil, fault.Invalid("percent", "must be between 0 and 100")
	}
	bps := int(math.Round(percent * 100))
	return client.Campaign.UpdateOneID(campaignID).
		SetSubAffiliatesEnabled(enabled).
		SetSubAffiliateOverrideBps(bps).
		Save(ctx)
}
