package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Lead is a signup tied to a referral before any payment, so a later sale is
// credited even when the click cookie is gone.
type Lead struct {
	ent.Schema
}

// Mixin of the Lead.
func (Lead) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("led"), OrgMixin{}}
}

// Fields of the Lead.
func (Lead) Fields() []ent.Field {
	return []ent.Field{
		field.String("affiliate_id").Immutable(),
		field.String("campaign_id").Immutable(),
		field.String("email").NotEmpty().MaxLen(254).
			Annotations(entgql.OrderField("EMAIL")),
		field.String("name").Optional().MaxLen(200),
		field.Enum("source").Values("Manual", "Api", "Mcp", "Stripe", "Paddle", "Pixel", "Import").Default("Manual"),
		field.Time("occurred_at").Default(time.Now).
			Annotations(entgql.OrderField("OCCURRED_AT")),
	}
}

// Edges of the Lead.
func (Lead) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("affiliate", Affiliate.Type).Field("affiliate_id").Unique().Required().Immutable(),
		edge.To("campaign", Campaign.Type).Field("campaign_id").Unique().Required().Immutable(),
	}
}

// Indexes of the Lead.
func (Lead) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("campaign_id", "email").Unique(),
		index.Fields("org_id", "occurred_at"),
		// An affiliate's leads, and whether it was active in a range.
		index.Fields("affiliate_id", "occurred_at"),
	}
}

// Annotations of the Lead.
func (Lead) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
	}
}
