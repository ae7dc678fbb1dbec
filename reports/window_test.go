package reports

import (
	"errors"
	"testing"
	"time"

	"github.com/tandemhq/tandem/fault"
)

func TestParseWindow(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC)
	str := func(s string) *string { return &s }
	for _, tc := range []struct {
		rng      *string
		allowed  []string
		wantFrom string // "" for all time
		wantDays int
	}{
		{nil, summaryRanges, "2026-01-31", 30},
		{str("7d"), summaryRanges, "2026-02-23", 7},
		{str(" 90D "), summaryRanges, "2025-12-02", 90},
		{str("ytd"), summaryRanges, "2026-01-01", 60},
		{str("all"), summaryRanges, "", 0},
		{str("ytd"), seriesRanges, "2026-01-01", 60},
	} {
		w, err := parseWindow("range", tc.rng, now, tc.allowed)
		if err != nil {
			t.Fatalf("%v: %v", tc.rng, err)
		}
		if !w.To.Equal(now) {
			t.Errorf("%v: to %s, want now", tc.rng, w.To)
		}
		if tc.wantFrom == "" {
			if w.From != nil {
				t.Errorf("all: from %s, want none", w.From)
			}
			continue
		}
		if got := w.From.Format(time.DateOnly); got != tc.wantFrom || w.From.Hour() != 0 {
			t.Errorf("%s: from %s, want midnight on %s", w.Range, w.From, tc.wantFrom)
		}
		days := w.days()
		if len(days) != tc.wantDays || days[0] != tc.wantFrom || days[len(days)-1] != "2026-03-01" {
			t.Errorf("%s: %d days %s…%s, want %d from %s to 2026-03-01", w.Range, len(days), days[0], days[len(days)-1], tc.wantDays, tc.wantFrom)
		}
	}
}

func TestParseWindowRefuses(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		rng     string
		allowed []string
	}{
		{"all", seriesRanges},
		{"365d", summaryRanges},
		{"", summaryRanges},
		{"month", summaryRanges},
	} {
		_, err := parseWindow("range", &tc.rng, now, tc.allowed)
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Kind != fault.KindInvalid || fe.Field != "range" {
			t.Errorf("%q: got %v, want an invalid range", tc.rng, err)
		}
	}
}

// The first instant of a year is a whole day of its ytd, and the last
// instant of a leap year has 366 days: never more.
func TestWindowDaysAtYearEdges(t *testing.T) {
	ytd := "ytd"
	for _, tc := range []struct {
		now  time.Time
		days int
	}{
		{time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), 1},
		{time.Date(2028, 12, 31, 23, 59, 59, 0, time.UTC), 366},
		{time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), 365},
	} {
		w, err := parseWindow("range", &ytd, tc.now, seriesRanges)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(w.days()); got != tc.days {
			t.Errorf("ytd at %s: %d days, want %d", tc.now, got, tc.days)
		}
	}
}

func TestMulDivRound(t *testing.T) {
	for _, tc := range []struct{ a, b, c, want int64 }{
		{180, 1980, 1800, 198},
		{5, 1, 2, 3},                         // 2.5 rounds away from zero
		{-5, 1, 2, -3},                       // -2.5 too
		{5, 1, -2, -3},                       // the divisor's sign counts
		{7, 1, 3, 2},                         // 2.33
		{8, 1, 3, 3},                         // 2.67
		{1 << 40, 1 << 30, 1 << 35, 1 << 35}, // a product beyond int64
	} {
		if got := mulDivRound(tc.a, tc.b, tc.c); got != tc.want {
			t.Errorf("mulDivRound(%d, %d, %d) = %d, want %d", tc.a, tc.b, tc.c, got, tc.want)
		}
	}
}
