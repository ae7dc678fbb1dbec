package subscriptions

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/subscription"
	"github.com/tandemhq/tandem/fault"
)

var now = time.Date(2026, 7, 10, 12, 0, 0, 0, time.UTC)

func TestScore(t *testing.T) {
	for _, tc := range []struct {
		name                             string
		hikes, dormant, clusters, trials int
		want                             int
	}{
		{"healthy", 0, 0, 0, 0, 100},
		{"one of each", 1, 1, 1, 1, 100 - 10 - 8 - 6 - 5},
		{"hikes cap at -30", 5, 0, 0, 0, 70},
		{"dormant cap at -32", 0, 9, 0, 0, 68},
		{"clusters cap at -18", 0, 0, 4, 0, 82},
		{"trials cap at -20", 0, 0, 0, 7, 80},
		{"every cap: 100-30-32-18-20 = 0", 10, 10, 10, 10, 0},
		{"just under the caps", 2, 3, 2, 3, 100 - 20 - 24 - 12 - 15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Score(tc.hikes, tc.dormant, tc.clusters, tc.trials); got != tc.want {
				t.Errorf("Score(%d, %d, %d, %d) = %d, want %d", tc.hikes, tc.dormant, tc.clusters, tc.trials, got, tc.want)
			}
		})
	}
}

func sub(id, name string, cents int64, opts ...func(*ent.Subscription)) *ent.Subscription {
	s := &ent.Subscription{ID: id, Name: name, AmountCents: cents, Currency: "USD",
		Status: subscription.StatusActive, CreatedAt: now.Add(-24 * time.Hour)}
	for _, o := range opts {
		o(s)
	}
	return s
}

func billOn(d int) func(*ent.Subscription) { return func(s *ent.Subscription) { s.BillDay = &d } }

func TestHikesNoiseBand(t *testing.T) {
	for _, tc := range []struct {
		name      string
		prev, new int64
		want      bool
		pct       float64
	}{
		{"7.0% is noise", 1000, 1070, false, 0},
		{"exactly 7.5% is noise", 1000, 1075, false, 0},
		{"7.6% is a hike", 1000, 1076, true, 7.6},
		{"20% is a hike", 1599, 1919, true, 20},
		{"a drop is not a hike", 1000, 800, false, 0},
		{"-7% is noise", 1000, 930, false, 0},
		{"a first charge after a free period is not a hike", 0, 999, false, 0},
		{"unchanged", 1000, 1000, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sub("sub_1", "Netflix", tc.new)
			points := map[string][]*ent.PricePoint{s.ID: {
				{SubscriptionID: s.ID, AmountCents: tc.new, Currency: "USD", ObservedAt: now.Add(-time.Hour)},
				{SubscriptionID: s.ID, AmountCents: tc.prev, Currency: "USD", ObservedAt: now.Add(-40 * 24 * time.Hour)},
			}}
			got := hikes([]*ent.Subscription{s}, points)
			if (len(got) == 1) != tc.want {
				t.Fatalf("got hikes %+v, want hike=%v", got, tc.want)
			}
			if tc.want {
				h := got[0]
				if h.Percent != tc.pct || h.OldAmount != float64(tc.prev)/100 || h.NewAmount != float64(tc.new)/100 || !h.Since.Equal(now.Add(-time.Hour)) {
					t.Errorf("got %+v, want %v%% from %d to %d since an hour ago", h, tc.pct, tc.prev, tc.new)
				}
			}
		})
	}
	t.Run("only the latest two prices count", func(t *testing.T) {
		s := sub("sub_1", "Netflix", 1200)
		points := map[string][]*ent.PricePoint{s.ID: {
			{AmountCents: 1200, Currency: "USD", ObservedAt: now},
			{AmountCents: 1150, Currency: "USD", ObservedAt: now.Add(-time.Hour)},
			{AmountCents: 500, Currency: "USD", ObservedAt: now.Add(-2 * time.Hour)},
		}}
		if got := hikes([]*ent.Subscription{s}, points); len(got) != 0 {
			t.Errorf("got %+v; 1150 → 1200 is within the band", got)
		}
	})
	t.Run("a currency change is not compared", func(t *testing.T) {
		s := sub("sub_1", "Netflix", 2000)
		points := map[string][]*ent.PricePoint{s.ID: {
			{AmountCents: 2000, Currency: "EUR", ObservedAt: now},
			{AmountCents: 1000, Currency: "USD", ObservedAt: now.Add(-time.Hour)},
		}}
		if got := hikes([]*ent.Subscription{s}, points); len(got) != 0 {
			t.Errorf("got %+v, want none across currencies", got)
		}
	})
}

