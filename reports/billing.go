package reports

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/tandemhq/tandem/account"
	"github.com/tandemhq/tandem/coupons"
	"github.com/tandemhq/tandem/enrollment"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/mcptoken"
	"github.com/tandemhq/tandem/ent/organization"
	"github.com/tandemhq/tandem/gate"
	"github.com/tandemhq/tandem/imports"
	"github.com/tandemhq/tandem/programs"
	"github.com/tandemhq/tandem/viewer"
)

// BillingState is the organization's plan and payment links, with the
// limits and plan-gated features the code enforces.
type BillingState struct {
	PlanTier           organization.PlanTier
	SubscriptionStatus organization.SubscriptionStatus
	TrialEndsAt        *time.Time
	// StripeCustomerLinked: the organization pays Tandem through Stripe.
	StripeCustomerLinked bool
	// StripeConnectLinked: the organization's own Stripe account is
	// connected, so sales can be tracked from Stripe webhooks.
	StripeConnectLinked bool
	Limits              []BillingLimit
	Features            []PlanFeature
}

// BillingLimit is a cap the code enforces. Used is how much of it the
// organization uses now, nil for a cap on each call.
type BillingLimit struct {
	Key         string
	Description string
	Limit       int
	Used        *int
}

// PlanFeature is a feature behind a plan gate. Available says whether the
// organization's current plan and subscription pass the gate.
type PlanFeature struct {
	Key                      string
	Description              string
	RequiredTier             organization.PlanTier
	PaidSubscriptionRequired bool
	Available                bool
}

// Enforcement is where BillingOf reads what is enforced: the executable
// schema, whose @requiresPlan and @requiresPaidPlan directives are the
// feature gates, and the page-size cap the GraphQL limits apply.
type Enforcement struct {
	Schema      *ast.Schema
	MaxPageSize int
}

// BillingOf returns the viewer's organization's billing state. Its feature
// list is read from the schema's gate directives, so it is never out of step
// with what the gates refuse; the gates applied in Go are added from the
// constants their checks use, and so are the caps.
func BillingOf(ctx context.Context, client *ent.Client, enf Enforcement) (*BillingState, error) {
	org, err := viewerOrg(ctx, client)
	if err != nil {
		return nil, err
	}
	tokens, err := client.MCPToken.Query().Where(mcptoken.RevokedAtIsNil()).Count(ctx)
	if err != nil {
		return nil, err
	}
	st := &BillingState{
		PlanTier:             org.PlanTier,
		SubscriptionStatus:   org.SubscriptionStatus,
		TrialEndsAt:          org.TrialEndsAt,
		StripeCustomerLinked: org.StripeCustomerID != nil && *org.StripeCustomerID != "",
		StripeConnectLinked:  org.StripeConnectAccountID != nil && *org.StripeConnectAccountID != "",
		Limits: []BillingLimit{
			{Key: "mcpTokens", Description: "Active (unrevoked) MCP tokens the organization may hold; revoke one to mint another.",
				Limit: account.MaxActiveMCPTokens, Used: &tokens},
		},
	}
	if enf.MaxPageSize > 0 {
		st.Limits = append(st.Limits, BillingLimit{Key: "pageSize",
			Description: "Items one page of a list may hold (take).", Limit: enf.MaxPageSize})
	}
	st.Limits = append(st.Limits,
		BillingLimit{Key: "bulkInviteRecipients", Limit: enrollment.MaxBulkInvites,
			Description: "Recipients one bulk_invite_affiliates call takes; send longer lists in batches."},
		BillingLimit{Key: "importRows", Limit: imports.MaxRows,
			Description: "Rows one import_affiliates or import_conversions call takes; import larger sets in batches."},
		BillingLimit{Key: "activeCouponsPerAffiliate", Limit: coupons.MaxActiveAffiliateCoupons,
			Description: "Unrevoked per-affiliate coupon codes one affiliate may hold."},
		BillingLimit{Key: "activeEmbedTokensPerAffiliate", Limit: enrollment.MaxActiveEmbedsPer,
			Description: "Unexpired dashboard embed tokens one affiliate may hold."},
	)
	// The gates judge the organization as it is now, not the viewer's
	// snapshot taken when the request was authenticated.
	as := &viewer.Viewer{Plan: string(org.PlanTier), SubscriptionStatus: string(org.SubscriptionStatus)}
	st.Features = append(schemaGates(enf.Schema, as), codeGates(as)...)
	return st, nil
}

