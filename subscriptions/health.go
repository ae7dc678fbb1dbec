package subscriptions

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/pricepoint"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/ent/subscription"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/subscriptions/catalog"
)

// The billing-health rules. graph/subscriptions.graphql (billingHealth)
// states the same rules for API readers; ScoreFormula is what the API returns.
const (
	// NoiseBand: a price change within ±7.5 % of the previous price is
	// billing noise (tax, rounding, exchange), not a hike.
	NoiseBand = 0.075
	// DormantCadences: a service is dormant after this many billing periods
	// without a use or a charge (monthly: 45 days).
	DormantCadences = 1.5
	// ClusterWindow is how many consecutive bill days a cluster spans.
	ClusterWindow = 3
	// ClusterMinBills bills in one window make a cluster; so do
	// ClusterMinShareBills bills making ClusterSpendShare of the monthly spend.
	ClusterMinBills      = 3
	ClusterMinShareBills = 2
	ClusterSpendShare    = 0.40
	// TrialSoonDays is the trial horizon of the health score and the pulse.
	TrialSoonDays = 7
)

// ScoreFormula is the health score's formula in words (BillingHealth.scoreFormula).
const ScoreFormula = "health_score = 100 − 10 per price hike (at most −30) − 8 per dormant service (at most −32) " +
	"− 6 per billing cluster (at most −18) − 5 per trial ending within 7 days (at most −20), clamped to 0–100. " +
	"A price hike is a latest price more than 7.5 % above the previous one (changes within ±7.5 % are noise); " +
	"a service is dormant after 1.5× its billing cadence (monthly: 45 days) without a use or a charge; " +
	"a billing cluster is 3 consecutive bill days (wrapping month end) holding at least 3 bills, " +
	"or at least 2 bills making 40 % or more of the monthly spend."

// Score is the health score: see ScoreFormula.
func Score(priceHikes, dormant, clusters, trialsEndingSoon int) int {
	score := 100 - min(10*priceHikes, 30) - min(8*dormant, 32) - min(6*clusters, 18) - min(5*trialsEndingSoon, 20)
	return max(0, min(100, score))
}

// cadenceDays is the billing period of each catalog provider, in days.
var cadenceDays = sync.OnceValue(func() map[string]float64 {
	m := map[string]float64{}
	for _, p := range catalog.All() {
		switch p.Cadence {
		case catalog.Weekly:
			m[p.Key] = 7
		case catalog.Annual:
			m[p.Key] = 365
		default: // monthly, and "varies" read as the common case
			m[p.Key] = 30
		}
	}
	return m
})

func periodDays(providerKey string) float64 {
	if d, ok := cadenceDays()[providerKey]; ok {
		return d
	}
	return 30
}

