package ratelimit

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// testRedis returns n separate clients (each one an "instance") to the Redis
// named by TANDEM_TEST_REDIS_URL, and a limit-name prefix unique to this
// run; keys under it are deleted when the test ends.
func testRedis(t *testing.T, n int) ([]*redis.Client, string) {
	t.Helper()
	url := os.Getenv("TANDEM_TEST_REDIS_URL")
	if url == "" {
		t.Skip("TANDEM_TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/0)")
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("TANDEM_TEST_REDIS_URL: %v", err)
	}
	ctx := context.Background()
	clients := make([]*redis.Client, n)
	for i := range clients {
		clients[i] = redis.NewClient(opts)
		if err := clients[i].Ping(ctx).Err(); err != nil {
			t.Fatalf("ping Redis: %v", err)
		}
	}
	name := "test_" + strings.ToLower(rand.Text()[:10])
	t.Cleanup(func() {
		keys, _ := scan(ctx, clients[0], KeyPrefix+name+"*")
		if len(keys) > 0 {
			clients[0].Del(ctx, keys...)
		}
		for _, c := range clients {
			c.Close()
		}
	})
	return clients, name
}

func scan(ctx context.Context, c *redis.Client, match string) ([]string, error) {
	var keys []string
	iter := c.Scan(ctx, 0, match, 100).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	return keys, iter.Err()
}

func TestRedisSpecLimits(t *testing.T) {
	clients, name := testRedis(t, 1)
	lim := NewRedis(clients[0])
	for _, spec := range []Limit{MCPToken, PartnerSource, GuestIP} {
		l := Limit{Name: name + "_" + spec.Name, Rate: spec.Rate, Per: spec.Per}
		t.Run(spec.Name, func(t *testing.T) {
			res := burst(t, lim, l, "fresh-"+rand.Text())
			// Redis's clock moved a little during the burst.
			e := l.interval()
			if res.RetryAfter > e || res.RetryAfter < e-time.Second {
				t.Errorf("RetryAfter = %v, want about %v", res.RetryAfter, e)
			}
			if res.ResetAfter > l.Per || res.ResetAfter < l.Per-time.Second {
				t.Errorf("ResetAfter = %v, want about %v", res.ResetAfter, l.Per)
			}
		})
	}
}

func TestRedisInstancesShareBudget(t *testing.T) {
	clients, name := testRedis(t, 2)
	a, b := NewRedis(clients[0]), NewRedis(clients[1])
	l := Limit{Name: name, Rate: 5, Per: time.Hour}
	key := "203.0.113.9"
	for i, lim := range []Limiter{a, b, a, b, b} {
		if res := allow(t, lim, l, key); !res.Allowed || res.Remaining != l.Rate-1-i {
			t.Fatalf("call %d: %+v, want allowed with Remaining %d", i+1, res, l.Rate-1-i)
		}
	}
	for _, lim := range []Limiter{a, b} {
		if res := allow(t, lim, l, key); res.Allowed {
			t.Errorf("call 6 allowed on another instance: %+v", res)
		}
	}
}

func TestRedisConcurrentExact(t *testing.T) {
	clients, name := testRedis(t, 2)
	l := Limit{Name: name, Rate: 50, Per: time.Hour}
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for i := range 8 {
		lim := NewRedis(clients[i%2])
		wg.Go(func() {
			for range 25 {
				res, err := lim.Allow(context.Background(), l, "shared")
				if err != nil {
					t.Error(err)
					return
				}
				if res.Allowed {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if allowed != l.Rate {
		t.Errorf("200 concurrent calls from 2 instances: %d allowed, want exactly %d", allowed, l.Rate)
	}
}

func TestRedisStoresNoToken(t *testing.T) {
	clients, name := testRedis(t, 1)
	ctx := context.Background()
	lim := NewRedis(clients[0])
	l := Limit{Name: name, Rate: 20, Per: time.Minute}
	token := "rk_mcp_" + rand.Text()
	allow(t, lim, l, token)

	keys, err := scan(ctx, clients[0], "*"+name+"*")
	if err != nil {
		t.Fatal(err)
	}
	if want := StorageKey(l, token); len(keys) != 1 || keys[0] != want {
		t.Fatalf("keys = %q, want exactly [%q]", keys, want)
	}
	if strings.Contains(keys[0], token) || strings.Contains(keys[0], token[len("rk_mcp_"):]) {
		t.Errorf("stored key %q contains the token", keys[0])
	}
	if v, _ := clients[0].Get(ctx, keys[0]).Result(); strings.Contains(v, token) {
		t.Errorf("stored value contains the token")
	}
	if ttl := clients[0].TTL(ctx, keys[0]).Val(); ttl <= 0 || ttl > l.Per {
		t.Errorf("TTL = %v, want (0, %v]: state must expire by itself", ttl, l.Per)
	}
	// Nothing under redis_rate's own prefix.
	if stray, _ := scan(ctx, clients[0], "rate:"+KeyPrefix+name+"*"); len(stray) != 0 {
		t.Errorf("keys under redis_rate's prefix: %q", stray)
	}
}

// A Redis that cannot be reached is an error from Allow, and fail-open in Check.
func TestRedisDown(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	_, err := NewRedis(c).Allow(context.Background(), MCPToken, "tok")
	if err == nil || !strings.Contains(err.Error(), "mcp_token") {
		t.Fatalf("Allow with Redis down: err = %v, want an error naming the limit", err)
	}
	failures = failureLog{}
	res := Check(context.Background(), NewRedis(c), MCPToken, "tok", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if !res.Allowed || res.Remaining != -1 {
		t.Errorf("Check with Redis down: %+v, want allowed with Remaining -1", res)
	}
}
