package programs

import (
	"context"
	"math"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/campaign"
	"github.com/tandemhq/tandem/ent/organization"
	"github.com/tandemhq/tandem/fault"
)

// NewCampaign is the create_campaign tool's input, in the tool's units:
// DefaultCommissionValue is a percentage (20 = 20%) for a Percentage
// commission and minor units of the organization's home currency (500 =
// $5.00) for a Fixed one. Nil fields take the campaign defaults.
type NewCampaign struct {
	Name                   string
	Slug                   string
	Description            *string
	TermsURL               *string
	DefaultCommissionType  *string
	DefaultCommissionValue *float64
	DefaultCommissionModel *string
	CookieWindowDays       *int
	AttributionModel       *string
	AutoApprove            *bool
	NetworkVisibility      *string
}

// CommissionModels are the models create_campaign accepts: the three a
// campaign stores, then the legacy names other platforms export.
var CommissionModels = []string{"Cps", "Cpc", "Cpl", "Cpa", "RevShare", "Hybrid"}

// The legacy commission models and what each becomes:
//
//   - Cpa (cost per acquisition): a commission per sale, Cps, of either type.
//   - RevShare (a share of revenue): Cps, and the type must be Percentage.
//   - Hybrid (a flat amount plus a share, elsewhere): Cps of the given type;
//     a campaign pays one commission per sale, so pick the part that matters.
//
// Cpc (per click) and Cpl (per lead) pay a Fixed amount: there is no sale to
// take a percentage of.
var legacyModels = map[string]campaign.CommissionModel{
	"cpa":      campaign.CommissionModelCps,
	"revshare": campaign.CommissionModelCps,
	"hybrid":   campaign.CommissionModelCps,
}

// MaxFixedCommission is the largest Fixed commission create_campaign accepts,
// in minor units (10,000,000.00 in a two-decimal currency): larger is a typo.
const MaxFixedCommission = 1_000_000_000

// CreateCampaign creates a campaign from the create_campaign tool's inputs,
// mapping legacy commission models and the value's units, and refusing a
// type/model pairing the campaign could not pay (see legacyModels). Errors
// name the tool's inputs. A slug another campaign of the organization uses
// is refused with CONFLICT slug_already_taken.
func CreateCampaign(ctx context.Context, client *ent.Client, orgID string, in NewCampaign) (*ent.Campaign, error) {
	name := strings.TrimSpace(in.Name)
	if name == "" || utf8.RuneCountInString(name) > 120 {
		return nil, fault.Invalid("name", "must have 1 to 120 characters")
	}
	slug := strings.ToLower(strings.TrimSpace(in.Slug))
	if err := campaign.SlugValidator(slug); err != nil {
		return nil, fault.Invalid("slug", "must be 1 to 64 lowercase letters, digits and single hyphens (like spring-launch), not %q", in.Slug)
	}
	c := client.Campaign.Create().SetName(name).SetSlug(slug)
	if in.Description != nil {
		d := strings.TrimSpace(*in.Description)
		if utf8.RuneCountInString(d) > 4000 {
			return nil, fault.Invalid("description", "may have at most 4000 characters")
		}
		c.SetDescription(d)
	}
	if in.TermsURL != nil && strings.TrimSpace(*in.TermsURL) != "" {
		u := strings.TrimSpace(*in.TermsURL)
		parsed, err := url.Parse(u)
		if err != nil || (parsed.Scheme != "https" && parsed.Scheme != "http") || parsed.Host == "" || len(u) > 2048 {
			return nil, fault.Invalid("termsUrl", "must be an absolute http(s) URL of at most 2048 characters, like https://example.com/affiliate-terms")
		}
		c.SetTermsURL(u)
	}
	typ, model, value, err := commissionOf(in)
	if err != nil {
		return nil, err
	}
	c.SetCommissionType(typ).SetCommissionModel(model).SetCommissionValue(value)
	if in.CookieWindowDays != nil {
		if d := *in.CookieWindowDays; d < 1 || d > 365 {
			return nil, fault.Invalid("cookieWindowDays", "must be between 1 and 365 days, not %d", d)
		}
		c.SetCookieWindowDays(*in.CookieWindowDays)
	}
	if in.AttributionModel != nil {
		m, ok := oneOf(*in.AttributionModel, campaign.AttributionModelLastClick, campaign.AttributionModelFirstClick)
		if !ok {
			return nil, fault.Invalid("attributionModel", "must be LastClick or FirstClick, not %q", *in.AttributionModel)
		}
		c.SetAttributionModel(m)
	}
	if in.AutoApprove != nil {
		c.SetAutoApprove(*in.AutoApprove)
	}
	if in.NetworkVisibility != nil {
		v, ok := oneOf(*in.NetworkVisibility, campaign.NetworkVisibilityPrivate, campaign.NetworkVisibilityPublic)
		if !ok {
			return nil, fault.Invalid("networkVisibility", "must be Private or Public, not %q", *in.NetworkVisibility)
		}
		c.SetNetworkVisibility(v)
	}
	// Fixed commissions are in the currency the organization pays out in.
	home, err := client.Organization.Query().Where(organization.ID(orgID)).Select(organization.FieldHomeCurrency).String(ctx)
	if err != nil {
		return nil, err
	}
	c.SetCurrency(home)
	taken, err := client.Campaign.Query().Where(campaign.Slug(slug)).Exist(ctx)
	if err != nil {
		return nil, err
	}
	if taken {
		return nil, fault.Conflict("slug", "slug_already_taken", "slug %q is already used by another campaign in this organization: choose another", slug)
	}
	return c.Save(ctx)
}

