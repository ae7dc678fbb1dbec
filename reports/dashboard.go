package reports

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	entdialect "entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/click"
	"github.com/tandemhq/tandem/ent/conversion"
	"github.com/tandemhq/tandem/ent/lead"
	"github.com/tandemhq/tandem/fault"
)

// DashboardSummary is the program's at-a-glance figures over a range.
// Money is in minor units of Currency, the organization's home currency.
type DashboardSummary struct {
	Range string
	From  *time.Time // nil for all time
	To    time.Time
	// Currency is the organization's home currency. The sums cover
	// conversions recorded in it; OtherCurrencyConversions counts those
	// recorded in an earlier home currency, which the sums leave out.
	Currency string
	// RevenueCents and CommissionCents sum the sales and commissions of
	// Pending, Approved and Paid conversions.
	RevenueCents    int64
	CommissionCents int64
	// RefundedCents sums the sales of conversions that were refunded.
	RefundedCents int64
	// Conversions counts Pending, Approved and Paid conversions, whatever
	// their currency.
	Conversions              int
	OtherCurrencyConversions int
	Leads                    int
	Clicks                   int
	// ActiveAffiliates counts approved affiliates with at least one click,
	// lead or conversion in the range.
	ActiveAffiliates int
	// PendingApprovals counts affiliates waiting for approval now, whatever
	// the range.
	PendingApprovals int
}

