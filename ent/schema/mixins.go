package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"entgo.io/ent/schema/mixin"

	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/ids"
)

// IDPrefix is the annotation that records an entity's ID prefix; the ID
// template in ent/template turns it into the prefix-to-table map behind node(id:).
type IDPrefix struct {
	Prefix string
}

// Name implements schema.Annotation.
func (IDPrefix) Name() string { return "IDPrefix" }

// BaseMixin gives an entity a type-prefixed ID and creation/update times.
type BaseMixin struct {
	mixin.Schema
	prefix string
}

// Base returns the mixin for an entity whose IDs start with prefix.
func Base(prefix string) BaseMixin { return BaseMixin{prefix: prefix} }

// Fields of the BaseMixin.
func (m BaseMixin) Fields() []ent.Field {
	prefix := m.prefix
	return []ent.Field{
		field.String("id").
			Immutable().
			NotEmpty().
			MaxLen(40).
			DefaultFunc(func() string { return ids.New(prefix) }),
		field.Time("created_at").
			Immutable().
			Default(time.Now).
			Annotations(entgql.OrderField("CREATED_AT"), entgql.Skip(entgql.SkipMutationCreateInput)),
		field.Time("updated_at").
			Default(time.Now).
			UpdateDefault(time.Now).
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Annotations of the BaseMixin.
func (m BaseMixin) Annotations() []schema.Annotation {
	return []schema.Annotation{IDPrefix{Prefix: m.prefix}}
}

// OrgMixin makes an entity belong to one organization. It is the one place
// tenancy is written: the org_id is set from the viewer on create and can never
// change, and the policy scopes every query and mutation to the viewer's
// organization, so another tenant's row is simply not found.
type OrgMixin struct {
	mixin.Schema
}

// Fields of the OrgMixin.
func (OrgMixin) Fields() []ent.Field {
	return []ent.Field{
		field.String("org_id").
			Immutable().
			NotEmpty().
			Annotations(entgql.Skip()),
	}
}

// Edges of the OrgMixin.
func (OrgMixin) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("organization", Organization.Type).
			Field("org_id").
			Unique().
			Required().
			Immutable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput, entgql.SkipOrderField)),
	}
}

// Indexes of the OrgMixin: every list is scoped to one organization and
// pages in ID order, so (org_id, id) serves each unfiltered page from the
// index without sorting the organization's rows.
func (OrgMixin) Indexes() []ent.Index {
	return []ent.Index{index.Fields("org_id", "id")}
}

// Hooks of the OrgMixin.
func (OrgMixin) Hooks() []ent.Hook {
	return []ent.Hook{rule.SetOrgOnCreate(), rule.RefsInViewerOrg()}
}

// Policy of the OrgMixin.
func (OrgMixin) Policy() ent.Policy {
	return rule.OrgScopedPolicy()
}
