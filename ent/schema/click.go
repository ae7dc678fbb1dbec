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

// Click is one visit through an affiliate's referral link.
type Click struct {
	ent.Schema
}

// Mixin of the Click.
func (Click) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("clk"), OrgMixin{}}
}

// Fields of the Click.
func (Click) Fields() []ent.Field {
	return []ent.Field{
		field.String("affiliate_id").Immutable(),
		field.String("campaign_id").Immutable(),
		field.Time("occurred_at").Immutable().Default(time.Now).
			Annotations(entgql.OrderField("OCCURRED_AT")),
		field.String("landing_url").Optional().Immutable().MaxLen(2048),
		field.String("referrer").Optional().Immutable().MaxLen(2048),
		field.String("attribution_param").Optional().Immutable().MaxLen(32).
			Comment("The URL parameter that carried the referral (ref, via, …)."),
		field.String("visitor_id").Optional().Immutable().MaxLen(64),
		field.String("ip_hash").Optional().Immutable().MaxLen(64).
			Comment("Salted hash of the visitor's IP; the address itself is never stored.").
			Annotations(entgql.Skip()),
		field.String("user_agent").Optional().Immutable().MaxLen(512),
	}
}

// Edges of the Click.
func (Click) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("affiliate", Affiliate.Type).Field("affiliate_id").Unique().Required().Immutable(),
		edge.To("campaign", Campaign.Type).Field("campaign_id").Unique().Required().Immutable(),
	}
}

// Indexes of the Click. Clicks are the largest table; each report that
// counts them reads one of these indexes and never the rows: the dashboard
// by (org_id, occurred_at), a campaign's stats by (org_id, campaign_id,
// occurred_at), an affiliate's totals and "active in the range" by
// (affiliate_id, occurred_at).
func (Click) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("org_id", "occurred_at"),
		index.Fields("org_id", "campaign_id", "occurred_at"),
		index.Fields("affiliate_id", "occurred_at"),
	}
}

// Annotations of the Click.
func (Click) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
	}
}
