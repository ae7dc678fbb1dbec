package schema

import (
	"regexp"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Coupon is a discount code that credits sales to a campaign, or, when it
// has an affiliate, to that affiliate.
type Coupon struct {
	ent.Schema
}

// Mixin of the Coupon.
func (Coupon) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("cpn"), OrgMixin{}}
}

// Fields of the Coupon.
func (Coupon) Fields() []ent.Field {
	return []ent.Field{
		field.String("campaign_id").Immutable(),
		field.String("affiliate_id").Optional().Nillable().Immutable().
			Comment("Set for a per-affiliate code; empty for a campaign-level one."),
		field.String("code").Immutable().MaxLen(64).Match(regexp.MustCompile(`^[A-Z0-9][A-Z0-9_-]{1,63}$`)).
			Annotations(entgql.OrderField("CODE")),
		field.String("name").NotEmpty().MaxLen(120),
		field.Float("percent_off").Optional().Nillable().Range(0.01, 100),
		field.Int64("amount_off_cents").Optional().Nillable().Positive(),
		field.String("currency").Optional().MaxLen(3),
		field.Enum("duration").Values("once", "repeating", "forever").Default("once"),
		field.Int("duration_in_months").Optional().Nillable().Range(1, 36),
		field.Int("max_redemptions").Optional().Nillable().Positive(),
		field.Int("times_redeemed").Default(0).NonNegative().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Time("expires_at").Optional().Nillable(),
		field.JSON("metadata", map[string]any{}).Optional().
			Annotations(entgql.Type("Map"), entgql.Skip(entgql.SkipWhereInput)),
		field.Time("revoked_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput)),
	}
}

// Edges of the Coupon.
func (Coupon) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("campaign", Campaign.Type).Field("campaign_id").Unique().Required().Immutable(),
		edge.To("affiliate", Affiliate.Type).Field("affiliate_id").Unique().Immutable(),
	}
}

// Indexes of the Coupon.
func (Coupon) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("org_id", "code").Unique(),
		index.Fields("affiliate_id"),
		index.Fields("campaign_id"),
	}
}

// Annotations of the Coupon.
func (Coupon) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}
