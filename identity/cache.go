package identity

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// MaxCacheTTL bounds how stale an authentication decision may be: the seed
// promises revocation, suspension and plan changes bite within ~10 seconds
// on every instance, even when the invalidation broadcast is lost.
const MaxCacheTTL = 10 * time.Second

// invalidationChannel is the Redis channel instances announce changes on.
const invalidationChannel = "tandem:auth:invalidate"

// principal is what a credential resolves to, cached by the credential's hash.
type principal struct {
	orgID, userID, tokenID string
	affiliateID            string // an affiliate-scoped MCP token's affiliate
	actor                  string // viewer.ActorType
	role                   string // viewer.Role
	plan, status           string
	emailVerified          bool
	suspended              bool
	lastUsedWritten        time.Time
	admin                  bool      // a person's Tandem operator flag (user tokens)
	expiresAt              time.Time // a user token's expiry; zero: none
}

type cacheEntry struct {
	p       *principal
	expires time.Time
}

// Cache holds resolved credentials for at most TTL. With Redis, an
// instance that revokes a credential or changes an organization tells every
// other instance to forget it at once; without, the TTL is the bound.
type Cache struct {
	ttl   time.Duration
	now   func() time.Time
	mu    sync.Mutex
	byKey map[string]cacheEntry
	orgs  map[string]orgEntry // organization snapshots (orgs.go)
	// gen counts invalidations: a snapshot read that began before one may
	// hold the old row and is not kept.
	gen   uint64
	redis redis.UniversalClient
}

// NewCache returns a cache whose entries live ttl (capped at MaxCacheTTL).
func NewCache(ttl time.Duration, now func() time.Time) *Cache {
	if ttl <= 0 || ttl > MaxCacheTTL {
		ttl = MaxCacheTTL
	}
	if now == nil {
		now = time.Now
	}
	return &Cache{ttl: ttl, now: now, byKey: map[string]cacheEntry{}, orgs: map[string]orgEntry{}}
}

func (c *Cache) get(key string) (*principal, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok || !c.now().Before(e.expires) {
		delete(c.byKey, key)
		return nil, false
	}
	return e.p, true
}

func (c *Cache) put(key string, p *principal) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.byKey) > 100_000 { // a flood of distinct credentials must not grow memory without bound
		c.byKey = map[string]cacheEntry{}
	}
	c.byKey[key] = cacheEntry{p: p, expires: c.now().Add(c.ttl)}
}

// forget drops entries for a credential hash ("key:<hash>"), an organization
// ("org:<id>", or "org:*" for all of them) or a user ("user:<id>").
func (c *Cache) forget(target string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	kind, id, _ := strings.Cut(target, ":")
	if kind == "org" {
		if id == "*" {
			clear(c.orgs)
		} else {
			delete(c.orgs, id)
		}
	}
	for k, e := range c.byKey {
		switch {
		case kind == "key" && k == id,
			e.p != nil && kind == "org" && (e.p.orgID == id || id == "*"),
			e.p != nil && kind == "user" && e.p.userID == id:
			delete(c.byKey, k)
		}
	}
}

// Invalidate forgets target here and, with Redis, on every instance.
func (c *Cache) Invalidate(ctx context.Context, target string) {
	c.forget(target)
	if c.redis != nil {
		// Best effort: a lost message costs at most one TTL of staleness.
		_ = c.redis.Publish(ctx, invalidationChannel, target).Err()
	}
}

// UseRedis makes Invalidate broadcast through rdb and applies other
// instances' broadcasts until ctx ends.
func (c *Cache) UseRedis(ctx context.Context, rdb redis.UniversalClient, log *slog.Logger) {
	c.redis = rdb
	sub := rdb.Subscribe(ctx, invalidationChannel)
	// Wait for the subscription so invalidations published after this returns are seen.
	if _, err := sub.Receive(ctx); err != nil {
		log.Warn("auth cache: redis subscription failed; revocation relies on the TTL", "err", err)
	}
	go func() {
		defer sub.Close()
		ch := sub.Channel()
		for {
			select {
			case <-ctx.Done():
				return
			case msg, ok := <-ch:
				if !ok {
					return
				}
				c.forget(msg.Payload)
			}
		}
	}()
}
