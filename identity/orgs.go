package identity

import (
	"context"
	"time"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/viewer"
)

// Organization returns the organization id as client reads it with ctx's
// viewer, from a snapshot kept beside the credentials: every agent session
// starts with get_org_profile, and the row changes rarely. A snapshot lives
// at most the cache's TTL and is dropped, here and on every instance, by the
// same invalidations as its organization's credentials (InvalidateOnChange:
// after every Organization change and again after its commit).
//
// Only the viewer's own organization is served from a snapshot, which is
// exactly what the privacy rules let it read; any other id, and any read
// inside a transaction (which must see its own changes), goes to the
// database. Each caller gets its own copy of the struct; what its pointers
// and slices hold is shared and must not be changed.
func (c *Cache) Organization(ctx context.Context, client *ent.Client, id string) (*ent.Organization, error) {
	if tx := ent.TxFromContext(ctx); tx != nil {
		return tx.Client().Organization.Get(ctx, id)
	}
	if v := viewer.FromContext(ctx); v == nil || v.OrgID != id {
		return client.Organization.Get(ctx, id)
	}
	now := c.now()
	c.mu.Lock()
	e, ok := c.orgs[id]
	gen := c.gen
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		cp := *e.org
		return &cp, nil
	}
	org, err := client.Organization.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	// An invalidation since the read began may have raced it: the row read
	// could predate the change, so it is not kept.
	if c.gen == gen {
		if len(c.orgs) > 10_000 {
			c.orgs = map[string]orgEntry{}
		}
		snap := *org
		c.orgs[id] = orgEntry{org: &snap, expires: now.Add(c.ttl)}
	}
	c.mu.Unlock()
	return org, nil
}

type orgEntry struct {
	org     *ent.Organization
	expires time.Time
}
