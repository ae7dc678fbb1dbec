// Package schematype holds the Go types stored in JSON columns, apart from
// the schema so the generated code can import them without a cycle.
package schematype

// ImportReason explains why one import row was skipped or errored, or notes
// what an imported row was changed to (a fresh slug).
type ImportReason struct {
	Row     int    `json:"row"`               // 1-based position in the import's list
	Outcome string `json:"outcome,omitempty"` // imported, skipped or errored
	Email   string `json:"email,omitempty"`   // the row's (affiliate) email, when it has one
	Reason  string `json:"reason"`
}
