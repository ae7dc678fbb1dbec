package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// PayoutBatch pays many affiliates their approved commissions at once.
type PayoutBatch struct {
	ent.Schema
}

// Mixin of the PayoutBatch.
func (PayoutBatch) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("pay"), OrgMixin{}}
}

// Fields of the PayoutBatch.
func (PayoutBatch) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("status").Values("Pending", "Processing", "Paid", "Failed").Default("Pending").
			Annotations(entgql.OrderField("STATUS")),
		field.String("currency").MaxLen(3),
		field.Int64("total_cents").Default(0).NonNegative(),
		field.Int("line_count").Default(0).NonNegative(),
		field.String("campaign_id").Optional().Nillable().Immutable().
			Comment("Set when the batch pays one campaign only."),
		field.Time("paid_at").Optional().Nillable(),
		field.String("failure_reason").Optional().MaxLen(1000),
	}
}

// Edges of the PayoutBatch.
func (PayoutBatch) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("line_items", PayoutLineItem.Type).Ref("batch").
			Annotations(entgql.RelayConnection()),
		edge.To("campaign", Campaign.Type).Field("campaign_id").Unique().Immutable(),
	}
}

// Indexes of the PayoutBatch.
func (PayoutBatch) Indexes() []ent.Index {
	return []ent.Index{index.Fields("org_id", "status", "id")}
}

// Annotations of the PayoutBatch.
func (PayoutBatch) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
	}
}

// PayoutLineItem is one affiliate's share of a payout batch.
type PayoutLineItem struct {
	ent.Schema
}

// Mixin of the PayoutLineItem.
func (PayoutLineItem) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("pli"), OrgMixin{}}
}

// Fields of the PayoutLineItem.
func (PayoutLineItem) Fields() []ent.Field {
	return []ent.Field{
		field.String("batch_id").Immutable(),
		field.String("affiliate_id").Immutable(),
		field.Enum("status").Values("Pending", "Processing", "Paid", "Failed").Default("Pending"),
		field.Int64("amount_cents").NonNegative(),
		field.String("currency").MaxLen(3),
		field.Int("conversion_count").Default(0).NonNegative(),
		field.String("paypal_email").Optional().MaxLen(254),
		field.String("failure_reason").Optional().MaxLen(1000),
	}
}

// Edges of the PayoutLineItem.
func (PayoutLineItem) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("batch", PayoutBatch.Type).Field("batch_id").Unique().Required().Immutable(),
		edge.To("affiliate", Affiliate.Type).Field("affiliate_id").Unique().Required().Immutable(),
		edge.From("conversions", Conversion.Type).Ref("payout_line_item").
			Annotations(entgql.RelayConnection()),
	}
}

// Indexes of the PayoutLineItem.
func (PayoutLineItem) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("batch_id", "affiliate_id").Unique(),
		index.Fields("affiliate_id"),
	}
}

// Annotations of the PayoutLineItem.
func (PayoutLineItem) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
	}
}
