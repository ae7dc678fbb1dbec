package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
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
