package reports

import (
	"context"
	"slices"
	"sync"

	"entgo.io/ent/dialect/sql"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/click"
	"github.com/tandemhq/tandem/ent/conversion"
	"github.com/tandemhq/tandem/ent/lead"
	"github.com/tandemhq/tandem/ent/organization"
	"github.com/tandemhq/tandem/ent/predicate"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/viewer"
)

// earning are the conversion statuses that count as revenue and commission:
// a sale that was refunded or denied earns nothing.
var earning = []conversion.Status{conversion.StatusPending, conversion.StatusApproved, conversion.StatusPaid}

func isEarning(s conversion.Status) bool { return slices.Contains(earning, s) }

// earningIn is the condition "status is an earning status" on a plain-SQL
// query's status column.
func earningIn(column string) *sql.Predicate {
	vs := make([]any, len(earning))
	for i, s := range earning {
		vs[i] = string(s)
	}
	return sql.In(column, vs...)
}

// orgAndDialect loads the viewer's organization and reports the SQL dialect
// of client, for the reports that build plain SQL. ent exposes the dialect
// only to the selectors it builds, so it is read from the organization's.
func orgAndDialect(ctx context.Context, client *ent.Client) (*ent.Organization, string, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, "", rule.ErrNoViewer
	}
	var d string
	org, err := client.Organization.Query().
		Where(organization.ID(v.OrgID), func(s *sql.Selector) { d = s.Dialect() }).
		Only(ctx)
	if err != nil {
		return nil, "", err
	}
	return org, d, nil
}

// viewerOrg loads the organization of the viewer in ctx: its home currency
// is the currency every report is expressed in.
func viewerOrg(ctx context.Context, client *ent.Client) (*ent.Organization, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, rule.ErrNoViewer
	}
	return client.Organization.Get(ctx, v.OrgID)
}

// The window as predicates on each table's occurred_at; with the privacy
// rules' org_id they match each table's (org_id, occurred_at…) index.

func conversionsIn(w Window) predicate.Conversion {
	if w.From == nil {
		return conversion.OccurredAtLTE(w.To)
	}
	return conversion.And(conversion.OccurredAtGTE(*w.From), conversion.OccurredAtLTE(w.To))
}

func clicksIn(w Window) predicate.Click {
	if w.From == nil {
		return click.OccurredAtLTE(w.To)
	}
	return click.And(click.OccurredAtGTE(*w.From), click.OccurredAtLTE(w.To))
}

func leadsIn(w Window) predicate.Lead {
	if w.From == nil {
		return lead.OccurredAtLTE(w.To)
	}
	return lead.And(lead.OccurredAtGTE(*w.From), lead.OccurredAtLTE(w.To))
}

// windowOn adds the window to a hand-built selector on table t.
func windowOn(s *sql.Selector, t *sql.SelectTable, w Window) *sql.Selector {
	s.Where(sql.LTE(t.C("occurred_at"), w.To))
	if w.From != nil {
		s.Where(sql.GTE(t.C("occurred_at"), *w.From))
	}
	return s
}

// sumOf is SUM(field) that reads 0, not NULL, over no rows.
func sumOf(field, as string) ent.AggregateFunc {
	return func(s *sql.Selector) string {
		return sql.As("COALESCE(SUM("+s.C(field)+"), 0)", as)
	}
}

// countAs is COUNT(*) named as. ent's own Count counts the id column,
// which is not in the (org_id, occurred_at) indexes: COUNT(*) over them
// never reads the table.
func countAs(as string) ent.AggregateFunc {
	return ent.As(ent.Count(), as)
}

// group runs functions side by side and keeps the first error.
type group struct {
	wg  sync.WaitGroup
	mu  sync.Mutex
	err error
}

// Go runs f in its own goroutine.
func (g *group) Go(f func() error) {
	g.wg.Go(func() {
		if err := f(); err != nil {
			g.mu.Lock()
			if g.err == nil {
				g.err = err
			}
			g.mu.Unlock()
		}
	})
}

// Wait waits for every function and returns the first error.
func (g *group) Wait() error {
	g.wg.Wait()
	return g.err
}
