package ratelimit

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Redis is the Limiter shared by every instance: go-redis/redis_rate's GCRA,
// one Lua script per call, so the check and the update are atomic and every
// instance reads the same clock (Redis's). State lives at [StorageKey] and
// expires by itself once the key's budget is whole again.
type Redis struct {
	rl *redis_rate.Limiter
}

// NewRedis returns a Limiter storing its state in client (a single server,
// a cluster or a failover client).
func NewRedis(client redis.UniversalClient) *Redis {
	return &Redis{rl: redis_rate.NewLimiter(unprefixed{client})}
}

// Allow implements [Limiter]. A Redis failure is returned, not decided:
// see [Check] for the fail-open policy.
func (r *Redis) Allow(ctx context.Context, l Limit, key string) (Result, error) {
	if err := l.validate(); err != nil {
		return Result{Limit: l}, err
	}
	res, err := r.rl.Allow(ctx, StorageKey(l, key), redis_rate.Limit{Rate: l.Rate, Burst: l.Rate, Period: l.Per})
	if err != nil {
		return Result{Limit: l}, fmt.Errorf("ratelimit %s: redis: %w", l.Name, err)
	}
	out := Result{Allowed: res.Allowed > 0, ResetAfter: max(res.ResetAfter, 0), Limit: l}
	if out.Allowed {
		// redis_rate's Remaining is a Lua float truncated to an integer, so
		// 1,000 / hour can report 998.999… as 998. Recompute it from the
		// outstanding budget (ResetAfter), forgiving a millionth of a call
		// of floating-point rounding.
		free := float64(l.Per-out.ResetAfter)/float64(l.interval()) + 1e-6
		out.Remaining = min(max(int(math.Floor(free)), 0), l.Rate-1)
	} else {
		out.RetryAfter = max(res.RetryAfter, 0)
	}
	return out, nil
}

// unprefixed removes the "rate:" prefix redis_rate puts before every key, so
// that keys sit under Tandem's own namespace ([KeyPrefix]), which Redis ACLs
// and key scans can name. It forwards everything else unchanged.
type unprefixed struct{ redis.UniversalClient }

const redisRatePrefix = "rate:"

func stripPrefix(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = strings.TrimPrefix(k, redisRatePrefix)
	}
	return out
}

func (c unprefixed) Eval(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return c.UniversalClient.Eval(ctx, script, stripPrefix(keys), args...)
}

func (c unprefixed) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return c.UniversalClient.EvalSha(ctx, sha1, stripPrefix(keys), args...)
}

func (c unprefixed) EvalRO(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return c.UniversalClient.EvalRO(ctx, script, stripPrefix(keys), args...)
}

func (c unprefixed) EvalShaRO(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return c.UniversalClient.EvalShaRO(ctx, sha1, stripPrefix(keys), args...)
}

func (c unprefixed) Del(ctx context.Context, keys ...string) *redis.IntCmd {
	return c.UniversalClient.Del(ctx, stripPrefix(keys)...)
}