// commissionOf maps the tool's commission inputs to what a campaign stores.
func commissionOf(in NewCampaign) (campaign.CommissionType, campaign.CommissionModel, int64, error) {
	model := campaign.DefaultCommissionModel
	legacy := ""
	if in.DefaultCommissionModel != nil {
		raw := strings.TrimSpace(*in.DefaultCommissionModel)
		if m, ok := oneOf(raw, campaign.CommissionModelCps, campaign.CommissionModelCpc, campaign.CommissionModelCpl); ok {
			model = m
		} else if m, ok := legacyModels[strings.ToLower(raw)]; ok {
			model, legacy = m, strings.ToLower(raw)
		} else {
			return "", "", 0, fault.Invalid("defaultCommissionModel", "must be Cps (per sale), Cpc (per click) or Cpl (per lead); legacy Cpa, RevShare and Hybrid are accepted too; not %q", raw)
		}
	}

	var typ campaign.CommissionType
	typeGiven := in.DefaultCommissionType != nil
	if typeGiven {
		t, ok := oneOf(*in.DefaultCommissionType, campaign.CommissionTypePercentage, campaign.CommissionTypeFixed)
		if !ok {
			return "", "", 0, fault.Invalid("defaultCommissionType", "must be Percentage or Fixed, not %q", *in.DefaultCommissionType)
		}
		typ = t
	}
	switch {
	case model == campaign.CommissionModelCpc || model == campaign.CommissionModelCpl:
		// Never infer Fixed: the value's units depend on the type, so a
		// guessed type would turn "20" (percent) into 20 cents.
		if !typeGiven || typ != campaign.CommissionTypeFixed {
			return "", "", 0, fault.Invalid("defaultCommissionType", "must be Fixed with defaultCommissionModel %s: a click or a lead has no sale amount to take a percentage of; set defaultCommissionType Fixed and defaultCommissionValue in minor units", model)
		}
	case legacy == "revshare":
		if typeGiven && typ != campaign.CommissionTypePercentage {
			return "", "", 0, fault.Invalid("defaultCommissionType", "must be Percentage with defaultCommissionModel RevShare (a share of revenue is a percentage); use Cps with Fixed for a flat amount per sale")
		}
		typ = campaign.CommissionTypePercentage
	case !typeGiven:
		typ = campaign.DefaultCommissionType
	}

	if in.DefaultCommissionValue == nil {
		if typ == campaign.CommissionTypeFixed {
			return "", "", 0, fault.Invalid("defaultCommissionValue", "is required with a Fixed commission: the amount per %s in minor units of the home currency (500 = 5.00)", unitOf(model))
		}
		return typ, model, campaign.DefaultCommissionValue, nil
	}
	v := *in.DefaultCommissionValue
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "", "", 0, fault.Invalid("defaultCommissionValue", "must be a number")
	}
	if typ == campaign.CommissionTypePercentage {
		if v < 0 || v > 100 {
			return "", "", 0, fault.Invalid("defaultCommissionValue", "is a percentage of the sale for a Percentage commission and must be between 0 and 100 (20 = 20%%), not %v", v)
		}
		return typ, model, int64(math.Round(v * 100)), nil
	}
	if v < 0 || v > MaxFixedCommission || v != math.Trunc(v) {
		return "", "", 0, fault.Invalid("defaultCommissionValue", "is an amount in minor units of the home currency for a Fixed commission (500 = 5.00) and must be a whole number from 0 to %d, not %v", int64(MaxFixedCommission), v)
	}
	return typ, model, int64(v), nil
}

func unitOf(m campaign.CommissionModel) string {
	switch m {
	case campaign.CommissionModelCpc:
		return "click"
	case campaign.CommissionModelCpl:
		return "lead"
	}
	return "sale"
}

// oneOf matches s, trimmed and in any case, to one of values.
func oneOf[T ~string](s string, values ...T) (T, bool) {
	s = strings.TrimSpace(s)
	for _, v := range values {
		if strings.EqualFold(s, string(v)) {
			return v, true
		}
	}
	var zero T
	return zero, false
}
