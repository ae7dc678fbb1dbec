package subscriptions

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/currency"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/discoveryevent"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/ent/subscription"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/money"
	"github.com/tandemhq/tandem/subscriptions/catalog"
)

// MaxAmount is the largest monthly amount an ingest accepts, in major units.
const MaxAmount = 100000

// Ingest adds or updates one of the viewer's subscriptions, with the wall
// clock and no pause link. The partner shim calls it in a context whose
// viewer is the person the subscriptions are for; source is who told us
// ("partner:<source>"). See Service.Ingest.
func Ingest(ctx context.Context, client *ent.Client, in IngestInput, source string) (*IngestResult, error) {
	return Service{}.Ingest(ctx, client, in, source)
}

// IngestOptions change how an ingest treats a subscription the person
// already has.
type IngestOptions struct {
	// AddOnly creates a new subscription but leaves an existing one (same
	// normalized name) exactly as stored: no amount, bill date, trial or
	// card change, no reactivation, no price point. A partner pushing to an
	// account it did not create may add to it, never rewrite it.
	AddOnly bool
}

// IngestWith is Ingest with options.
func IngestWith(ctx context.Context, client *ent.Client, in IngestInput, source string, opts IngestOptions) (*IngestResult, error) {
	return Service{}.IngestWith(ctx, client, in, source, opts)
}

// ingest is a checked IngestInput.
type ingest struct {
	name, normalized string
	cents            int64
	currency         string // empty: not sent
	billDay          int    // 0: not sent as a day
	billText         string // empty: not sent as text
	trialEnd         *string
	cardNetwork      *subscription.CardNetwork
	category         string
	provider         *catalog.Provider // the catalog's match for name; nil: none
}

// DedupeKey is what two ingests of one subscription share: the normalized
// name, and for a name the catalog knows the provider's, so "Spotify USA"
// from a statement and "Spotify" from an agent are one subscription.
func DedupeKey(name string) string {
	key, _ := lookup(name)
	return key
}

// lookup returns DedupeKey(name) and the catalog's provider for name (nil:
// none), so an ingest matches the catalog once.
func lookup(name string) (string, *catalog.Provider) {
	if p, ok := catalog.Lookup(name); ok {
		return catalog.Normalize(p.Name), &p
	}
	return catalog.Normalize(strings.TrimSpace(name)), nil
}

// check validates in, naming the first wrong field and how to fix it.
func check(in IngestInput) (ingest, error) {
	var g ingest
	g.name = strings.TrimSpace(in.Name)
	switch {
	case g.name == "":
		return g, fault.Invalid("name", "must not be empty: give the service's name, e.g. Netflix")
	case len(g.name) > 200:
		return g, fault.Invalid("name", "must be at most 200 characters (bytes); got %d", len(g.name))
	}
	g.normalized, g.provider = lookup(g.name)
	if g.normalized == "" {
		return g, fault.Invalid("name", "must contain letters or digits (%q names no service)", g.name)
	}
	g.normalized = truncate(g.normalized, 200)
	switch a := in.Amount; {
	case math.IsNaN(a) || math.IsInf(a, 0):
		return g, fault.Invalid("amount", "must be a number of dollars per month, e.g. 15.99")
	case a < 0:
		return g, fault.Invalid("amount", "must not be negative; got %v", a)
	case a > MaxAmount:
		return g, fault.Invalid("amount", "must be at most %d per month; got %v (send the monthly price, not a yearly total in cents)", MaxAmount, a)
	}
	g.cents = Cents(in.Amount)
	if in.Currency != nil && strings.TrimSpace(*in.Currency) != "" {
		c, err := money.Code("currency", *in.Currency)
		if err != nil {
			return g, err
		}
		if _, err := currency.ParseISO(c); err != nil {
			return g, fault.Invalid("currency", "must be an ISO 4217 currency code such as USD or EUR; %q is not one", *in.Currency)
		}
		g.currency = c
	}
	if b := in.BillDate; b != nil {
		switch {
		case b.invalid != "":
			return g, fault.Invalid("billDate", "must be a whole day of the month (1–31) or text; got %s", b.invalid)
		case b.Text == "" && (b.Day < 1 || b.Day > 31):
			return g, fault.Invalid("billDate", "must be a day of the month between 1 and 31, or text; got %d", b.Day)
		case b.Text == "":
			g.billDay = b.Day
		default:
			text := strings.TrimSpace(b.Text)
			if n, err := strconv.Atoi(text); err == nil {
				if n < 1 || n > 31 {
					return g, fault.Invalid("billDate", "must be a day of the month between 1 and 31, or text; got %d", n)
				}
				g.billDay = n
				break
			}
			if len(text) > 64 {
				return g, fault.Invalid("billDate", "text must be at most 64 characters (bytes); got %d", len(text))
			}
			g.billText = text
		}
	}
	if in.TrialEndDate != nil && strings.TrimSpace(*in.TrialEndDate) != "" {
		d := strings.TrimSpace(*in.TrialEndDate)
		if _, err := time.Parse(time.DateOnly, d); err != nil || len(d) != len(time.DateOnly) {
			return g, fault.Invalid("trialEndDate", "must be a real date written YYYY-MM-DD, e.g. 2026-07-15; got %q", *in.TrialEndDate)
		}
		g.trialEnd = &d
	}
	if in.CardNetwork != nil {
		if err := subscription.CardNetworkValidator(*in.CardNetwork); err != nil {
			return g, fault.Invalid("cardNetwork", "must be one of visa, mastercard, amex, discover; got %q", *in.CardNetwork)
		}
		g.cardNetwork = in.CardNetwork
	}
	if in.Category != nil {
		g.category = strings.TrimSpace(*in.Category)
		if len(g.category) > 40 {
			return g, fault.Invalid("category", "must be at most 40 characters (bytes); got %d", len(g.category))
		}
	}
	return g, nil
}

