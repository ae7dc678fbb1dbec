package relay

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestMemoryReplayCache(t *testing.T) {
	ctx := context.Background()

	t.Run("second sighting within ttl is seen", func(t *testing.T) {
		c := newClock(base)
		cache := NewMemoryReplayCache(c.Now)
		steps := []struct {
			at   time.Duration
			key  string
			want bool
		}{
			{0, "a", false},
			{0, "a", true},
			{0, "b", false},
			{time.Minute - 1, "a", true},
			{time.Minute, "a", false}, // expired exactly at ttl, recorded afresh
			{time.Minute, "a", true},
		}
		for i, s := range steps {
			c.Set(base.Add(s.at))
			got, err := cache.Seen(ctx, s.key, time.Minute)
			if err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			if got != s.want {
				t.Fatalf("step %d: Seen(%q) at +%v = %v, want %v", i, s.key, s.at, got, s.want)
			}
		}
	})

	t.Run("expired entries are dropped", func(t *testing.T) {
		c := newClock(base)
		cache := NewMemoryReplayCache(c.Now).(*memoryCache)
		for i := range 1000 {
			ttl := time.Duration(1+i%7) * time.Second // out of order expiries
			if _, err := cache.Seen(ctx, fmt.Sprint(i), ttl); err != nil {
				t.Fatal(err)
			}
		}
		if n := cache.len(); n != 1000 {
			t.Fatalf("len = %d, want 1000", n)
		}
		c.Set(base.Add(3 * time.Second))
		if _, err := cache.Seen(ctx, "new", time.Second); err != nil {
			t.Fatal(err)
		}
		// Keys with ttl 1..3 s are gone: i%7 in {0,1,2}.
		want := 1 + 1000 - (143 + 143 + 143)
		if n := cache.len(); n != want {
			t.Fatalf("len after 3 s = %d, want %d", n, want)
		}
		c.Set(base.Add(time.Hour))
		if _, err := cache.Seen(ctx, "last", time.Second); err != nil {
			t.Fatal(err)
		}
		if n := cache.len(); n != 1 {
			t.Fatalf("len after an hour = %d, want 1", n)
		}
	})

	t.Run("non-positive ttl refused", func(t *testing.T) {
		cache := NewMemoryReplayCache(fixed(base))
		for _, ttl := range []time.Duration{0, -time.Second} {
			if _, err := cache.Seen(ctx, "k", ttl); err == nil {
				t.Fatalf("ttl %v accepted", ttl)
			}
		}
	})

	t.Run("concurrent sightings: exactly one first", func(t *testing.T) {
		testConcurrentFirst(t, NewMemoryReplayCache(nil), "k")
	})
}

// testConcurrentFirst races many goroutines on one key and checks that
// exactly one of them is told the key is new.
func testConcurrentFirst(t *testing.T, cache ReplayCache, key string) {
	t.Helper()
	const n = 64
	var first atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			<-start
			seen, err := cache.Seen(context.Background(), key, time.Minute)
			if err != nil {
				errs <- err
				return
			}
			if !seen {
				first.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := first.Load(); got != 1 {
		t.Fatalf("%d goroutines saw the key as new, want 1", got)
	}
}

// redisClient connects to the Redis named by TANDEM_TEST_REDIS_URL and
// returns a random key prefix, so parallel or repeated runs do not collide,
// and deletes the keys under it when the test ends.
func redisClient(t *testing.T) (*redis.Client, string) {
	t.Helper()
	url := os.Getenv("TANDEM_TEST_REDIS_URL")
	if url == "" {
		t.Skip("TANDEM_TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/0)")
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("TANDEM_TEST_REDIS_URL: %v", err)
	}
	c := redis.NewClient(opts)
	ctx := context.Background()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("ping Redis: %v", err)
	}
	prefix := "tandem-test:relay:" + rand.Text() + ":"
	t.Cleanup(func() {
		keys, err := c.Keys(ctx, prefix+"*").Result()
		if err == nil && len(keys) > 0 {
			c.Del(ctx, keys...)
		}
		c.Close()
	})
	return c, prefix
}

