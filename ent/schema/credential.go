package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/tandemhq/tandem/ent/schema/rule"
)

// credentialFields are what every issued credential has: a name, the SHA-256
// of its plaintext (the plaintext is shown once and never stored), a
// redacted hint to recognise it by, who made it, and its life.
func credentialFields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(100).
			Annotations(entgql.OrderField("NAME")),
		field.String("secret_hash").Unique().Immutable().Sensitive().
			Annotations(entgql.Skip()),
		field.String("hint").Immutable().MaxLen(32).
			Comment("The credential's prefix and first characters, e.g. rk_mcp_Ab3x…"),
		field.String("created_by_id").Optional().Immutable(),
		field.Time("last_used_at").Optional().Nillable(),
		field.Time("revoked_at").Optional().Nillable(),
	}
}

// MCPToken is an rk_mcp_ token an organization's AI assistant presents. It
// works only through the trusted relay.
type MCPToken struct {
	ent.Schema
}

// Mixin of the MCPToken.
func (MCPToken) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("mcp"), OrgMixin{}}
}

// Fields of the MCPToken.
func (MCPToken) Fields() []ent.Field {
	return append(credentialFields(),
		field.Bool("read_only").Default(false).Immutable().
			Comment("The server lets a read-only token see and call only read operations."),
		field.String("affiliate_id").Optional().Nillable().Immutable().
			Comment("Set for an affiliate-scoped token: it acts for that affiliate, not the organization."),
	)
}

// Edges of the MCPToken.
func (MCPToken) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("created_by", User.Type).Field("created_by_id").Unique().Immutable(),
		// Deleting the affiliate deletes its tokens: a token whose affiliate
		// vanished must never fall back to acting for the whole organization.
		edge.To("affiliate", Affiliate.Type).Field("affiliate_id").Unique().Immutable().
			Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

// Indexes of the MCPToken.
func (MCPToken) Indexes() []ent.Index {
	return []ent.Index{index.Fields("org_id", "revoked_at")}
}

// Annotations of the MCPToken.
func (MCPToken) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
	}
}

// Policy of the MCPToken: only owners manage them (the relay and auth
// middleware read them as the system).
func (MCPToken) Policy() ent.Policy {
	return rule.OwnerOnlyWrites()
}

// APIKey is an rk_live_ key a brand's server presents on /api/v1, with the
// rks_ secret it signs requests with. The key is stored hashed; the signing
// secret, which verification needs back, is stored encrypted.
type APIKey struct {
	ent.Schema
}

// Mixin of the APIKey.
func (APIKey) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("key"), OrgMixin{}}
}

// Fields of the APIKey.
func (APIKey) Fields() []ent.Field {
	return append(credentialFields(),
		field.Bytes("signing_secret_sealed").Immutable().Sensitive().
			Comment("The rks_ signing secret, sealed with the server's encryption key (AES-256-GCM).").
			Annotations(entgql.Skip()),
	)
}

// Edges of the APIKey.
func (APIKey) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("created_by", User.Type).Field("created_by_id").Unique().Immutable(),
	}
}

// Annotations of the APIKey.
func (APIKey) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
	}
}

// Policy of the APIKey: only owners manage them.
func (APIKey) Policy() ent.Policy {
	return rule.OwnerOnlyWrites()
}

// LoginToken is a one-time email link: sign in, or verify an address. Only
// its hash is kept, and it dies at first use or expiry.
type LoginToken struct {
	ent.Schema
}

// Mixin of the LoginToken.
func (LoginToken) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("lgt")}
}

// Fields of the LoginToken.
func (LoginToken) Fields() []ent.Field {
	return []ent.Field{
		field.String("user_id").Immutable(),
		field.Enum("purpose").Values("sign_in", "verify_email").Immutable(),
		field.String("secret_hash").Unique().Immutable().Sensitive(),
		field.Time("expires_at").Immutable(),
		field.Time("used_at").Optional().Nillable(),
	}
}

// Edges of the LoginToken.
func (LoginToken) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("user", User.Type).Field("user_id").Unique().Required().Immutable(),
	}
}

// Annotations of the LoginToken: never exposed over GraphQL.
func (LoginToken) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}

// Policy of the LoginToken: system only.
func (LoginToken) Policy() ent.Policy {
	return rule.SystemOnly()
}

// OutboxMessage is an email waiting to be sent. It is written in the same
// transaction as the action that causes it, so an email is sent if and only
// if the action happened; a worker delivers it with retries.
type OutboxMessage struct {
	ent.Schema
}

// Mixin of the OutboxMessage.
func (OutboxMessage) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("msg")}
}

// Fields of the OutboxMessage.
func (OutboxMessage) Fields() []ent.Field {
	return []ent.Field{
		field.String("org_id").Optional().Immutable(),
		field.String("kind").NotEmpty().Immutable().MaxLen(64),
		field.String("to_address").NotEmpty().Immutable().MaxLen(254),
		field.String("subject").NotEmpty().Immutable().MaxLen(300),
		field.Text("text_body").Immutable().Sensitive(),
		field.Text("html_body").Optional().Immutable().Sensitive(),
		field.Enum("status").Values("pending", "sent", "failed").Default("pending"),
		field.Int("attempts").Default(0).NonNegative(),
		field.Time("next_attempt_at"),
		field.String("last_error").Optional().MaxLen(1000),
		field.Time("sent_at").Optional().Nillable(),
	}
}

// Indexes of the OutboxMessage.
func (OutboxMessage) Indexes() []ent.Index {
	return []ent.Index{index.Fields("status", "next_attempt_at")}
}

// Annotations of the OutboxMessage: never exposed over GraphQL.
func (OutboxMessage) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}

// Policy of the OutboxMessage: system only.
func (OutboxMessage) Policy() ent.Policy {
	return rule.SystemOnly()
}