// Ingest adds one of the viewer's subscriptions, or updates the one with the
// same normalized name (catalog.Normalize): the amount (a new price point
// when it changes), the bill date and currency when sent, and the category
// when sent. trialEndDate and cardNetwork only enrich: an absent value never
// clears a stored one. A cancelled subscription ingested again is active
// again; a paused one stays paused. The first ingest matches the catalog,
// records the first price point and a discovery event from source.
//
// Every ingest that creates or updates sets last_charged_at to now: a
// source re-pushing a subscription is our "last seen billing" signal, so one
// a partner keeps reporting is not dormant (see dormant in health.go).
func (s Service) Ingest(ctx context.Context, client *ent.Client, in IngestInput, source string) (*IngestResult, error) {
	return s.IngestWith(ctx, client, in, source, IngestOptions{})
}

// IngestWith is Ingest with options; see IngestOptions.
func (s Service) IngestWith(ctx context.Context, client *ent.Client, in IngestInput, source string, opts IngestOptions) (*IngestResult, error) {
	g, err := check(in)
	if err != nil {
		return nil, err
	}
	if err := rule.RequirePerson(ctx); err != nil {
		return nil, err
	}
	if source == "" || len(source) > 64 {
		return nil, fault.Invalid("source", "must be 1–64 characters")
	}
	now := s.now()
	existing, err := client.Subscription.Query().Where(subscription.NormalizedName(g.normalized)).Only(ctx)
	switch {
	case ent.IsNotFound(err):
		sub, err := s.create(ctx, client, g, source, now)
		if err != nil {
			return nil, err
		}
		return &IngestResult{Subscription: sub, Created: true, PauseURL: s.pauseURL(sub.ID)}, nil
	case err != nil:
		return nil, err
	}
	if opts.AddOnly {
		return &IngestResult{Subscription: existing, PauseURL: s.pauseURL(existing.ID)}, nil
	}
	sub, err := s.update(ctx, client, existing, g, source, now)
	if err != nil {
		return nil, err
	}
	return &IngestResult{Subscription: sub, PauseURL: s.pauseURL(sub.ID)}, nil
}

func (s Service) create(ctx context.Context, client *ent.Client, g ingest, source string, now time.Time) (*ent.Subscription, error) {
	cur := g.currency
	if cur == "" {
		cur = "USD"
	}
	c := client.Subscription.Create().SetName(g.name).SetNormalizedName(g.normalized).
		SetAmountCents(g.cents).SetCurrency(cur).SetSource(source).SetCreatedAt(now).SetLastChargedAt(now).
		SetNillableTrialEndDate(g.trialEnd).SetNillableCardNetwork(g.cardNetwork)
	if g.billDay != 0 {
		c.SetBillDay(g.billDay)
	}
	if g.billText != "" {
		c.SetBillDateText(g.billText)
	}
	if g.provider != nil {
		c.SetProviderKey(g.provider.Key)
	}
	switch {
	case g.category != "":
		c.SetCategory(g.category)
	case g.provider != nil:
		c.SetCategory(string(g.provider.Category))
	}
	sub, err := c.Save(ctx)
	if ent.IsConstraintError(err) {
		// Another ingest of the same name won the race; this one's
		// transaction cannot continue on every database, so ask for a retry.
		return nil, fault.Conflict("name", "ingest_in_progress", "%s is being ingested by another call right now: call again to update it", g.name)
	}
	if err != nil {
		return nil, err
	}
	if err := recordPrice(ctx, client, sub, source, now); err != nil {
		return nil, err
	}
	err = client.DiscoveryEvent.Create().SetKind(discoveryevent.KindSubscription).
		SetSource(source).SetSubjectID(sub.ID).Exec(ctx)
	return sub, err
}

func (s Service) update(ctx context.Context, client *ent.Client, sub *ent.Subscription, g ingest, source string, now time.Time) (*ent.Subscription, error) {
	u := sub.Update().SetAmountCents(g.cents).SetLastChargedAt(now)
	cur := sub.Currency
	if g.currency != "" {
		cur = g.currency
		u.SetCurrency(cur)
	}
	switch {
	case g.billDay != 0:
		u.SetBillDay(g.billDay).ClearBillDateText()
	case g.billText != "":
		u.SetBillDateText(g.billText).ClearBillDay()
	}
	if g.trialEnd != nil {
		u.SetTrialEndDate(*g.trialEnd)
	}
	if g.cardNetwork != nil {
		u.SetCardNetwork(*g.cardNetwork)
	}
	if g.category != "" {
		u.SetCategory(g.category)
	}
	if p := g.provider; sub.ProviderKey == "" && p != nil {
		u.SetProviderKey(p.Key)
		if sub.Category == "" && g.category == "" {
			u.SetCategory(string(p.Category))
		}
	}
	if sub.Status == subscription.StatusCancelled {
		u.SetStatus(subscription.StatusActive).ClearCancelledAt()
	}
	priceChanged := g.cents != sub.AmountCents || cur != sub.Currency
	updated, err := u.Save(ctx)
	if err != nil {
		return nil, err
	}
	if priceChanged {
		if err := recordPrice(ctx, client, updated, source, now); err != nil {
			return nil, err
		}
	}
	return updated, nil
}

// recordPrice appends the subscription's current price to its history.
func recordPrice(ctx context.Context, client *ent.Client, sub *ent.Subscription, source string, now time.Time) error {
	return client.PricePoint.Create().SetSubscriptionID(sub.ID).SetAmountCents(sub.AmountCents).
		SetCurrency(sub.Currency).SetObservedAt(now).SetSource(source).Exec(ctx)
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
