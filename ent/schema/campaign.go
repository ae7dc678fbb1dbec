package schema

import (
	"context"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	gen "github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/campaign"
	"github.com/tandemhq/tandem/ent/hook"
	"github.com/tandemhq/tandem/fault"
)

// Campaign is a referral program: its commission rules, cookie window and
// attribution, and who may join it.
type Campaign struct {
	ent.Schema
}

// Mixin of the Campaign.
func (Campaign) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("cmp"), OrgMixin{}}
}

// Fields of the Campaign.
func (Campaign) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(120).
			Annotations(entgql.OrderField("NAME")),
		field.String("slug").NotEmpty().MaxLen(64).Match(slugPattern).
			Annotations(entgql.OrderField("SLUG")),
		field.Text("description").Optional().MaxLen(4000),
		field.String("terms_url").Optional().MaxLen(2048),
		field.Enum("status").Values("Active", "Paused", "Archived").Default("Active").
			Annotations(entgql.OrderField("STATUS")),
		field.Enum("commission_type").Values("Percentage", "Fixed").Default("Percentage"),
		field.Int64("commission_value").Default(2000).NonNegative().
			Comment("Basis points of the sale when commission_type is Percentage (2000 = 20%); minor units of the campaign currency when Fixed."),
		field.Enum("commission_model").Values("Cps", "Cpc", "Cpl").Default("Cps").
			Comment("What earns a commission: a sale, a click or a lead."),
		field.String("currency").Default("USD").MaxLen(3).
			Comment("ISO 4217 code of fixed commissions."),
		field.Int("cookie_window_days").Default(30).Range(1, 365),
		field.Enum("attribution_model").Values("LastClick", "FirstClick").Default("LastClick"),
		field.Bool("auto_approve").Default(false).
			Comment("Approve affiliate applications without review."),
		field.Enum("network_visibility").Values("Private", "Public").Default("Private"),
		// Sub-affiliate settings are a Pro feature for owners: they change only
		// through setCampaignSubAffiliateConfig, where the gates are.
		field.Bool("sub_affiliates_enabled").Default(false).
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Int("sub_affiliate_override_bps").Default(0).Range(0, 10000).
			Comment("A recruiter's override on each recruit's commission, in basis points (1000 = 10%).").
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Bool("coupon_self_mint").Default(false).
			Comment("Affiliates may mint their own coupon codes on this campaign."),
	}
}

// Edges of the Campaign.
func (Campaign) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("affiliates", Affiliate.Type).Ref("campaign").
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		edge.From("coupons", Coupon.Type).Ref("campaign").
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Indexes of the Campaign.
func (Campaign) Indexes() []ent.Index {
	return []ent.Index{index.Fields("org_id", "slug").Unique()}
}

// Annotations of the Campaign.
func (Campaign) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}

// Hooks of the Campaign.
func (Campaign) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(commissionRules, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne),
	}
}

// MaxPercentageBps is the largest Percentage commission: 100% of the sale.
const MaxPercentageBps = 10000

// CheckCommission is the commission pairing rule every campaign obeys, on
// every surface: a click (Cpc) or a lead (Cpl) has no sale amount to take a
// percentage of, so those models pay a Fixed amount; and a Percentage is at
// most 100% of the sale. It names the generated inputs' fields; the
// create_campaign tool checks its own inputs first, with its own names.
func CheckCommission(typ campaign.CommissionType, model campaign.CommissionModel, value int64) error {
	if (model == campaign.CommissionModelCpc || model == campaign.CommissionModelCpl) && typ != campaign.CommissionTypeFixed {
		return fault.Invalid("commissionType", "must be Fixed when commissionModel is %s: a click or a lead has no sale amount to take a percentage of", model)
	}
	if typ == campaign.CommissionTypePercentage && value > MaxPercentageBps {
		return fault.Invalid("commissionValue", "is in basis points for a Percentage commission (2000 = 20%%) and must be at most %d (100%%)", MaxPercentageBps)
	}
	return nil
}

// commissionRules applies CheckCommission to the values a campaign will have
// after the mutation: the ones it sets, else the current (or default) ones.
func commissionRules(next ent.Mutator) ent.Mutator {
	return hook.CampaignFunc(func(ctx context.Context, m *gen.CampaignMutation) (gen.Value, error) {
		typ, typSet := m.CommissionType()
		model, modelSet := m.CommissionModel()
		value, valueSet := m.CommissionValue()
		if !typSet && !modelSet && !valueSet {
			return next.Mutate(ctx, m)
		}
		check := func(t campaign.CommissionType, md campaign.CommissionModel, v int64) error {
			if typSet {
				t = typ
			}
			if modelSet {
				md = model
			}
			if valueSet {
				v = value
			}
			return CheckCommission(t, md, v)
		}
		switch {
		case m.Op().Is(ent.OpCreate):
			if err := check(campaign.DefaultCommissionType, campaign.DefaultCommissionModel, campaign.DefaultCommissionValue); err != nil {
				return nil, err
			}
		case m.Op().Is(ent.OpUpdateOne):
			// The Old* getters read the row once, under the same privacy rules.
			t, err := m.OldCommissionType(ctx)
			if err != nil {
				return nil, err
			}
			md, err := m.OldCommissionModel(ctx)
			if err != nil {
				return nil, err
			}
			v, err := m.OldCommissionValue(ctx)
			if err != nil {
				return nil, err
			}
			if err := check(t, md, v); err != nil {
				return nil, err
			}
		default:
			ids, err := m.IDs(ctx)
			if err != nil {
				return nil, err
			}
			olds, err := m.Client().Campaign.Query().Where(campaign.IDIn(ids...)).All(ctx)
			if err != nil {
				return nil, err
			}
			for _, old := range olds {
				if err := check(old.CommissionType, old.CommissionModel, old.CommissionValue); err != nil {
					return nil, err
				}
			}
		}
		return next.Mutate(ctx, m)
	})
}
