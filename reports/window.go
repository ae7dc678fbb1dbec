package reports

import (
	"strings"
	"time"

	"github.com/tandemhq/tandem/fault"
)

// The ranges a report covers. A day-counted range is that many UTC calendar
// days ending today (today included, up to now), so a 30d summary and a 30d
// timeseries cover exactly the same rows and their figures agree.
const (
	Range7d  = "7d"
	Range30d = "30d"
	Range90d = "90d"
	RangeYTD = "ytd"
	RangeAll = "all"

	// DefaultRange is the range a report covers when none is given.
	DefaultRange = Range30d
)

// rangeDays are the day-counted ranges.
var rangeDays = map[string]int{Range7d: 7, Range30d: 30, Range90d: 90}

// summaryRanges and seriesRanges are the ranges each report accepts, in the
// order error messages list them.
var (
	summaryRanges = []string{Range7d, Range30d, Range90d, RangeYTD, RangeAll}
	seriesRanges  = []string{Range7d, Range30d, Range90d, RangeYTD}
)

// Window is the span of time a report covers: [From, To]. To is the
// report's now; From is midnight UTC of the first day, or nil for all time.
type Window struct {
	Range string
	From  *time.Time
	To    time.Time
}

// day returns midnight UTC of t's day.
func day(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// parseWindow turns the range input rng (nil: DefaultRange) into the window
// ending at now. allowed lists the ranges the report accepts; field names the
// input in the error.
func parseWindow(field string, rng *string, now time.Time, allowed []string) (Window, error) {
	r := DefaultRange
	if rng != nil {
		r = strings.ToLower(strings.TrimSpace(*rng))
	}
	ok := false
	for _, a := range allowed {
		ok = ok || a == r
	}
	if !ok {
		given := ""
		if rng != nil {
			given = *rng
		}
		return Window{}, fault.Invalid(field, "must be one of %s, not %q", strings.Join(allowed, ", "), given)
	}
	now = now.UTC()
	w := Window{Range: r, To: now}
	switch r {
	case RangeAll:
	case RangeYTD:
		from := time.Date(now.Year(), time.January, 1, 0, 0, 0, 0, time.UTC)
		w.From = &from
	default:
		from := day(now).AddDate(0, 0, -(rangeDays[r] - 1))
		w.From = &from
	}
	return w, nil
}

// days returns the UTC days the window covers, oldest first, as YYYY-MM-DD.
// It needs a bounded window.
func (w Window) days() []string {
	var out []string
	for d := day(*w.From); !d.After(w.To); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(time.DateOnly))
	}
	return out
}
