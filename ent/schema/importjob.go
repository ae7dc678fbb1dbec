package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"github.com/tandemhq/tandem/ent/schema/schematype"
)

// ImportJob is one bulk import of affiliates or conversions. It remembers what
// it created, so the whole import can be reverted.
type ImportJob struct {
	ent.Schema
}

// Mixin of the ImportJob.
func (ImportJob) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("imp"), OrgMixin{}}
}

// Fields of the ImportJob.
func (ImportJob) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("kind").Values("Affiliates", "Conversions").Immutable(),
		field.String("campaign_id").Immutable(),
		field.Enum("status").Values("Completed", "Reverted", "Failed").Default("Completed").
			Annotations(entgql.OrderField("STATUS")),
		field.Int("rows_total").Default(0).NonNegative(),
		field.Int("imported").Default(0).NonNegative(),
		field.Int("skipped").Default(0).NonNegative(),
		field.Int("errored").Default(0).NonNegative(),
		field.JSON("reasons", []schematype.ImportReason{}).Optional().
			Annotations(entgql.Skip()),
		field.Int64("unpaid_confirmed_cents").Default(0).NonNegative(),
		field.Time("reverted_at").Optional().Nillable(),
	}
}

// Edges of the ImportJob.
func (ImportJob) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("campaign", Campaign.Type).Field("campaign_id").Unique().Required().Immutable(),
		edge.From("conversions", Conversion.Type).Ref("import_job").
			Annotations(entgql.RelayConnection()),
	}
}

// Annotations of the ImportJob.
func (ImportJob) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
	}
}