func TestDormant(t *testing.T) {
	days := func(n float64) time.Time { return now.Add(-time.Duration(n * float64(24*time.Hour))) }
	for _, tc := range []struct {
		name     string
		provider string
		created  time.Time
		used     *time.Time
		charged  *time.Time
		wantIdle int // -1: not dormant
	}{
		{"monthly, added 46 days ago, never used", "netflix", days(46), nil, nil, 46},
		{"monthly, 45 days exactly is not yet", "netflix", days(45), nil, nil, -1},
		{"monthly, used 44 days ago", "netflix", days(400), ptr(days(44)), nil, -1},
		{"monthly, used 50 days ago", "netflix", days(400), ptr(days(50)), nil, 50},
		{"a charge counts as a sign of life", "netflix", days(400), ptr(days(300)), ptr(days(10)), -1},
		{"unknown provider reads as monthly", "", days(46), nil, nil, 46},
		{"annual: 100 idle days are fine", "the-atlantic", days(100), nil, nil, -1},
		{"annual: 548 idle days are dormant", "the-atlantic", days(548), nil, nil, 548},
		{"weekly: 11 idle days are dormant", "hellofresh", days(11), nil, nil, 11},
		{"weekly: 10 idle days are fine", "hellofresh", days(10), nil, nil, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sub("sub_1", "X", 999, func(s *ent.Subscription) {
				s.ProviderKey, s.CreatedAt, s.LastUsedAt, s.LastChargedAt = tc.provider, tc.created, tc.used, tc.charged
			})
			got := dormant([]*ent.Subscription{s}, now)
			switch {
			case tc.wantIdle < 0 && len(got) != 0:
				t.Errorf("got %+v, want not dormant", got[0])
			case tc.wantIdle >= 0 && (len(got) != 1 || got[0].DaysIdle != tc.wantIdle):
				t.Errorf("got %+v, want dormant for %d days", got, tc.wantIdle)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestClusters(t *testing.T) {
	type want struct {
		Days  []int
		Count int
		Total float64
	}
	for _, tc := range []struct {
		name string
		subs []*ent.Subscription
		want []want
	}{
		{"three bills on three consecutive days", []*ent.Subscription{
			sub("a", "A", 100, billOn(5)), sub("b", "B", 100, billOn(6)), sub("c", "C", 100, billOn(7)),
			sub("d", "D", 10000, billOn(20)),
		}, []want{{[]int{5, 6, 7}, 3, 3}}},
		{"across month end: 30, 31, 1", []*ent.Subscription{
			sub("a", "A", 100, billOn(30)), sub("b", "B", 100, billOn(31)), sub("c", "C", 100, billOn(1)),
			sub("d", "D", 10000, billOn(15)),
		}, []want{{[]int{30, 31, 1}, 3, 3}}},
		{"31 and 1, 2 wrap too", []*ent.Subscription{
			sub("a", "A", 100, billOn(31)), sub("b", "B", 100, billOn(1)), sub("c", "C", 100, billOn(2)),
			sub("d", "D", 10000, billOn(15)),
		}, []want{{[]int{31, 1, 2}, 3, 3}}},
		{"three bills four days apart are not a cluster", []*ent.Subscription{
			sub("a", "A", 100, billOn(5)), sub("b", "B", 100, billOn(6)), sub("c", "C", 100, billOn(8)),
			sub("d", "D", 10000, billOn(20)),
		}, nil},
		{"two bills with 40% of spend", []*ent.Subscription{
			sub("a", "A", 2000, billOn(10)), sub("b", "B", 2000, billOn(11)),
			sub("c", "C", 3000, billOn(20)), sub("d", "D", 3000, billOn(25)),
		}, []want{{[]int{10, 11}, 2, 40}}},
		{"two bills with 39% of spend", []*ent.Subscription{
			sub("a", "A", 1950, billOn(10)), sub("b", "B", 1950, billOn(11)),
			sub("c", "C", 3050, billOn(20)), sub("d", "D", 3050, billOn(25)),
		}, nil},
		{"one big bill alone is not a cluster", []*ent.Subscription{
			sub("a", "A", 9000, billOn(10)), sub("b", "B", 1000, billOn(20)),
		}, nil},
		{"a bill is in one cluster only", []*ent.Subscription{
			sub("a", "A", 100, billOn(1)), sub("b", "B", 100, billOn(2)), sub("c", "C", 100, billOn(3)),
			sub("d", "D", 100, billOn(4)), sub("e", "E", 100, billOn(5)), sub("f", "F", 100, billOn(6)),
			sub("z", "Z", 100000, billOn(20)),
		}, []want{{[]int{1, 2, 3}, 3, 3}, {[]int{4, 5, 6}, 3, 3}}},
		{"the fullest window wins", []*ent.Subscription{
			sub("a", "A", 100, billOn(2)), sub("b", "B", 100, billOn(3)), sub("c", "C", 100, billOn(3)),
			sub("d", "D", 100, billOn(4)), sub("e", "E", 100, billOn(4)),
			sub("z", "Z", 100000, billOn(20)),
		}, []want{{[]int{2, 3, 4}, 5, 5}}},
		{"no bill days, no clusters", []*ent.Subscription{sub("a", "A", 100), sub("b", "B", 100), sub("c", "C", 100)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spend, cur := totalOf(tc.subs)
			var got []want
			for _, c := range clusters(tc.subs, spend, cur) {
				got = append(got, want{c.Days, c.Count, c.Total})
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("clusters:\ngot  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestNextBill(t *testing.T) {
	for _, tc := range []struct {
		now  time.Time
		day  int
		want string
	}{
		{now, 10, "2026-07-10"}, // today
		{now, 9, "2026-08-09"},
		{now, 31, "2026-07-31"},
		{time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC), 31, "2026-02-28"}, // a short month bills on its last day
		{time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC), 5, "2027-01-05"},
		{time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC), 30, "2026-02-28"},
	} {
		if got := nextBill(tc.day, tc.now).Format(time.DateOnly); got != tc.want {
			t.Errorf("nextBill(%d, %s) = %s, want %s", tc.day, tc.now.Format(time.DateOnly), got, tc.want)
		}
	}
}

func TestTasksOrderAndHorizon(t *testing.T) {
	trial := func(d string) func(*ent.Subscription) { return func(s *ent.Subscription) { s.TrialEndDate = &d } }
	paused := func(until *time.Time) func(*ent.Subscription) {
		return func(s *ent.Subscription) { s.Status, s.PausedUntil = subscription.StatusPaused, until }
	}
	cancelled := func(s *ent.Subscription) { s.Status = subscription.StatusCancelled }
	subs := []*ent.Subscription{
		sub("s1", "Zeta", 100, trial("2026-07-10")),  // today: 0
		sub("s2", "Alpha", 100, trial("2026-07-10")), // today: 0, sorts before Zeta
		sub("s3", "Beta", 100, trial("2026-07-17")),  // 7: inside the default horizon
		sub("s4", "Gamma", 100, trial("2026-07-18")), // 8: outside it
		sub("s5", "Delta", 100, trial("2026-07-09")), // yesterday: over, not listed
		sub("s6", "Eps", 100, trial("2026-07-12"), cancelled),
		sub("s7", "Resume", 100, paused(ptr(now.Add(-50*time.Hour)))), // ended 2026-07-08: -2
		sub("s8", "Later", 100, paused(ptr(now.Add(24*time.Hour)))),
		sub("s9", "Forever", 100, paused(nil)),
		sub("s10", "JustNow", 100, paused(ptr(now))), // due now: 0
	}
	svc := Service{PauseURL: func(id string) string { return "https://x.test/pause/" + id }}
	type row struct {
		Kind ProactiveTaskKind
		Name string
		Left int
	}
	collect := func(ts []*ProactiveTask) []row {
		var out []row
		for _, t := range ts {
			out = append(out, row{t.Kind, t.Name, t.DaysLeft})
		}
		return out
	}
	got := svc.tasks(subs, now, 7)
	want := []row{
		{TaskResumeDue, "Resume", -2},
		{TaskTrialEnding, "Alpha", 0},
		{TaskResumeDue, "JustNow", 0},
		{TaskTrialEnding, "Zeta", 0},
		{TaskTrialEnding, "Beta", 7},
	}
	if !reflect.DeepEqual(collect(got), want) {
		t.Errorf("tasks:\ngot  %+v\nwant %+v", collect(got), want)
	}
	for _, task := range got {
		if (task.Kind == TaskTrialEnding) != (task.PauseURL != nil) {
			t.Errorf("%s %s: pauseUrl %v; want one on trial_ending only", task.Kind, task.Name, task.PauseURL)
		}
	}
	if got := collect(svc.tasks(subs, now, 8)); len(got) != 6 || got[5].Name != "Gamma" {
		t.Errorf("horizon 8: got %+v, want Gamma last", got)
	}
	for _, h := range []int{0, 31, -1} {
		_, err := checkHorizon(&h)
		var f *fault.Error
		if !asFault(err, &f) || f.Field != "trialHorizonDays" {
			t.Errorf("horizon %d: got %v, want an error naming trialHorizonDays", h, err)
		}
	}
	for _, h := range []int{1, 30} {
		if _, err := checkHorizon(&h); err != nil {
			t.Errorf("horizon %d: %v", h, err)
		}
	}
}

func asFault(err error, f **fault.Error) bool {
	e, ok := err.(*fault.Error)
	*f = e
	return ok
}

func TestCents(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want int64
	}{
		{15.99, 1599}, {15.995, 1600}, {15.994, 1599}, {0.005, 1}, {0.004, 0}, {1.005, 101},
		{100000, 10000000}, {0, 0}, {2.675, 268}, {19.999, 2000}, {1e-7, 0},
	} {
		if got := Cents(tc.in); got != tc.want {
			t.Errorf("Cents(%v) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestCheckAmount(t *testing.T) {
	for _, a := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), -0.01, 100000.01} {
		_, err := check(IngestInput{Name: "Netflix", Amount: a})
		var f *fault.Error
		if !asFault(err, &f) || f.Field != "amount" {
			t.Errorf("amount %v: got %v, want an error naming amount", a, err)
		}
	}
}

func TestBillDateDecoding(t *testing.T) {
	for _, tc := range []struct {
		json string
		want BillDate
	}{
		{`14`, BillDate{Day: 14}},
		{`"14"`, BillDate{Text: "14"}}, // Ingest reads a day-number string as the day
		{`"every other Friday"`, BillDate{Text: "every other Friday"}},
	} {
		var got BillDate
		if err := json.Unmarshal([]byte(tc.json), &got); err != nil {
			t.Fatalf("%s: %v", tc.json, err)
		}
		if got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.json, got, tc.want)
		}
	}
	for _, bad := range []string{`true`, `14.5`, `{}`} {
		var b BillDate
		if err := json.Unmarshal([]byte(bad), &b); err == nil {
			t.Errorf("%s: got %+v and no error", bad, b)
		}
	}
	g, err := check(IngestInput{Name: "Gym", BillDate: BillDateText(" 7 ")})
	if err != nil || g.billDay != 7 || g.billText != "" {
		t.Errorf("\" 7 \": got day %d text %q err %v, want day 7", g.billDay, g.billText, err)
	}
}
