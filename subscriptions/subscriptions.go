// Package subscriptions is the Subscriptions product's domain (seed 004): a
// person's memory of their subscriptions. It ingests and dedupes them, keeps
// their price history, pauses, resumes and cancels them, and reads them back
// as pages, billing health, an agent's worklist and a one-read pulse; it
// also keeps the show swipes and discovery events that the cross-person
// leaderboard and the admins' analytics aggregate.
//
// Every read and write goes through the ent client with the caller's
// context: the viewer must act for one person (rule.PersonScopedPolicy
// scopes every row to them). Only the cross-person aggregates (TopShows,
// Analytics) and the shared catalog and show tables are read or written as
// the system, after their own check.
package subscriptions

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/ent/subscription"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/viewer"
)

// Service holds what the operations need besides the database: a clock and
// the pause-link signer. The zero Service uses the wall clock and makes no
// pause links.
type Service struct {
	// Now is the clock; nil: time.Now. Dates are taken in UTC.
	Now func() time.Time
	// PauseURL returns the signed 7-day pause link of a subscription
	// (pauselink.Signer.URL); nil: no links (empty PauseURL fields).
	PauseURL func(subscriptionID string) string
}

func (s Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s Service) pauseURL(id string) string {
	if s.PauseURL == nil {
		return ""
	}
	return s.PauseURL(id)
}

// Sources a subscription or an event may come from.
const (
	SourceMCP       = "mcp"
	SourceDashboard = "dashboard"
	// SourcePartnerPrefix starts the source of a partner's ingest: partner:<source>.
	SourcePartnerPrefix = "partner:"
)

// SourceOf says who is telling us, from the viewer in ctx: a partner's
// viewer is "partner:<source>", a person's user token (/mcp) is "mcp", a
// signed-in person is "dashboard".
func SourceOf(ctx context.Context) string {
	v := viewer.FromContext(ctx)
	switch {
	case v == nil:
		return SourceDashboard
	case v.PartnerSource != "":
		return SourcePartnerPrefix + v.PartnerSource
	case v.ActorType == viewer.ActorPerson:
		return SourceMCP
	}
	return SourceDashboard
}

// notFound is the refusal for an id that is not one of the viewer's
// subscriptions (another person's reads the same).
func notFound(field, id string) error {
	return fault.NotFound(field, "subscription %q not found among yours: call kordi_list_subscriptions (mySubscriptions) and use an id from it", id)
}

// get loads one of the viewer's subscriptions.
func get(ctx context.Context, client *ent.Client, field, id string) (*ent.Subscription, error) {
	if err := rule.RequirePerson(ctx); err != nil {
		return nil, err
	}
	s, err := client.Subscription.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, notFound(field, id)
	}
	return s, err
}

// dollars turns minor units into major units for the Float fields agents read.
func dollars(cents int64) float64 { return float64(cents) / 100 }

// Cents turns a monthly amount in major units into minor units, rounding
// half away from zero on the decimal the caller wrote (15.995 is 1600, not
// the 1599 that 15.995*100 = 1599.4999… would give).
func Cents(amount float64) int64 {
	s := strconv.FormatFloat(math.Abs(amount), 'f', -1, 64) // shortest text that reads back as amount
	whole, frac, _ := strings.Cut(s, ".")
	frac += "000"
	n, _ := strconv.ParseInt(whole+frac[:2], 10, 64)
	if frac[2] >= '5' {
		n++
	}
	if amount < 0 {
		return -n
	}
	return n
}

// billDateText is a subscription's bill date as text: the day, or the text given.
func billDateText(s *ent.Subscription) *string {
	switch {
	case s.BillDay != nil:
		d := strconv.Itoa(*s.BillDay)
		return &d
	case s.BillDateText != "":
		t := s.BillDateText
		return &t
	}
	return nil
}

// MonthlyAmount is UserSubscription.monthlyAmount: the amount in major units.
func MonthlyAmount(s *ent.Subscription) float64 { return dollars(s.AmountCents) }

// BillDateOf is UserSubscription.billDate: the day as text, or the text given.
func BillDateOf(s *ent.Subscription) *string { return billDateText(s) }

// List returns one page of the viewer's subscriptions ordered by name:
// active ones, and paused ones when includePaused; never cancelled ones.
func List(ctx context.Context, client *ent.Client, offset, limit *int, includePaused *bool) (*SubscriptionPage, error) {
	off, lim := 0, 25
	if offset != nil {
		off = *offset
	}
	if limit != nil {
		lim = *limit
	}
	if off < 0 {
		return nil, fault.Invalid("offset", "must be 0 or more; got %d", off)
	}
	if lim < 1 || lim > 100 {
		return nil, fault.Invalid("limit", "must be between 1 and 100; got %d", lim)
	}
	if err := rule.RequirePerson(ctx); err != nil {
		return nil, err
	}
	statuses := []subscription.Status{subscription.StatusActive}
	if includePaused != nil && *includePaused {
		statuses = append(statuses, subscription.StatusPaused)
	}
	q := client.Subscription.Query().Where(subscription.StatusIn(statuses...))
	total, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, err
	}
	// The normalized name sorts the same on every database (lowercase
	// letters, digits and spaces); the id breaks ties.
	items, err := q.Order(ent.Asc(subscription.FieldNormalizedName), ent.Asc(subscription.FieldID)).
		Offset(off).Limit(lim).All(ctx)
	if err != nil {
		return nil, err
	}
	return &SubscriptionPage{Items: items, Total: total, Offset: off, Limit: lim, HasMore: off+len(items) < total}, nil
}

// TotalMonthly is the monthly spend of the viewer's active subscriptions, in
// minor units of their main currency (the one most of them bill in; see
// Totals).
func TotalMonthly(ctx context.Context, client *ent.Client) (cents int64, err error) {
	cents, _, err = Totals(ctx, client)
	return cents, err
}

// Totals is TotalMonthly with the currency it is in. Subscriptions billed
// in another currency are not added: amounts in different currencies do
// not sum.
func Totals(ctx context.Context, client *ent.Client) (cents int64, currency string, err error) {
	if err := rule.RequirePerson(ctx); err != nil {
		return 0, "", err
	}
	active, err := client.Subscription.Query().Where(subscription.StatusEQ(subscription.StatusActive)).All(ctx)
	if err != nil {
		return 0, "", err
	}
	cents, currency = totalOf(active)
	return cents, currency, nil
}

// mainCurrency is the currency most of subs bill in; USD wins a tie it is
// part of (and an empty list), else the first code alphabetically.
func mainCurrency(subs []*ent.Subscription) string {
	counts := map[string]int{}
	for _, s := range subs {
		counts[s.Currency]++
	}
	best, bestN := "USD", counts["USD"]
	for c, n := range counts {
		if n > bestN || (n == bestN && c < best && best != "USD") {
			best, bestN = c, n
		}
	}
	return best
}

// totalOf sums the amounts of subs in their main currency.
func totalOf(subs []*ent.Subscription) (int64, string) {
	cur := mainCurrency(subs)
	var sum int64
	for _, s := range subs {
		if s.Currency == cur {
			sum += s.AmountCents
		}
	}
	return sum, cur
}
