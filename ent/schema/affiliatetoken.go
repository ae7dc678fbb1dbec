package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// AffiliateToken lets one affiliate see their own dashboard without an
// account: an embed token for an iframe on the brand's site, or the magic
// link in an approval email. Only its SHA-256 is stored.
type AffiliateToken struct {
	ent.Schema
}

// Mixin of the AffiliateToken.
func (AffiliateToken) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("atk"), OrgMixin{}}
}

// Fields of the AffiliateToken.
func (AffiliateToken) Fields() []ent.Field {
	return []ent.Field{
		field.String("affiliate_id").Immutable(),
		field.Enum("purpose").Values("embed", "welcome").Immutable(),
		field.String("secret_hash").Unique().Immutable().Sensitive(),
		field.Strings("allowed_origins").Optional().Immutable().
			Comment("Origins allowed to frame the embed (https://shop.example)."),
		field.Time("expires_at").Immutable(),
		field.Time("revoked_at").Optional().Nillable(),
		field.Time("last_used_at").Optional().Nillable(),
	}
}

// Edges of the AffiliateToken.
func (AffiliateToken) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("affiliate", Affiliate.Type).Field("affiliate_id").Unique().Required().Immutable(),
	}
}

// Indexes of the AffiliateToken.
func (AffiliateToken) Indexes() []ent.Index {
	return []ent.Index{index.Fields("affiliate_id", "purpose", "revoked_at")}
}

// Annotations of the AffiliateToken: not in the GraphQL schema; the
// operations that mint them return their own shapes.
func (AffiliateToken) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}
