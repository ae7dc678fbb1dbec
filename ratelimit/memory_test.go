package ratelimit

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"
)

// clock is a fake clock that moves only when told to.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func allow(t *testing.T, lim Limiter, l Limit, key string) Result {
	t.Helper()
	res, err := lim.Allow(context.Background(), l, key)
	if err != nil {
		t.Fatalf("Allow(%s, %q): %v", l.Name, key, err)
	}
	return res
}

// burst asserts that a fresh key gets exactly l.Rate calls, counting down
// Remaining, and that the next call is refused; it returns the refusal.
func burst(t *testing.T, lim Limiter, l Limit, key string) Result {
	t.Helper()
	for i := range l.Rate {
		res := allow(t, lim, l, key)
		if !res.Allowed {
			t.Fatalf("%s: call %d of %d refused: %+v", l.Name, i+1, l.Rate, res)
		}
		if want := l.Rate - 1 - i; res.Remaining != want {
			t.Errorf("%s: call %d: Remaining = %d, want %d", l.Name, i+1, res.Remaining, want)
		}
		if res.RetryAfter != 0 {
			t.Errorf("%s: call %d allowed with RetryAfter %v", l.Name, i+1, res.RetryAfter)
		}
	}
	res := allow(t, lim, l, key)
	if res.Allowed {
		t.Fatalf("%s: call %d allowed, want refused after exactly %d: %+v", l.Name, l.Rate+1, l.Rate, res)
	}
	if res.Remaining != 0 {
		t.Errorf("%s: refused with Remaining %d", l.Name, res.Remaining)
	}
	return res
}

func TestMemorySpecLimits(t *testing.T) {
	for _, l := range []Limit{MCPToken, PartnerSource, GuestIP} {
		t.Run(l.Name, func(t *testing.T) {
			c := newClock()
			m := NewMemory(c.Now)
			res := burst(t, m, l, "key")
			// One call's budget refills every Per/Rate: 3 s, 3.6 s, 12 min.
			e := l.Per / time.Duration(l.Rate)
			if res.RetryAfter != e {
				t.Errorf("RetryAfter = %v, want %v", res.RetryAfter, e)
			}
			if res.ResetAfter != l.Per {
				t.Errorf("ResetAfter = %v, want %v", res.ResetAfter, l.Per)
			}
			// Refused calls consume nothing: hammering does not push RetryAfter out.
			c.Advance(e / 2)
			if again := allow(t, m, l, "key"); again.Allowed || again.RetryAfter != e-e/2 {
				t.Errorf("halfway: %+v, want refused with RetryAfter %v", again, e-e/2)
			}
			c.Advance(e - e/2 - time.Nanosecond)
			if again := allow(t, m, l, "key"); again.Allowed || again.RetryAfter != time.Nanosecond {
				t.Errorf("1ns early: %+v, want refused", again)
			}
			c.Advance(time.Nanosecond)
			if again := allow(t, m, l, "key"); !again.Allowed || again.Remaining != 0 {
				t.Errorf("at RetryAfter: %+v, want allowed with Remaining 0", again)
			}
			if again := allow(t, m, l, "key"); again.Allowed || again.RetryAfter != e {
				t.Errorf("right after: %+v, want refused with RetryAfter %v", again, e)
			}
			// After a whole Per of silence, the whole burst is back.
			c.Advance(l.Per)
			burst(t, m, l, "key")
		})
	}
}

func TestMemoryKeysAndLimitsIndependent(t *testing.T) {
	c := newClock()
	m := NewMemory(c.Now)
	burst(t, m, GuestIP, "203.0.113.7")
	burst(t, m, GuestIP, "203.0.113.8")
	// Same key, another limit (another name): its own budget.
	other := Limit{Name: "other", Rate: GuestIP.Rate, Per: GuestIP.Per}
	burst(t, m, other, "203.0.113.7")
	if res := allow(t, m, GuestIP, "203.0.113.7"); res.Allowed {
		t.Errorf("exhausted key allowed again: %+v", res)
	}
}