// day is a UTC calendar day.
func day(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// daysBetween counts calendar days from a to b (negative when b is earlier).
func daysBetween(a, b time.Time) int {
	return int(day(b).Sub(day(a)).Hours() / 24)
}

// live loads the viewer's subscriptions that are not cancelled.
func live(ctx context.Context, client *ent.Client) ([]*ent.Subscription, error) {
	if err := rule.RequirePerson(ctx); err != nil {
		return nil, err
	}
	return client.Subscription.Query().Where(subscription.StatusNEQ(subscription.StatusCancelled)).
		Order(ent.Asc(subscription.FieldNormalizedName), ent.Asc(subscription.FieldID)).All(ctx)
}

// Health analyses the viewer's active subscriptions: price hikes, dormant
// services, billing clusters and the health score. Two queries, however
// many subscriptions.
func (s Service) Health(ctx context.Context, client *ent.Client) (*BillingHealth, error) {
	subs, points, err := livePriced(ctx, client)
	if err != nil {
		return nil, err
	}
	return analyze(subs, points, s.now()), nil
}

// livePriced loads the viewer's live subscriptions (live) and the price
// history of the active ones, newest first per subscription.
func livePriced(ctx context.Context, client *ent.Client) ([]*ent.Subscription, map[string][]*ent.PricePoint, error) {
	subs, err := live(ctx, client)
	if err != nil {
		return nil, nil, err
	}
	var ids []string
	for _, s := range subs {
		if s.Status == subscription.StatusActive {
			ids = append(ids, s.ID)
		}
	}
	out := map[string][]*ent.PricePoint{}
	if len(ids) == 0 {
		return subs, out, nil
	}
	points, err := client.PricePoint.Query().Where(pricepoint.SubscriptionIDIn(ids...)).
		Order(ent.Desc(pricepoint.FieldObservedAt), ent.Desc(pricepoint.FieldID)).All(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range points {
		out[p.SubscriptionID] = append(out[p.SubscriptionID], p)
	}
	return subs, out, nil
}

// analyze is Health over loaded rows: subs are the live (not cancelled)
// subscriptions, points their price histories newest first.
func analyze(subs []*ent.Subscription, points map[string][]*ent.PricePoint, now time.Time) *BillingHealth {
	var active []*ent.Subscription
	for _, s := range subs {
		if s.Status == subscription.StatusActive {
			active = append(active, s)
		}
	}
	total, cur := totalOf(active)
	h := &BillingHealth{
		ScoreFormula:     ScoreFormula,
		PriceHikes:       hikes(active, points),
		Dormant:          dormant(active, now),
		BillingClusters:  clusters(active, total, cur),
		TrialsEndingSoon: trialsEnding(subs, now, TrialSoonDays),
		TotalMonthly:     dollars(total),
		Currency:         cur,
		ActiveCount:      len(active),
	}
	h.HealthScore = Score(len(h.PriceHikes), len(h.Dormant), len(h.BillingClusters), h.TrialsEndingSoon)
	return h
}

// hikes compares each subscription's latest price with the one before it.
// A first price after a free period (previous 0) is not a hike: there is no
// percentage to speak of, and a trial ending is reported as a trial.
func hikes(active []*ent.Subscription, points map[string][]*ent.PricePoint) []*PriceHike {
	out := []*PriceHike{}
	for _, s := range active {
		ps := points[s.ID]
		if len(ps) < 2 {
			continue
		}
		latest, prev := ps[0], ps[1]
		if prev.AmountCents <= 0 || latest.Currency != prev.Currency {
			continue
		}
		if float64(latest.AmountCents) <= float64(prev.AmountCents)*(1+NoiseBand) {
			continue
		}
		pct := float64(latest.AmountCents-prev.AmountCents) * 100 / float64(prev.AmountCents)
		out = append(out, &PriceHike{
			SubscriptionID: s.ID, Name: s.Name, Currency: latest.Currency, Since: latest.ObservedAt.UTC(),
			OldAmount: dollars(prev.AmountCents), NewAmount: dollars(latest.AmountCents),
			Percent: float64(int64(pct*10+0.5)) / 10,
		})
	}
	slices.SortStableFunc(out, func(a, b *PriceHike) int {
		return cmp.Or(cmp.Compare(b.Percent, a.Percent), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// dormant lists the active subscriptions with no use, charge or addition in
// more than DormantCadences billing periods.
func dormant(active []*ent.Subscription, now time.Time) []*DormantService {
	out := []*DormantService{}
	for _, s := range active {
		last := s.CreatedAt
		for _, t := range []*time.Time{s.LastUsedAt, s.LastChargedAt} {
			if t != nil && t.After(last) {
				last = *t
			}
		}
		limit := time.Duration(DormantCadences * periodDays(s.ProviderKey) * float64(24*time.Hour))
		idle := now.Sub(last)
		if idle <= limit {
			continue
		}
		out = append(out, &DormantService{
			SubscriptionID: s.ID, Name: s.Name, DaysIdle: int(idle / (24 * time.Hour)), LastSeen: last.UTC(),
			MonthlyAmount: dollars(s.AmountCents), Currency: s.Currency,
		})
	}
	slices.SortStableFunc(out, func(a, b *DormantService) int {
		return cmp.Or(cmp.Compare(b.DaysIdle, a.DaysIdle), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// clusters finds windows of ClusterWindow consecutive bill days (30, 31, 1
// is one: the month wraps) that hold many bills or much of the monthly
// spend (spend, in cur). The fullest qualifying window is taken first (most
// bills, then most money, then earliest start), its bills leave the pool,
// and the search repeats, so a bill is in one cluster at most.
func clusters(active []*ent.Subscription, spend int64, cur string) []*BillingCluster {
	byDay := map[int][]*ent.Subscription{}
	for _, s := range active {
		if s.BillDay != nil {
			byDay[*s.BillDay] = append(byDay[*s.BillDay], s)
		}
	}
	window := func(start int) []int {
		days := make([]int, ClusterWindow)
		for i := range days {
			days[i] = (start-1+i)%31 + 1
		}
		return days
	}
	out := []*BillingCluster{}
	for {
		var best *BillingCluster
		var bestTotal int64
		for start := 1; start <= 31; start++ {
			c := &BillingCluster{Days: []int{}, Names: []string{}}
			var total int64
			for _, d := range window(start) {
				if len(byDay[d]) == 0 {
					continue
				}
				c.Days = append(c.Days, d)
				for _, s := range byDay[d] {
					c.Count++
					c.Names = append(c.Names, s.Name)
					if s.Currency == cur {
						total += s.AmountCents
					}
				}
			}
			share := spend > 0 && float64(total) >= ClusterSpendShare*float64(spend)
			if c.Count < ClusterMinBills && (c.Count < ClusterMinShareBills || !share) {
				continue
			}
			if best == nil || c.Count > best.Count || (c.Count == best.Count && total > bestTotal) {
				best, bestTotal = c, total
				best.Total = dollars(total)
			}
		}
		if best == nil {
			break
		}
		for _, d := range best.Days {
			delete(byDay, d)
		}
		out = append(out, best)
	}
	slices.SortFunc(out, func(a, b *BillingCluster) int { return cmp.Compare(a.Days[0], b.Days[0]) })
	return out
}

// trialsEnding counts the live subscriptions whose trial ends today or
// within horizon days.
func trialsEnding(subs []*ent.Subscription, now time.Time, horizon int) int {
	n := 0
	for _, s := range subs {
		if left, ok := trialDaysLeft(s, now); ok && left >= 0 && left <= horizon {
			n++
		}
	}
	return n
}

func trialDaysLeft(s *ent.Subscription, now time.Time) (int, bool) {
	if s.TrialEndDate == nil || s.Status == subscription.StatusCancelled {
		return 0, false
	}
	end, err := time.Parse(time.DateOnly, *s.TrialEndDate)
	if err != nil {
		return 0, false
	}
	return daysBetween(now, end), true
}

// checkHorizon validates trialHorizonDays (nil: TrialSoonDays).
func checkHorizon(horizon *int) (int, error) {
	if horizon == nil {
		return TrialSoonDays, nil
	}
	if *horizon < 1 || *horizon > 30 {
		return 0, fault.Invalid("trialHorizonDays", "must be between 1 and 30 days; got %d", *horizon)
	}
	return *horizon, nil
}

// Tasks is the agent's worklist: trial_ending for each trial ending today
// or within horizon days (nil: 7; 1–30), resume_due for each pause that has
// elapsed; most urgent first.
func (s Service) Tasks(ctx context.Context, client *ent.Client, horizon *int) ([]*ProactiveTask, error) {
	h, err := checkHorizon(horizon)
	if err != nil {
		return nil, err
	}
	subs, err := live(ctx, client)
	if err != nil {
		return nil, err
	}
	return s.tasks(subs, s.now(), h), nil
}

func (s Service) tasks(subs []*ent.Subscription, now time.Time, horizon int) []*ProactiveTask {
	out := []*ProactiveTask{}
	for _, sub := range subs {
		amount := dollars(sub.AmountCents)
		if left, ok := trialDaysLeft(sub, now); ok && left >= 0 && left <= horizon {
			t := &ProactiveTask{
				Kind: TaskTrialEnding, SubscriptionID: sub.ID, Name: sub.Name, DueDate: *sub.TrialEndDate,
				DaysLeft: left, AmountMonthly: amount, Currency: sub.Currency,
				Message: fmt.Sprintf("The %s trial ends %s (%s) and then bills %.2f %s a month: ask whether to keep, pause or cancel it.",
					sub.Name, InDays(left), *sub.TrialEndDate, amount, sub.Currency),
			}
			if u := s.pauseURL(sub.ID); u != "" {
				t.PauseURL = &u
			}
			out = append(out, t)
		}
		if sub.Status == subscription.StatusPaused && sub.PausedUntil != nil && !sub.PausedUntil.After(now) {
			due := sub.PausedUntil.UTC().Format(time.DateOnly)
			left := daysBetween(now, *sub.PausedUntil)
			out = append(out, &ProactiveTask{
				Kind: TaskResumeDue, SubscriptionID: sub.ID, Name: sub.Name, DueDate: due,
				DaysLeft: left, AmountMonthly: amount, Currency: sub.Currency,
				Message: fmt.Sprintf("The pause of %s ended %s (%s): resume it or cancel it.", sub.Name, agoDays(-left), due),
			})
		}
	}
	slices.SortStableFunc(out, func(a, b *ProactiveTask) int {
		return cmp.Or(cmp.Compare(a.DaysLeft, b.DaysLeft), cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.SubscriptionID, b.SubscriptionID))
	})
	return out
}

// InDays says when something n days from today happens: "today",
// "tomorrow", "in 3 days". The trial reminders use it too.
func InDays(n int) string {
	switch n {
	case 0:
		return "today"
	case 1:
		return "tomorrow"
	}
	return fmt.Sprintf("in %d days", n)
}

func agoDays(n int) string {
	switch n {
	case 0:
		return "today"
	case 1:
		return "yesterday"
	}
	return fmt.Sprintf("%d days ago", n)
}

// nextBill is the next date (today or later) a bill on day billDay
// arrives; in a shorter month, a day past its end bills on its last day.
func nextBill(billDay int, now time.Time) time.Time {
	today := day(now)
	in := func(y int, m time.Month) time.Time {
		last := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
		return time.Date(y, m, min(billDay, last), 0, 0, 0, 0, time.UTC)
	}
	if d := in(today.Year(), today.Month()); !d.Before(today) {
		return d
	}
	return in(today.Year(), today.Month()+1)
}

// PulseBillDays is how far ahead the pulse lists bills.
const PulseBillDays = 7

// Pulse is everything an agent needs in one read: counts, the monthly
// total, the next week's bills, the worklist (7-day trial horizon) and the
// health score. Two queries.
func (s Service) Pulse(ctx context.Context, client *ent.Client) (*SubscriptionPulse, error) {
	subs, points, err := livePriced(ctx, client)
	if err != nil {
		return nil, err
	}
	now := s.now()
	h := analyze(subs, points, now)
	p := &SubscriptionPulse{
		ActiveCount: h.ActiveCount, TrialCount: h.TrialsEndingSoon, TotalMonthly: h.TotalMonthly, Currency: h.Currency,
		NextBills: []*UpcomingBill{}, Tasks: s.tasks(subs, now, TrialSoonDays), HealthScore: h.HealthScore, GeneratedAt: now,
	}
	for _, sub := range subs {
		if sub.Status == subscription.StatusPaused {
			p.PausedCount++
		}
		if sub.Status != subscription.StatusActive || sub.BillDay == nil {
			continue
		}
		due := nextBill(*sub.BillDay, now)
		if left := daysBetween(now, due); left <= PulseBillDays {
			p.NextBills = append(p.NextBills, &UpcomingBill{
				SubscriptionID: sub.ID, Name: sub.Name, DueDate: due.Format(time.DateOnly), DaysLeft: left,
				AmountMonthly: dollars(sub.AmountCents), Currency: sub.Currency,
			})
		}
	}
	slices.SortStableFunc(p.NextBills, func(a, b *UpcomingBill) int {
		return cmp.Or(cmp.Compare(a.DaysLeft, b.DaysLeft), cmp.Compare(a.Name, b.Name))
	})
	return p, nil
}
