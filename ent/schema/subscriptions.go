package schema

// The Subscriptions product (seed 004): a person's memory of their
// subscriptions. Everything here belongs to one person (PersonMixin), the
// way everything in Programs belongs to one organization (OrgMixin).

import (
	"regexp"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"entgo.io/ent/schema/mixin"

	"github.com/tandemhq/tandem/ent/schema/rule"
)

// isoDate is how a calendar date (a trial's end) is stored: as the seed
// sends it, YYYY-MM-DD, which also sorts and compares as text.
var isoDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// PersonMixin makes an entity belong to one person: user_id is set from the
// viewer on create and never changes, and the policy scopes every query and
// mutation to the viewer's own rows.
type PersonMixin struct {
	mixin.Schema
}

// Fields of the PersonMixin.
func (PersonMixin) Fields() []ent.Field {
	return []ent.Field{
		field.String("user_id").Immutable().NotEmpty().Annotations(entgql.Skip()),
	}
}

// Edges of the PersonMixin.
func (PersonMixin) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("user", User.Type).Field("user_id").Unique().Required().Immutable().
			Annotations(entsql.OnDelete(entsql.Cascade),
				entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput, entgql.SkipOrderField)),
	}
}

// Indexes of the PersonMixin: every list is one person's, in ID order.
func (PersonMixin) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "id")}
}

// Hooks of the PersonMixin.
func (PersonMixin) Hooks() []ent.Hook {
	return []ent.Hook{rule.SetPersonOnCreate()}
}

// Policy of the PersonMixin.
func (PersonMixin) Policy() ent.Policy {
	return rule.PersonScopedPolicy()
}

// Subscription is one service a person pays for (or is trialling).
type Subscription struct {
	ent.Schema
}

// Mixin of the Subscription.
func (Subscription) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("sub"), PersonMixin{}}
}

// Fields of the Subscription.
func (Subscription) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200).
			Annotations(entgql.OrderField("NAME")),
		field.String("normalized_name").NotEmpty().MaxLen(200).
			Comment("The name as catalog.Normalize spells it: ingests dedupe on it."),
		field.String("provider_key").Optional().MaxLen(64).
			Comment("The catalog provider the name matched, if any."),
		field.Int64("amount_cents").NonNegative().
			Comment("The monthly price in minor units of currency.").
			Annotations(entgql.OrderField("AMOUNT")),
		field.String("currency").Default("USD").MinLen(3).MaxLen(3),
		field.Int("bill_day").Optional().Nillable().Range(1, 31).
			Comment("Day of the month the bill arrives."),
		field.String("bill_date_text").Optional().MaxLen(64).
			Comment("The bill date as given when it was not a day of the month (e.g. \"every other Friday\")."),
		field.Enum("status").Values("active", "paused", "cancelled").Default("active"),
		field.Time("paused_until").Optional().Nillable(),
		field.String("trial_end_date").Optional().Nillable().Match(isoDate).
			Comment("YYYY-MM-DD; lights up the trial reminders and proactive tasks."),
		field.Enum("card_network").Values("visa", "mastercard", "amex", "discover").Optional().Nillable().
			Comment("Only when the source explicitly knew it; never guessed."),
		field.String("category").Optional().MaxLen(40),
		field.String("source").NotEmpty().MaxLen(64).
			Comment("Who told us: mcp, dashboard, or partner:<source>."),
		field.Time("last_used_at").Optional().Nillable().
			Comment("The last sign the person used the service (dormancy)."),
		field.Time("last_charged_at").Optional().Nillable().
			Comment("The last charge seen (dormancy, price history)."),
		field.Time("cancelled_at").Optional().Nillable(),
	}
}

// Edges of the Subscription.
func (Subscription) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("price_points", PricePoint.Type).Ref("subscription").
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		edge.From("cancellation_intents", CancellationIntent.Type).Ref("subscription").
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		edge.From("reminders", TrialReminder.Type).Ref("subscription").
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the Subscription.
func (Subscription) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "normalized_name").Unique(),
		index.Fields("trial_end_date"),
	}
}

// Annotations of the Subscription. GraphQL reserves "Subscription" for its
// subscription root type, so the API calls it UserSubscription.
func (Subscription) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Type("UserSubscription"), entgql.RelayConnection(), entgql.QueryField("userSubscriptions")}
}

