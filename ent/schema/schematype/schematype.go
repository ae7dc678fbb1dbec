// Package schematype holds the Go types stored in JSON columns, apart from
// the schema so the generated code can import them without a cycle.
package schematype

// ImportReason explains why one import row was skipped or errored.
type ImportReason struct {
	Row    int    `json:"row"`
	Reason string `json:"reason"`
}