// Summary computes the dashboard's figures over the range rng (nil: 30d)
// ending at now. Each figure is one aggregate query that reads an index
// holding every column it needs; no row is loaded. The queries are
// independent and run side by side.
func Summary(ctx context.Context, client *ent.Client, now time.Time, rng *string) (*DashboardSummary, error) {
	w, err := parseWindow("range", rng, now, summaryRanges)
	if err != nil {
		return nil, err
	}
	org, err := viewerOrg(ctx, client)
	if err != nil {
		return nil, err
	}
	s := &DashboardSummary{Range: w.Range, From: w.From, To: w.To, Currency: org.HomeCurrency}
	var rows []statusTotals
	var g group
	g.Go(func() (err error) {
		rows, err = conversionTotals(ctx, client.Conversion.Query().Where(conversionsIn(w)))
		return err
	})
	g.Go(func() (err error) {
		s.Leads, err = client.Lead.Query().Where(leadsIn(w)).Aggregate(countAs("n")).Int(ctx)
		return err
	})
	g.Go(func() (err error) {
		s.Clicks, err = client.Click.Query().Where(clicksIn(w)).Aggregate(countAs("n")).Int(ctx)
		return err
	})
	g.Go(func() (err error) {
		s.ActiveAffiliates, err = activeAffiliates(ctx, client, w)
		return err
	})
	g.Go(func() (err error) {
		s.PendingApprovals, err = client.Affiliate.Query().Where(affiliate.StatusEQ(affiliate.StatusPending)).Aggregate(countAs("n")).Int(ctx)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for _, r := range rows {
		home := r.HomeCurrency == org.HomeCurrency
		switch {
		case isEarning(r.Status):
			s.Conversions += r.N
			if home {
				s.RevenueCents += r.Amount
				s.CommissionCents += r.Commission
			} else {
				s.OtherCurrencyConversions += r.N
			}
		case r.Status == conversion.StatusRefunded && home:
			s.RefundedCents += r.Amount
		}
	}
	return s, nil
}

// activeAffiliates counts the approved affiliates of the organization with a
// click, lead or conversion in w: for each approved affiliate, one probe of
// each table's (affiliate_id, occurred_at) index, so the work follows the
// number of affiliates, not the millions of clicks in the range. The
// affiliate query is scoped to the viewer's organization by the privacy
// rules; the probes are plain SQL (ent cannot correlate its queries) keyed by
// the affiliate's ID, which no other organization's rows carry.
func activeAffiliates(ctx context.Context, client *ent.Client, w Window) (int, error) {
	return client.Affiliate.Query().Where(
		affiliate.StatusEQ(affiliate.StatusApproved),
		func(s *sql.Selector) {
			b := sql.Dialect(s.Dialect())
			var probes []*sql.Predicate
			for _, table := range []string{click.Table, conversion.Table, lead.Table} {
				t := sql.Table(table)
				rows := b.Select(t.C("affiliate_id")).From(t).
					Where(sql.ColumnsEQ(t.C("affiliate_id"), s.C(affiliate.FieldID)))
				probes = append(probes, sql.Exists(windowOn(rows, t, w)))
			}
			s.Where(sql.Or(probes...))
		},
	).Aggregate(countAs("n")).Int(ctx)
}

// The metrics a timeseries can chart.
const (
	MetricRevenue     = "revenue"
	MetricConversions = "conversions"
	MetricLeads       = "leads"
	MetricClicks      = "clicks"
)

var metrics = []string{MetricRevenue, MetricConversions, MetricLeads, MetricClicks}

// DashboardTimeseries is one metric per UTC day over a range, oldest first,
// every day present (zero when nothing happened).
type DashboardTimeseries struct {
	Metric string
	Range  string
	From   time.Time
	To     time.Time
	// Currency is the home currency for revenue (minor units); nil for
	// the counting metrics.
	Currency *string
	Total    int64
	Points   []DashboardPoint
}

// DashboardPoint is one day of a timeseries.
type DashboardPoint struct {
	Date  string // YYYY-MM-DD, UTC
	Value int64
}

// Timeseries charts metric per UTC day over rng (nil: 30d; all time is not
// offered, so a series has at most 366 points).
//
// The days are counted in one statement of per-day range aggregates, each
// served by an index that holds every column it reads, rather than by
// grouping on a day computed from each row: over a 90-day range of a busy
// program (a million clicks) that is several times faster on both SQLite
// and PostgreSQL. The statement is plain SQL, so it names the viewer's
// organization itself.
func Timeseries(ctx context.Context, client *ent.Client, now time.Time, metric string, rng *string) (*DashboardTimeseries, error) {
	m := strings.ToLower(strings.TrimSpace(metric))
	if !slices.Contains(metrics, m) {
		return nil, fault.Invalid("metric", "must be one of %s, not %q", strings.Join(metrics, ", "), metric)
	}
	w, err := parseWindow("range", rng, now, seriesRanges)
	if err != nil {
		return nil, err
	}
	org, dialect, err := orgAndDialect(ctx, client)
	if err != nil {
		return nil, err
	}
	ts := &DashboardTimeseries{Metric: m, Range: w.Range, From: *w.From, To: w.To}
	spec := daySeries{table: click.Table, value: "COUNT(*)"}
	switch m {
	case MetricRevenue:
		ts.Currency = &org.HomeCurrency
		spec = daySeries{table: conversion.Table, value: "CAST(COALESCE(SUM(home_amount_cents), 0) AS BIGINT)",
			where: []*sql.Predicate{earningIn(conversion.FieldStatus), sql.EQ(conversion.FieldHomeCurrency, org.HomeCurrency)}}
	case MetricConversions:
		spec = daySeries{table: conversion.Table, value: "COUNT(*)", where: []*sql.Predicate{earningIn(conversion.FieldStatus)}}
	case MetricLeads:
		spec.table = lead.Table
	}
	if ts.Points, ts.Total, err = spec.run(ctx, client, dialect, org.ID, w); err != nil {
		return nil, err
	}
	return ts, nil
}

// daySeries is one aggregate (value) over a table's rows of one
// organization, per UTC day.
type daySeries struct {
	table string
	value string           // an aggregate of the table's columns, e.g. COUNT(*)
	where []*sql.Predicate // more conditions on the rows (unqualified columns)
}

// run aggregates each day of w, the last one up to w.To, in one statement:
// a list of the days' bounds, each with a correlated range aggregate that
// reads the table's (org_id, occurred_at…) index. It is planned once,
// however many days there are.
//
//	SELECT d.column1, (SELECT COUNT(*) FROM clicks WHERE org_id = ?
//	  AND occurred_at >= d.column2 AND occurred_at < d.column3 AND occurred_at <= ?)
//	FROM (VALUES (0, ?, ?), (1, ?, ?), …) AS d
func (d daySeries) run(ctx context.Context, client *ent.Client, dialect, orgID string, w Window) ([]DashboardPoint, int64, error) {
	days := w.days()
	// PostgreSQL types a VALUES list from its values, and a parameter alone
	// has none.
	bound := func(b *sql.Builder, t time.Time) {
		if dialect == entdialect.Postgres {
			b.WriteString("CAST(").Arg(t).WriteString(" AS TIMESTAMPTZ)")
		} else {
			b.Arg(t)
		}
	}
	var b sql.Builder
	b.SetDialect(dialect)
	b.WriteString("SELECT d.column1, (SELECT ").WriteString(d.value).WriteString(" FROM ").Ident(d.table).
		WriteString(" WHERE ").Ident("org_id").WriteString(" = ").Arg(orgID).
		WriteString(" AND ").Ident("occurred_at").WriteString(" >= d.column2").
		WriteString(" AND ").Ident("occurred_at").WriteString(" < d.column3").
		WriteString(" AND ").Ident("occurred_at").WriteString(" <= ").Arg(w.To)
	for _, p := range d.where {
		b.WriteString(" AND ").Join(p)
	}
	b.WriteString(") FROM (VALUES ")
	start := *w.From
	for i := range days {
		if i > 0 {
			b.Comma()
		}
		b.WriteString("(" + strconv.Itoa(i) + ", ")
		bound(&b, start)
		b.Comma()
		start = start.AddDate(0, 0, 1)
		bound(&b, start)
		b.WriteString(")")
	}
	b.WriteString(") AS d")
	if err := b.Err(); err != nil {
		return nil, 0, err
	}
	query, args := b.Query()
	rows, err := client.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	points := make([]DashboardPoint, len(days))
	for i, day := range days {
		points[i].Date = day
	}
	var total int64
	for rows.Next() {
		var k int
		var v int64
		if err := rows.Scan(&k, &v); err != nil {
			return nil, 0, err
		}
		if k < 0 || k >= len(points) {
			return nil, 0, fmt.Errorf("reports: day %d out of range", k)
		}
		points[k].Value = v
		total += v
	}
	return points, total, rows.Err()
}