// codeGates are the plan gates applied in Go rather than by a schema
// directive, because they depend on the caller or an argument. Each names
// the constant its check uses.
func codeGates(as *viewer.Viewer) []PlanFeature {
	gates := []PlanFeature{
		{Key: "publicApi", RequiredTier: organization.PlanTier(gate.PublicAPITier),
			Description: "Call the public API (/api/v1) directly with an API key. MCP-relayed calls are exempt."},
		{Key: "importWithApiKey", RequiredTier: organization.PlanTier(imports.ImportTier),
			Description: "Import affiliates or conversions directly with an API key. Dashboard and MCP-relayed imports are exempt."},
		{Key: "importNotifyAffiliates", RequiredTier: organization.PlanTier(imports.NotifyTier), PaidSubscriptionRequired: true,
			Description: "Email imported affiliates (notifyAffiliates on import_affiliates)."},
	}
	for i, g := range gates {
		check := gate.RequirePlan
		if g.PaidSubscriptionRequired {
			check = gate.RequirePaidPlan
		}
		gates[i].Available = check(as, string(g.RequiredTier)) == nil
	}
	return gates
}

// schemaGates lists every field of the schema behind @requiresPlan or
// @requiresPaidPlan, sorted by key: a root field is keyed by its name
// (setHomeCurrency), any other by Type.field.
func schemaGates(schema *ast.Schema, as *viewer.Viewer) []PlanFeature {
	if schema == nil {
		return nil
	}
	var out []PlanFeature
	for _, def := range schema.Types {
		if def.Kind != ast.Object || strings.HasPrefix(def.Name, "__") {
			continue
		}
		for _, f := range def.Fields {
			for _, d := range f.Directives {
				paid := d.Name == "requiresPaidPlan"
				if d.Name != "requiresPlan" && !paid {
					continue
				}
				tier := ""
				if a := d.Arguments.ForName("tier"); a != nil && a.Value != nil {
					tier = a.Value.Raw
				}
				key := def.Name + "." + f.Name
				if def == schema.Query || def == schema.Mutation {
					key = f.Name
				}
				check := gate.RequirePlan
				if paid {
					check = gate.RequirePaidPlan
				}
				out = append(out, PlanFeature{
					Key:                      key,
					Description:              firstParagraph(f.Description),
					RequiredTier:             organization.PlanTier(tier),
					PaidSubscriptionRequired: paid,
					Available:                check(as, tier) == nil,
				})
			}
		}
	}
	slices.SortFunc(out, func(a, b PlanFeature) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// firstParagraph returns a schema description's first paragraph on one line.
func firstParagraph(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "\n\n"); i >= 0 {
		s = s[:i]
	}
	return strings.Join(strings.Fields(s), " ")
}

// HomeCurrencySettings is the organization's home currency, the currencies
// it may choose, and whether the viewer may change it.
type HomeCurrencySettings struct {
	HomeCurrency string
	Supported    []string
	CanChange    bool
	RequiredTier organization.PlanTier
	// Reason says why CanChange is false; nil when it is true.
	Reason *string
}

// HomeCurrencyTier is the plan that may change the home currency; it matches
// the @requiresPlan gate on setHomeCurrency.
const HomeCurrencyTier = "Pro"

// HomeCurrencyOf returns the viewer's organization's home currency settings.
func HomeCurrencyOf(ctx context.Context, client *ent.Client) (*HomeCurrencySettings, error) {
	org, err := viewerOrg(ctx, client)
	if err != nil {
		return nil, err
	}
	v := viewer.FromContext(ctx)
	hs := &HomeCurrencySettings{
		HomeCurrency: org.HomeCurrency,
		Supported:    slices.Clone(programs.SupportedHomeCurrencies),
		RequiredTier: organization.PlanTier(HomeCurrencyTier),
	}
	var reason string
	switch err := gate.RequirePlan(v, HomeCurrencyTier); {
	case err != nil:
		reason = err.Error()
	case !v.CanWrite():
		reason = "only an organization owner or admin may change the home currency"
	default:
		hs.CanChange = true
	}
	if reason != "" {
		hs.Reason = &reason
	}
	return hs, nil
}
