package subscriptions

import (
	"context"
	"time"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/subscription"
	"github.com/tandemhq/tandem/fault"
)

// Pause pauses one of the viewer's subscriptions until until (the zero time:
// until resumed). until must be in the future; pausing again moves it. A
// cancelled subscription cannot be paused.
func (s Service) Pause(ctx context.Context, client *ent.Client, id string, until time.Time) (*ent.Subscription, error) {
	sub, err := get(ctx, client, "id", id)
	if err != nil {
		return nil, err
	}
	if sub.Status == subscription.StatusCancelled {
		return nil, fault.Conflict("id", "subscription_cancelled",
			"%s is cancelled, so it cannot be paused: ingest it again to make it active first", sub.Name)
	}
	upd := sub.Update().SetStatus(subscription.StatusPaused)
	if until.IsZero() {
		upd.ClearPausedUntil()
	} else {
		if !until.After(s.now()) {
			return nil, fault.Invalid("until", "must be in the future (got %s): omit it to pause until resumed", until.UTC().Format(time.RFC3339))
		}
		upd.SetPausedUntil(until.UTC())
	}
	return upd.Save(ctx)
}

// Resume makes a paused subscription active again; an active one is left
// as it is. A cancelled one is refused: ingesting it again reactivates it.
func (s Service) Resume(ctx context.Context, client *ent.Client, id string) (*ent.Subscription, error) {
	sub, err := get(ctx, client, "id", id)
	if err != nil {
		return nil, err
	}
	switch sub.Status {
	case subscription.StatusActive:
		return sub, nil
	case subscription.StatusCancelled:
		return nil, fault.Conflict("id", "subscription_cancelled",
			"%s is cancelled, so there is nothing to resume: ingest it again to make it active", sub.Name)
	}
	return sub.Update().SetStatus(subscription.StatusActive).ClearPausedUntil().Save(ctx)
}

// Cancel marks a subscription cancelled; cancelling again changes nothing.
func (s Service) Cancel(ctx context.Context, client *ent.Client, id string) (*ent.Subscription, error) {
	sub, err := get(ctx, client, "id", id)
	if err != nil {
		return nil, err
	}
	if sub.Status == subscription.StatusCancelled {
		return sub, nil
	}
	return sub.Update().SetStatus(subscription.StatusCancelled).SetCancelledAt(s.now()).ClearPausedUntil().Save(ctx)
}

// RecordUsage records that the viewer used the service at at (nil: now),
// which keeps it from being reported dormant. A time in the future is
// refused; an older signal than the one stored changes nothing.
func (s Service) RecordUsage(ctx context.Context, client *ent.Client, id string, at *time.Time) (*ent.Subscription, error) {
	now := s.now()
	when := now
	if at != nil {
		when = at.UTC()
		// A minute of slack for the caller's clock.
		if when.After(now.Add(time.Minute)) {
			return nil, fault.Invalid("at", "must not be in the future (got %s, now %s): omit it to mean now",
				when.Format(time.RFC3339), now.Format(time.RFC3339))
		}
	}
	sub, err := get(ctx, client, "id", id)
	if err != nil {
		return nil, err
	}
	if sub.LastUsedAt != nil && !when.After(*sub.LastUsedAt) {
		return sub, nil
	}
	return sub.Update().SetLastUsedAt(when).Save(ctx)
}
