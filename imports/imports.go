package imports

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/ent/schema/schematype"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/gate"
	"github.com/tandemhq/tandem/viewer"
)

// MaxRows is the most rows one import call takes; larger sets are imported
// in batches (each batch is idempotent, so a batch can be retried).
const MaxRows = 1000

// ImportTier is the lowest plan whose API keys may import directly. Calls
// from the dashboard and MCP-relayed calls are not plan-gated.
const ImportTier = "Starter"

// Row outcomes, as ImportRowReason.Outcome reports them.
const (
	OutcomeImported = "imported" // imported, with a note (a fresh slug)
	OutcomeSkipped  = "skipped"  // left out on purpose: a duplicate, already there, filtered
	OutcomeErrored  = "errored"  // refused: the row is wrong; fix it and import it again
)

// ImportRowReason explains one row of an import: why it was skipped or
// errored, or what was changed when it was imported.
type ImportRowReason struct {
	// Row is the row's 1-based position in the list sent.
	Row     int
	Outcome string
	// Email is the row's email (the affiliate's), when it has one.
	Email  *string
	Reason string
}

// ImportResult is what an import did: the job that records it (pass its ID
// to revertImport to undo it) and the count of rows per outcome.
type ImportResult struct {
	JobID     string
	RowsTotal int
	Imported  int
	Skipped   int
	Errored   int
	Reasons   []*ImportRowReason
}

// tally collects rows' outcomes.
type tally struct {
	imported, skipped, errored int
	reasons                    []*ImportRowReason
}

func (t *tally) note(row int, outcome, email, format string, args ...any) {
	r := &ImportRowReason{Row: row, Outcome: outcome, Reason: fmt.Sprintf(format, args...)}
	if email != "" {
		r.Email = &email
	}
	t.reasons = append(t.reasons, r)
}

func (t *tally) skip(row int, email, format string, args ...any) {
	t.skipped++
	t.note(row, OutcomeSkipped, email, format, args...)
}

func (t *tally) fail(row int, email, format string, args ...any) {
	t.errored++
	t.note(row, OutcomeErrored, email, format, args...)
}

// stored is the reasons as the job keeps them.
func (t *tally) stored() []schematype.ImportReason {
	out := make([]schematype.ImportReason, 0, len(t.reasons))
	for _, r := range t.reasons {
		s := schematype.ImportReason{Row: r.Row, Outcome: r.Outcome, Reason: r.Reason}
		if r.Email != nil {
			s.Email = *r.Email
		}
		out = append(out, s)
	}
	return out
}

// checkCaller is the imports' plan gate: a direct API-key call needs Starter
// or higher; the dashboard and MCP-relayed calls are not gated.
func checkCaller(ctx context.Context) (*viewer.Viewer, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, rule.ErrNoViewer
	}
	if v.ActorType == viewer.ActorAPIKey {
		if err := gate.RequirePlan(v, ImportTier); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// checkRowCount refuses an empty list or one over MaxRows.
func checkRowCount(field string, n int) error {
	if n < 1 || n > MaxRows {
		return fault.Invalid(field, "must have 1 to %d rows, not %d: split a larger set into batches of %d (re-running a batch is safe)", MaxRows, n, MaxRows)
	}
	return nil
}

// getCampaign reads a campaign of the viewer's organization.
func getCampaign(ctx context.Context, c *ent.Client, id string) (*ent.Campaign, error) {
	cmp, err := c.Campaign.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, fault.NotFound("campaignID", "no campaign %s in this organization: check the ID with list_campaigns", id)
	}
	return cmp, err
}

// text trims an optional text and checks it fits max characters (and
// bytes, the database's limit); it returns a reason when it does not.
func text(name string, s *string, max int) (string, string) {
	if s == nil {
		return "", ""
	}
	t := strings.TrimSpace(*s)
	switch {
	case !utf8.ValidString(t):
		return "", name + " is not valid UTF-8 text"
	case len(t) > max:
		return "", fmt.Sprintf("%s is too long: at most %d characters", name, max)
	}
	return t, ""
}

// quote shortens s for quoting in a reason.
func quote(s string) string {
	if utf8.RuneCountInString(s) > 80 {
		s = string([]rune(s)[:80]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

// chunk calls f with consecutive slices of at most n items: bulk inserts
// stay within the drivers' limits on bound parameters.
func chunk[T any](items []T, n int, f func([]T) error) error {
	for len(items) > 0 {
		k := min(n, len(items))
		if err := f(items[:k]); err != nil {
			return err
		}
		items = items[k:]
	}
	return nil
}

// JobReasons returns the row reasons an import job recorded.
func JobReasons(job *ent.ImportJob) []*ImportRowReason {
	out := make([]*ImportRowReason, 0, len(job.Reasons))
	for _, s := range job.Reasons {
		r := &ImportRowReason{Row: s.Row, Outcome: s.Outcome, Reason: s.Reason}
		if s.Email != "" {
			email := s.Email
			r.Email = &email
		}
		out = append(out, r)
	}
	return out
}
