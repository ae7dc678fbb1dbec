package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Affiliate is a partner promoting one campaign under a referral slug.
type Affiliate struct {
	ent.Schema
}

// Mixin of the Affiliate.
func (Affiliate) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("aff"), OrgMixin{}}
}

// Fields of the Affiliate.
func (Affiliate) Fields() []ent.Field {
	return []ent.Field{
		field.String("campaign_id").Immutable(),
		field.String("email").NotEmpty().MaxLen(254).
			Annotations(entgql.OrderField("EMAIL")),
		field.String("full_name").Optional().MaxLen(200).
			Annotations(entgql.OrderField("FULL_NAME")),
		field.String("slug").NotEmpty().MaxLen(64).Match(slugPattern).
			Comment("The referral slug in the affiliate's public link; unique in the organization."),
		field.Enum("status").Values("Pending", "Approved", "Rejected", "Blocked").Default("Pending").
			Annotations(entgql.OrderField("STATUS")),
		field.String("paypal_email").Optional().MaxLen(254),
		field.Enum("custom_commission_type").Values("Percentage", "Fixed").Optional().Nillable(),
		field.Int64("custom_commission_value").Optional().Nillable().NonNegative().
			Comment("Overrides the campaign's commission value, in the same units."),
		field.String("recruited_by_id").Optional().Nillable().
			Comment("The affiliate who recruited this one (sub-affiliate programs)."),
		field.Text("notes").Optional().MaxLen(4000),
		field.String("rejection_reason").Optional().MaxLen(1000).
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.String("import_job_id").Optional().Nillable().Immutable().
			Comment("The import that created this affiliate, so the import can be reverted."),
		field.Time("invited_at").Optional().Nillable().
			Comment("When the brand invited this affiliate by email.").
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Time("approved_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Edges of the Affiliate.
func (Affiliate) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("campaign", Campaign.Type).Field("campaign_id").Unique().Required().Immutable(),
		edge.To("recruits", Affiliate.Type).
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)).
			From("recruited_by").Field("recruited_by_id").Unique().
			Annotations(entgql.Skip(entgql.SkipMutationUpdateInput)),
		edge.To("import_job", ImportJob.Type).Field("import_job_id").Unique().Immutable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput)),
		edge.From("conversions", Conversion.Type).Ref("affiliate").
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		edge.From("coupons", Coupon.Type).Ref("affiliate").
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Indexes of the Affiliate.
func (Affiliate) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("org_id", "slug").Unique(),
		index.Fields("campaign_id", "email").Unique(),
		index.Fields("org_id", "status"),
	}
}

// Annotations of the Affiliate.
func (Affiliate) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}