// PricePoint is one observed price of a subscription: the history that
// price-hike detection reads.
type PricePoint struct {
	ent.Schema
}

// Mixin of the PricePoint.
func (PricePoint) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("prc"), PersonMixin{}}
}

// Fields of the PricePoint.
func (PricePoint) Fields() []ent.Field {
	return []ent.Field{
		field.String("subscription_id").Immutable().NotEmpty(),
		field.Int64("amount_cents").NonNegative().Immutable(),
		field.String("currency").Immutable().MinLen(3).MaxLen(3),
		field.Time("observed_at").Immutable().Annotations(entgql.OrderField("OBSERVED_AT")),
		field.String("source").Immutable().NotEmpty().MaxLen(64),
	}
}

// Edges of the PricePoint.
func (PricePoint) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("subscription", Subscription.Type).Field("subscription_id").Unique().Required().Immutable().
			Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

// Indexes of the PricePoint.
func (PricePoint) Indexes() []ent.Index {
	return []ent.Index{index.Fields("subscription_id", "observed_at")}
}

// Annotations of the PricePoint.
func (PricePoint) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

// CancellationIntent records that a person asked how to cancel a
// subscription (kordi_get_cancellation_route).
type CancellationIntent struct {
	ent.Schema
}

// Mixin of the CancellationIntent.
func (CancellationIntent) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("cxi"), PersonMixin{}}
}

// Fields of the CancellationIntent.
func (CancellationIntent) Fields() []ent.Field {
	return []ent.Field{
		field.String("subscription_id").Immutable().NotEmpty(),
		field.String("provider_key").Optional().Immutable().MaxLen(64),
		field.String("url").Immutable().NotEmpty().MaxLen(2048),
		field.Enum("kind").Values("cancel", "account", "search").Immutable().
			Comment("What the link is: the provider's cancel page, its account page, or a search when the catalog has neither."),
		field.String("source").Immutable().NotEmpty().MaxLen(64),
	}
}

// Edges of the CancellationIntent.
func (CancellationIntent) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("subscription", Subscription.Type).Field("subscription_id").Unique().Required().Immutable().
			Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

// Annotations of the CancellationIntent.
func (CancellationIntent) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

// TrialReminder is one trial-ending email: the unique index on
// (subscription, kind, trial end) is what makes each reminder fire once.
type TrialReminder struct {
	ent.Schema
}

// Mixin of the TrialReminder.
func (TrialReminder) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("rmd"), PersonMixin{}}
}

// Fields of the TrialReminder.
func (TrialReminder) Fields() []ent.Field {
	return []ent.Field{
		field.String("subscription_id").Immutable().NotEmpty(),
		field.Enum("kind").Values("trial_3d", "trial_1d").Immutable(),
		field.String("trial_end_date").Immutable().Match(isoDate),
		field.String("outbox_message_id").Optional().Immutable(),
	}
}

// Edges of the TrialReminder.
func (TrialReminder) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("subscription", Subscription.Type).Field("subscription_id").Unique().Required().Immutable().
			Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

// Indexes of the TrialReminder.
func (TrialReminder) Indexes() []ent.Index {
	return []ent.Index{index.Fields("subscription_id", "kind", "trial_end_date").Unique()}
}

// Annotations of the TrialReminder.
func (TrialReminder) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Provider is one service in the catalog (subscriptions/catalog keeps the
// list and syncs it here at startup): aliases for matching names, and the
// cancel and account pages a cancellation route links to.
type Provider struct {
	ent.Schema
}

// Mixin of the Provider.
func (Provider) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("prv")}
}

// Fields of the Provider.
func (Provider) Fields() []ent.Field {
	return []ent.Field{
		field.String("key").Unique().NotEmpty().MaxLen(64).Annotations(entgql.OrderField("KEY")),
		field.String("name").NotEmpty().MaxLen(120).Annotations(entgql.OrderField("NAME")),
		field.Strings("aliases").Optional(),
		field.String("category").NotEmpty().MaxLen(40),
		field.String("cancel_url").Optional().MaxLen(2048),
		field.String("account_url").Optional().MaxLen(2048),
		field.String("cadence").Default("monthly").MaxLen(16),
	}
}

// Annotations of the Provider.
func (Provider) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.QueryField()}
}

// Policy of the Provider: anyone reads the catalog, only the system writes it.
func (Provider) Policy() ent.Policy { return rule.ReadableBySignedIn() }

