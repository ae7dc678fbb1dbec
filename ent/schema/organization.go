package schema

import (
	"regexp"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"

	"github.com/tandemhq/tandem/ent/schema/rule"
)

// slugPattern is the shape of every slug in Tandem: lowercase words joined by
// single hyphens, so a slug is safe in a URL and in a referral link.
var slugPattern = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// Organization is a brand that runs affiliate programs: the tenant.
type Organization struct {
	ent.Schema
}

// Mixin of the Organization.
func (Organization) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("org")}
}

// Fields of the Organization.
func (Organization) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(120).
			Annotations(entgql.OrderField("NAME")),
		field.String("slug").Unique().Immutable().MaxLen(64).Match(slugPattern).
			Annotations(entgql.OrderField("SLUG")),
		field.String("brand_color").Default("#4f46e5").Match(regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)).
			Comment("Hex colour used in branded emails and embeds."),
		field.String("logo_url").Optional().MaxLen(2048),
		field.Text("description").Optional().MaxLen(4000),
		field.Enum("plan_tier").Values("Free", "Trial", "Starter", "Growth", "Pro").Default("Trial").
			Annotations(entgql.Skip(entgql.SkipMutationUpdateInput), entgql.OrderField("PLAN_TIER")),
		field.Enum("subscription_status").
			Values("none", "trialing", "active", "past_due", "canceled", "unpaid").Default("trialing").
			Annotations(entgql.Skip(entgql.SkipMutationUpdateInput)),
		field.Time("trial_ends_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipMutationUpdateInput)),
		field.Int("payout_grace_days").Default(30).Range(0, 365).
			Comment("Approved commissions become payable this many days after the sale (refund window)."),
		field.String("home_currency").Default("USD").Match(regexp.MustCompile(`^[A-Z]{3}$`)).
			Comment("ISO 4217 code that reports and payouts are expressed in.").
			Annotations(entgql.Skip(entgql.SkipMutationUpdateInput)),
		field.Strings("custom_attribution_params").Optional().
			Comment("Brand-specific referral URL parameters, tried before the canonical defaults.").
			Annotations(entgql.Skip(entgql.SkipMutationUpdateInput)),
		field.String("pixel_public_key").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.String("stripe_customer_id").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.String("stripe_connect_account_id").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Time("suspended_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.String("suspended_reason").Optional().MaxLen(1000).
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Annotations of the Organization.
func (Organization) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
		entgql.Mutations(entgql.MutationUpdate()),
	}
}

// Policy of the Organization: a viewer sees and changes only its own.
func (Organization) Policy() ent.Policy {
	return rule.OrganizationPolicy()
}