func TestMemoryPartialRefill(t *testing.T) {
	c := newClock()
	m := NewMemory(c.Now)
	l := MCPToken
	burst(t, m, l, "tok")
	c.Advance(10 * time.Second) // 3 calls' worth (3 s each), plus 1 s
	for i := range 3 {
		if res := allow(t, m, l, "tok"); !res.Allowed {
			t.Fatalf("refill call %d refused: %+v", i+1, res)
		}
	}
	res := allow(t, m, l, "tok")
	if res.Allowed || res.RetryAfter != 2*time.Second {
		t.Fatalf("4th refill call: %+v, want refused with RetryAfter 2s", res)
	}
	if got := res.RetryAfterSeconds(); got != 2 {
		t.Errorf("RetryAfterSeconds = %d, want 2", got)
	}
}

func TestMemoryEvictionBound(t *testing.T) {
	const maxKeys = 1000
	c := newClock()
	m := NewMemory(c.Now, MaxKeys(maxKeys))
	// A client that spent its whole budget...
	burst(t, m, GuestIP, "heavy")
	// ...then a flood of 100k distinct keys, the clock standing still.
	for i := range 100_000 {
		if res := allow(t, m, GuestIP, "flood-"+strconv.Itoa(i)); !res.Allowed {
			t.Fatalf("fresh key %d refused", i)
		}
		if n := m.Len(); n > maxKeys {
			t.Fatalf("after %d keys: %d remembered, cap %d", i+1, n, maxKeys)
		}
	}
	// The flood evicted one-call keys, not the exhausted client's state.
	if res := allow(t, m, GuestIP, "heavy"); res.Allowed {
		t.Errorf("flood reset the exhausted key's budget: %+v", res)
	}
	// Another limit's table is untouched by the flood.
	burst(t, m, MCPToken, "tok")
	if res := allow(t, m, MCPToken, "tok"); res.Allowed {
		t.Errorf("mcp_token budget reset: %+v", res)
	}

	// Keys whose budget is whole again are dropped on the next sweep.
	c.Advance(GuestIP.Per + MCPToken.Per)
	allow(t, m, GuestIP, "after")
	if n := m.Len(); n != 1+1 { // "after", plus "tok" (its table not swept yet)
		t.Errorf("after the sweep: %d keys remembered, want 2", n)
	}
}

func TestMemoryDefaultBound(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: 110k keys")
	}
	c := newClock()
	m := NewMemory(c.Now)
	for i := range DefaultMaxKeys + 10_000 {
		allow(t, m, MCPToken, strconv.Itoa(i))
	}
	if n := m.Len(); n > DefaultMaxKeys {
		t.Errorf("%d keys remembered, cap %d", n, DefaultMaxKeys)
	}
}

func TestMemoryConcurrent(t *testing.T) {
	c := newClock()
	m := NewMemory(c.Now)
	l := Limit{Name: "concurrent", Rate: 100, Per: time.Minute}
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 8 {
		wg.Go(func() {
			for range 50 {
				res, err := m.Allow(context.Background(), l, "shared")
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
		t.Errorf("400 concurrent calls: %d allowed, want exactly %d", allowed, l.Rate)
	}
}

func TestInvalidLimit(t *testing.T) {
	m := NewMemory(nil)
	for _, l := range []Limit{{Rate: 1, Per: time.Second}, {Name: "x", Per: time.Second}, {Name: "x", Rate: 1}, {Name: "x", Rate: 10, Per: 5}} {
		if _, err := m.Allow(context.Background(), l, "k"); !errors.Is(err, ErrInvalidLimit) {
			t.Errorf("%+v: err = %v, want ErrInvalidLimit", l, err)
		}
	}
}

func TestStorageKey(t *testing.T) {
	k := StorageKey(MCPToken, "rk_mcp_secret")
	const prefix = "tandem:rl:mcp_token:"
	if len(k) != len(prefix)+32 || k[:len(prefix)] != prefix {
		t.Errorf("StorageKey = %q, want %s<32 hex>", k, prefix)
	}
	if k == StorageKey(MCPToken, "rk_mcp_secret2") || k != StorageKey(MCPToken, "rk_mcp_secret") {
		t.Error("StorageKey is not a function of the key")
	}
}