// Show is a title people swipe on in discovery; shared by everyone.
type Show struct {
	ent.Schema
}

// Mixin of the Show.
func (Show) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("shw")}
}

// Fields of the Show.
func (Show) Fields() []ent.Field {
	return []ent.Field{
		field.String("title").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("TITLE")),
		field.String("normalized_title").Unique().NotEmpty().MaxLen(200),
		field.String("provider_key").Optional().MaxLen(64).
			Comment("The catalog service it streams on, when known."),
	}
}

// Annotations of the Show.
func (Show) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

// Policy of the Show: anyone reads titles; shows are created by the system
// when someone first swipes on one.
func (Show) Policy() ent.Policy { return rule.ReadableBySignedIn() }

// Swipe is a person's like or pass on a show.
type Swipe struct {
	ent.Schema
}

// Mixin of the Swipe.
func (Swipe) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("swp"), PersonMixin{}}
}

// Fields of the Swipe.
func (Swipe) Fields() []ent.Field {
	return []ent.Field{
		field.String("show_id").Immutable().NotEmpty(),
		field.Bool("liked"),
		field.String("source").NotEmpty().MaxLen(64),
	}
}

// Edges of the Swipe.
func (Swipe) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("show", Show.Type).Field("show_id").Unique().Required().Immutable().
			Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

// Indexes of the Swipe: one swipe per person and show (swiping again
// changes it), and the leaderboard's scan by show.
func (Swipe) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "show_id").Unique(),
		index.Fields("show_id", "liked"),
	}
}

// Annotations of the Swipe.
func (Swipe) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

// DiscoveryEvent is one thing a person discovered through a source (a
// partner, a search, a friend): the analytics count volume by source.
type DiscoveryEvent struct {
	ent.Schema
}

// Mixin of the DiscoveryEvent.
func (DiscoveryEvent) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("dsc"), PersonMixin{}}
}

// Fields of the DiscoveryEvent.
func (DiscoveryEvent) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("kind").Values("subscription", "show").Immutable(),
		field.String("source").Immutable().NotEmpty().MaxLen(64),
		field.String("subject_id").Optional().Immutable().MaxLen(40).
			Comment("The subscription or show discovered."),
	}
}

// Indexes of the DiscoveryEvent.
func (DiscoveryEvent) Indexes() []ent.Index {
	return []ent.Index{index.Fields("source")}
}

// Annotations of the DiscoveryEvent.
func (DiscoveryEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

// PartnerSource is a partner that provisions people through
// /api/guest-ingest: its key (stored as a SHA-256) authenticates this
// source and no other.
type PartnerSource struct {
	ent.Schema
}

// Mixin of the PartnerSource.
func (PartnerSource) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("src")}
}

// Fields of the PartnerSource.
func (PartnerSource) Fields() []ent.Field {
	return []ent.Field{
		field.String("source").Unique().NotEmpty().MaxLen(64).
			Comment("The label partners send as \"source\" and emails show."),
		field.String("name").Optional().MaxLen(120),
		field.String("key_hash").Unique().Sensitive().Annotations(entgql.Skip()),
		field.String("hint").MaxLen(32),
		field.Time("revoked_at").Optional().Nillable(),
	}
}

// Annotations of the PartnerSource.
func (PartnerSource) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the PartnerSource: system only (the CLI creates them, the
// guest-ingest shim checks keys as the system).
func (PartnerSource) Policy() ent.Policy { return rule.SystemOnly() }

// UserToken is a person's Subscriptions token for /mcp: 90 days when they
// mint it themselves, 30 when a partner's provisioning returned it.
type UserToken struct {
	ent.Schema
}

// Mixin of the UserToken.
func (UserToken) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("utk"), PersonMixin{}}
}

// Fields of the UserToken.
func (UserToken) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(100),
		field.String("secret_hash").Unique().Immutable().Sensitive().Annotations(entgql.Skip()),
		field.String("hint").Immutable().MaxLen(32),
		field.Time("expires_at").Immutable(),
		field.String("partner_source_id").Optional().Nillable().Immutable().
			Comment("Set when a partner's provisioning issued it: claiming the account revokes such tokens."),
		field.Time("last_used_at").Optional().Nillable(),
		field.Time("revoked_at").Optional().Nillable(),
	}
}

// Indexes of the UserToken.
func (UserToken) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "revoked_at")}
}

// Annotations of the UserToken.
func (UserToken) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
