package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// AuditLogEntry records one action by one principal: who (actor type, actor,
// token), what (action, entity) and the entity before and after.
type AuditLogEntry struct {
	ent.Schema
}

// Mixin of the AuditLogEntry.
func (AuditLogEntry) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("aud"), OrgMixin{}}
}

// Fields of the AuditLogEntry. Every field is immutable: the log is append-only.
func (AuditLogEntry) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("actor_type").Values("user", "api_key", "mcp", "system", "admin").Immutable(),
		field.String("actor_id").Optional().Immutable(),
		field.String("token_id").Optional().Immutable(),
		field.String("action").NotEmpty().Immutable().MaxLen(100),
		field.String("entity_type").Optional().Immutable().MaxLen(64),
		field.String("entity_id").Optional().Immutable().MaxLen(40),
		field.JSON("before", map[string]any{}).Optional().Immutable().
			Annotations(entgql.Type("Map"), entgql.Skip(entgql.SkipWhereInput)),
		field.JSON("after", map[string]any{}).Optional().Immutable().
			Annotations(entgql.Type("Map"), entgql.Skip(entgql.SkipWhereInput)),
		field.String("request_id").Optional().Immutable().MaxLen(64),
	}
}

// Indexes of the AuditLogEntry.
func (AuditLogEntry) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("org_id", "created_at"),
		index.Fields("org_id", "action"),
		index.Fields("org_id", "entity_type", "entity_id"),
	}
}

// Annotations of the AuditLogEntry.
func (AuditLogEntry) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
	}
}
