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

// Conversion is a sale (or a qualifying lead or click) credited to an
// affiliate, with the commission it earns. Amounts are kept in the currency
// the customer paid and, converted at the recorded rate, in the
// organization's home currency, so history never changes when rates do.
type Conversion struct {
	ent.Schema
}

// Mixin of the Conversion.
func (Conversion) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("cnv"), OrgMixin{}}
}

// Fields of the Conversion.
func (Conversion) Fields() []ent.Field {
	return []ent.Field{
		field.String("affiliate_id").Immutable(),
		field.String("campaign_id").Immutable(),
		field.String("lead_id").Optional().Nillable().Immutable(),
		field.Enum("type").Values("Sale", "Subscription", "Renewal", "Lead", "Click").Default("Sale"),
		field.Enum("status").Values("Pending", "Approved", "Paid", "Refunded", "Denied").Default("Pending").
			Annotations(entgql.OrderField("STATUS")),
		field.Int64("amount_cents").
			Comment("Sale amount in minor units of currency, as the customer paid it.").
			Annotations(entgql.OrderField("AMOUNT_CENTS")),
		field.String("currency").MaxLen(3).
			Comment("ISO 4217 code of amount_cents and commission_cents."),
		field.Int64("commission_cents").
			Comment("Commission in minor units of currency."),
		field.Int64("home_amount_cents").
			Comment("amount_cents converted to home_currency at fx_rate."),
		field.Int64("home_commission_cents").
			Comment("commission_cents converted to home_currency at fx_rate."),
		field.String("home_currency").MaxLen(3),
		field.Float("fx_rate").Default(1).Positive().
			Comment("Units of home_currency per unit of currency when the conversion was recorded."),
		field.String("override_affiliate_id").Optional().Nillable().
			Comment("The recruiter who earns a sub-affiliate override on this conversion."),
		field.Int64("override_commission_cents").Default(0).NonNegative().
			Comment("The recruiter's override, in minor units of currency."),
		field.String("external_id").Optional().Nillable().Immutable().MaxLen(255).
			Comment("The processor's id for the sale (invoice, order); idempotency key within the organization."),
		field.String("customer_email").Optional().MaxLen(254),
		field.String("customer_name").Optional().MaxLen(200),
		field.String("stripe_customer_id").Optional().MaxLen(255),
		field.String("stripe_subscription_id").Optional().MaxLen(255),
		field.Bool("locked").Default(false).
			Comment("Settled history (a paid row brought in by an import): never paid again, never changed."),
		field.String("import_job_id").Optional().Nillable().Immutable(),
		field.String("payout_line_item_id").Optional().Nillable(),
		field.Time("occurred_at").Immutable().Default(time.Now).
			Annotations(entgql.OrderField("OCCURRED_AT")),
		field.Time("approved_at").Optional().Nillable(),
		field.Time("paid_at").Optional().Nillable(),
	}
}

// Edges of the Conversion.
func (Conversion) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("affiliate", Affiliate.Type).Field("affiliate_id").Unique().Required().Immutable(),
		edge.To("campaign", Campaign.Type).Field("campaign_id").Unique().Required().Immutable(),
		edge.To("lead", Lead.Type).Field("lead_id").Unique().Immutable(),
		edge.To("override_affiliate", Affiliate.Type).Field("override_affiliate_id").Unique(),
		edge.To("import_job", ImportJob.Type).Field("import_job_id").Unique().Immutable(),
		edge.To("payout_line_item", PayoutLineItem.Type).Field("payout_line_item_id").Unique(),
	}
}

// Indexes of the Conversion. Each list the dashboard and the tools page
// through has an index that ends in the key the cursor walks.
func (Conversion) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("org_id", "external_id").Unique(),
		index.Fields("org_id", "status", "id"),
		// The dashboard's sums and series over a range, and a campaign's,
		// read this index only: it holds every column they aggregate.
		index.Fields("org_id", "occurred_at", "status", "home_currency",
			"home_amount_cents", "home_commission_cents", "campaign_id").
			StorageKey("conversion_org_occurred_totals"),
		index.Fields("affiliate_id", "id"),
		// An affiliate's newest conversions, and whether it was active in a range.
		index.Fields("affiliate_id", "occurred_at"),
		index.Fields("campaign_id", "id"),
		index.Fields("payout_line_item_id"),
		index.Fields("lead_id"),
		index.Fields("override_affiliate_id"),
	}
}

// Annotations of the Conversion.
func (Conversion) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
	}
}