func TestRedisReplayCache(t *testing.T) {
	ctx := context.Background()
	c, prefix := redisClient(t)
	cache := NewRedisReplayCache(c, prefix)

	t.Run("second sighting is seen", func(t *testing.T) {
		for i, want := range []bool{false, true, true} {
			got, err := cache.Seen(ctx, "k", time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("call %d: Seen = %v, want %v", i, got, want)
			}
		}
	})

	t.Run("key carries the ttl", func(t *testing.T) {
		ttl := 90*time.Second + 300*time.Microsecond // rounded up to whole ms
		if _, err := cache.Seen(ctx, "ttl", ttl); err != nil {
			t.Fatal(err)
		}
		left, err := c.PTTL(ctx, prefix+"ttl").Result()
		if err != nil {
			t.Fatal(err)
		}
		if left <= 89*time.Second || left > 90*time.Second+time.Millisecond {
			t.Fatalf("PTTL = %v, want just under %v", left, ttl)
		}
	})

	t.Run("non-positive ttl refused", func(t *testing.T) {
		if _, err := cache.Seen(ctx, "zero", 0); err == nil {
			t.Fatal("ttl 0 accepted")
		}
		if n := c.Exists(ctx, prefix+"zero").Val(); n != 0 {
			t.Fatal("a key without expiry was written")
		}
	})

	t.Run("concurrent sightings: exactly one first", func(t *testing.T) {
		testConcurrentFirst(t, cache, "race")
	})

	t.Run("replay refused by another instance", func(t *testing.T) {
		s := Signer{Secret: newSecret, Now: fixed(base)}
		// Two API instances sharing Redis, their clocks 2 s apart.
		a := Verifier{Secrets: [][]byte{newSecret}, Now: fixed(base), Replay: NewRedisReplayCache(c, prefix)}
		b := Verifier{Secrets: [][]byte{newSecret}, Now: fixed(base.Add(2 * time.Second)), Replay: NewRedisReplayCache(c, prefix)}
		h := s.Sign("POST", "/api/v1/x", []byte("body"))
		if err := a.Verify(ctx, h, "POST", "/api/v1/x", []byte("body")); err != nil {
			t.Fatalf("first Verify: %v", err)
		}
		// Signed just now, so the key must outlive the rest of the window plus
		// one window of slack: 600 s.
		digest := sha256.Sum256([]byte(message(base.Unix(), "POST", "/api/v1/x", []byte("body"))))
		left, err := c.PTTL(ctx, prefix+hex.EncodeToString(digest[:])).Result()
		if err != nil {
			t.Fatal(err)
		}
		if left <= 2*Window-time.Second || left > 2*Window {
			t.Fatalf("replay key PTTL = %v, want just under %v", left, 2*Window)
		}
		for name, v := range map[string]Verifier{"same instance": a, "other instance": b} {
			if err := v.Verify(ctx, h, "POST", "/api/v1/x", []byte("body")); !errors.Is(err, ErrReplayed) {
				t.Fatalf("%s: replay Verify = %v, want ErrReplayed", name, err)
			}
		}
		other := s.Sign("POST", "/api/v1/x", []byte("other body"))
		if err := b.Verify(ctx, other, "POST", "/api/v1/x", []byte("other body")); err != nil {
			t.Fatalf("distinct request: %v", err)
		}
	})
}

// TestRedisUnavailableFailsClosed needs no Redis: it points at a port nothing
// listens on and checks that a cache error refuses the request rather than
// waving it through unprotected.
func TestRedisUnavailableFailsClosed(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1, DialTimeout: time.Second})
	defer c.Close()
	v := Verifier{Secrets: [][]byte{newSecret}, Now: fixed(base), Replay: NewRedisReplayCache(c, "")}
	h := Signer{Secret: newSecret, Now: fixed(base)}.Sign("GET", "/x", nil)
	err := v.Verify(context.Background(), h, "GET", "/x", nil)
	if err == nil {
		t.Fatal("Verify succeeded without a replay cache")
	}
	for _, sentinel := range []error{ErrReplayed, ErrBadSignature, ErrMalformed, ErrExpired} {
		if errors.Is(err, sentinel) {
			t.Fatalf("cache failure reported as %v", sentinel)
		}
	}
}
