package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"github.com/tandemhq/tandem/ent/schema/rule"
)

// User is a person who signs in to the dashboard. A user belongs to
// organizations through memberships, so users themselves carry no org_id.
type User struct {
	ent.Schema
}

// Mixin of the User.
func (User) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("usr")}
}

// Fields of the User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("email").Unique().NotEmpty().MaxLen(254).
			Annotations(entgql.OrderField("EMAIL")),
		field.String("full_name").Optional().MaxLen(200),
		field.Time("email_verified_at").Optional().Nillable(),
		field.String("password_hash").Optional().Sensitive().
			Comment("argon2id in PHC format; empty for users who only sign in by email link.").
			Annotations(entgql.Skip()),
		field.Bool("is_admin").Default(false).
			Comment("A Tandem operator (tandem user grant-admin): may read whole-database aggregates.").
			Annotations(entgql.Skip()),
		field.Enum("subscriptions_tier").Values("free", "plus").Default("free").
			Comment("The person's Subscriptions tier: set by the server (billing), never by a request.").
			Annotations(entgql.Skip()),
		field.String("provisioned_by_source_id").Optional().Nillable().Immutable().
			Comment("Set for a shadow account a partner created through guest-ingest.").
			Annotations(entgql.Skip()),
		field.Time("claimed_at").Optional().Nillable().
			Comment("When the person claimed a partner-created (shadow) account by verifying their email.").
			Annotations(entgql.Skip()),
		field.Int("session_version").Default(0).NonNegative().
			Comment("Sessions signed with an older version are refused: bumping it signs the user out everywhere.").
			Annotations(entgql.Skip()),
	}
}

// Edges of the User.
func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("memberships", Membership.Type).Ref("user").
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Annotations of the User.
func (User) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
	}
}

// Policy of the User: a viewer sees the members of its own organization.
func (User) Policy() ent.Policy {
	return rule.UserPolicy()
}
