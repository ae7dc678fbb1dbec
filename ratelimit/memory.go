package ratelimit

import (
	"context"
	"slices"
	"sync"
	"time"
)

// DefaultMaxKeys bounds how many keys [Memory] remembers per limit name.
// Each costs well under 100 bytes, so the default is a few megabytes per limit.
const DefaultMaxKeys = 100_000

// sweepEvery is how often an insert also drops keys whose budget is whole
// again, so idle keys do not linger until the cap is reached.
const sweepEvery = time.Minute

// Memory is the in-process Limiter (GCRA). It remembers, per limit and key,
// one timestamp: the theoretical arrival time (TAT) of the next call, the
// moment the key's budget would be whole again. A key whose TAT has passed is
// indistinguishable from a key never seen, so forgetting it loses nothing;
// that is how memory stays bounded.
//
// Memory is bounded per limit name by [MaxKeys]: when a limit's table is
// full, keys whose budget is whole again are dropped first; if that is not
// enough (a flood of distinct keys), the keys closest to a whole budget (the
// earliest TAT, i.e. the fewest calls outstanding) are dropped until an
// eighth of the table is free, so the sweep's cost is amortized over many
// inserts. A flood of one-call keys therefore evicts other one-call keys, not
// the state of a client that has spent its budget. Per-name tables keep a
// flood against one limit from evicting another limit's state.
type Memory struct {
	now     func() time.Time
	maxKeys int

	mu   sync.Mutex
	sets map[string]*bucketSet // by limit name
}

type bucketSet struct {
	tat       map[[16]byte]int64 // key digest → TAT, Unix nanoseconds
	lastSweep int64
}

// MemoryOption configures [NewMemory].
type MemoryOption func(*Memory)

// MaxKeys sets how many keys Memory remembers per limit name (at least 8;
// default [DefaultMaxKeys]).
func MaxKeys(n int) MemoryOption {
	return func(m *Memory) { m.maxKeys = max(8, n) }
}

// NewMemory returns an in-process Limiter reading time from now (time.Now
// when nil; tests pass a fake clock).
func NewMemory(now func() time.Time, opts ...MemoryOption) *Memory {
	if now == nil {
		now = time.Now
	}
	m := &Memory{now: now, maxKeys: DefaultMaxKeys, sets: map[string]*bucketSet{}}
	for _, o := range opts {
		o(m)
	}
	return m
}

// Allow implements [Limiter]. It never returns an error for a valid Limit.
func (m *Memory) Allow(_ context.Context, l Limit, key string) (Result, error) {
	if err := l.validate(); err != nil {
		return Result{Limit: l}, err
	}
	d := digest(key)
	e, per := int64(l.interval()), int64(l.Per)
	now := m.now().UnixNano()

	m.mu.Lock()
	defer m.mu.Unlock()
	set := m.sets[l.Name]
	if set == nil {
		set = &bucketSet{tat: map[[16]byte]int64{}, lastSweep: now}
		m.sets[l.Name] = set
	}
	tat, seen := set.tat[d]
	if !seen || tat < now {
		tat = now
	}
	newTAT := tat + e
	allowAt := newTAT - per // the call fits if at most Per of budget is outstanding after it
	if now < allowAt {
		return Result{
			RetryAfter: time.Duration(allowAt - now),
			ResetAfter: time.Duration(tat - now),
			Limit:      l,
		}, nil
	}
	if !seen {
		m.makeRoom(set, now)
	}
	set.tat[d] = newTAT
	return Result{
		Allowed:    true,
		Remaining:  min(l.Rate-1, int((now-allowAt)/e)),
		ResetAfter: time.Duration(newTAT - now),
		Limit:      l,
	}, nil
}

// makeRoom is called before a new key is added to set.
func (m *Memory) makeRoom(set *bucketSet, now int64) {
	full := len(set.tat) >= m.maxKeys
	if !full && now-set.lastSweep < int64(sweepEvery) {
		return
	}
	set.lastSweep = now
	for k, tat := range set.tat {
		if tat <= now {
			delete(set.tat, k)
		}
	}
	target := m.maxKeys - m.maxKeys/8
	excess := len(set.tat) - target
	if !full || excess <= 0 {
		return
	}
	// Drop the excess keys with the earliest TAT: the threshold is the
	// excess-th smallest TAT; ties at it are dropped only up to the count.
	tats := make([]int64, 0, len(set.tat))
	for _, tat := range set.tat {
		tats = append(tats, tat)
	}
	slices.Sort(tats)
	threshold := tats[excess-1]
	below := 0
	for _, t := range tats[:excess] {
		if t < threshold {
			below++
		}
	}
	ties := excess - below
	for k, tat := range set.tat {
		switch {
		case tat < threshold:
			delete(set.tat, k)
		case tat == threshold && ties > 0:
			delete(set.tat, k)
			ties--
		}
	}
}

// Len reports how many keys Memory remembers across all limits.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, s := range m.sets {
		n += len(s.tat)
	}
	return n
}
