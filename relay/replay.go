package relay

import (
	"container/heap"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// ReplayCache remembers keys for a while. Seen atomically records key for ttl
// and reports whether it was already recorded: true means "refuse, this was
// used before". Atomicity matters: with a check-then-set, two copies of a
// request racing each other could both be accepted.
type ReplayCache interface {
	Seen(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// errTTL is returned for a non-positive ttl: an entry that never expires
// would leak memory, and one that has already expired protects nothing.
var errTTL = errors.New("relay: replay cache ttl must be positive")

// NewMemoryReplayCache returns a ReplayCache for a single process, safe for
// concurrent use. Entries are dropped as soon as their ttl has passed, so its
// memory is bounded by the accepted request rate times the ttl; only requests
// with a valid signature reach it. now is the clock (nil means time.Now). With
// more than one API instance use NewRedisReplayCache instead: a replay sent to
// a different instance would not be caught.
func NewMemoryReplayCache(now func() time.Time) ReplayCache {
	if now == nil {
		now = time.Now
	}
	return &memoryCache{now: now, expiry: make(map[string]time.Time)}
}

type memoryCache struct {
	now    func() time.Time
	mu     sync.Mutex
	expiry map[string]time.Time // live keys and when they expire
	queue  expiryHeap           // the same keys, soonest expiry first
}

func (c *memoryCache) Seen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, errTTL
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	// Evicting on every call keeps the map exactly the set of live keys, with
	// no background goroutine to stop; each eviction is O(log n) and each key
	// is evicted once.
	for len(c.queue) > 0 && !c.queue[0].at.After(now) {
		e := heap.Pop(&c.queue).(entry)
		delete(c.expiry, e.key)
	}
	if _, ok := c.expiry[key]; ok {
		return true, nil
	}
	at := now.Add(ttl)
	c.expiry[key] = at
	heap.Push(&c.queue, entry{key: key, at: at})
	return false, nil
}

// len reports how many keys are held; tests use it to check eviction.
func (c *memoryCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.expiry)
}

type entry struct {
	key string
	at  time.Time
}

type expiryHeap []entry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(entry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = entry{}
	*h = old[:len(old)-1]
	return e
}

// DefaultRedisPrefix namespaces replay keys when NewRedisReplayCache is given
// an empty prefix.
const DefaultRedisPrefix = "tandem:relay:replay:"

// NewRedisReplayCache returns a ReplayCache shared by every API instance that
// uses the same Redis. Each key is one SET prefix+key 1 NX PX ttl: a single
// atomic command, so two instances racing on the same replay cannot both win,
// and Redis expires the key itself. Expiry runs on Redis's clock; the verifier
// already adds a window of slack to the ttl for clock differences.
func NewRedisReplayCache(c redis.UniversalClient, prefix string) ReplayCache {
	if prefix == "" {
		prefix = DefaultRedisPrefix
	}
	return &redisCache{c: c, prefix: prefix}
}

type redisCache struct {
	c      redis.UniversalClient
	prefix string
}

func (c *redisCache) Seen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, errTTL
	}
	// Round up to whole milliseconds, Redis's resolution, so the key never
	// lives shorter than asked.
	if r := ttl % time.Millisecond; r != 0 {
		ttl += time.Millisecond - r
	}
	ok, err := c.c.SetNX(ctx, c.prefix+key, 1, ttl).Result()
	if err != nil {
		return false, err
	}
	return !ok, nil
}
