package idp

import (
	"math"
	"net/netip"
	"sync"
	"time"
)

// throttle is a set of token buckets keyed by account or client address. A failure takes a token;
// an empty bucket refuses. Time comes from the caller, so tests advance a clock instead of sleeping.
type throttle struct {
	burst   float64
	every   time.Duration // one token comes back per every
	maxKeys int

	mu      sync.Mutex
	buckets map[string]*tokenBucket
}

type tokenBucket struct {
	tokens float64
	last   time.Time
}

func newThrottle(burst int, every time.Duration, maxKeys int) *throttle {
	return &throttle{burst: float64(burst), every: every, maxKeys: maxKeys, buckets: make(map[string]*tokenBucket)}
}

func (t *throttle) refill(b *tokenBucket, now time.Time) {
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = math.Min(t.burst, b.tokens+float64(elapsed)/float64(t.every))
		b.last = now
	}
}

// take takes one token for key. When the bucket is empty it reports false and how long until a
// token is back.
func (t *throttle) take(key string, now time.Time) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	b, ok := t.buckets[key]
	if !ok {
		t.makeRoom(now)
		b = &tokenBucket{tokens: t.burst, last: now}
		t.buckets[key] = b
	}
	t.refill(b, now)
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) * float64(t.every))
	}
	b.tokens--
	return true, 0
}

// give returns one token to key (for an attempt that turned out not to count).
func (t *throttle) give(key string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if b, ok := t.buckets[key]; ok {
		t.refill(b, now)
		b.tokens = math.Min(t.burst, b.tokens+1)
	}
}

// reset forgets key: its bucket is full again.
func (t *throttle) reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.buckets, key)
}

// makeRoom keeps the map bounded: full buckets carry no information and go first; if that is not
// enough, arbitrary ones go (map order), which can only make the throttle more lenient, never stuck.
func (t *throttle) makeRoom(now time.Time) {
	if len(t.buckets) < t.maxKeys {
		return
	}
	for k, b := range t.buckets {
		t.refill(b, now)
		if b.tokens >= t.burst {
			delete(t.buckets, k)
		}
	}
	for k := range t.buckets {
		if len(t.buckets) < t.maxKeys {
			break
		}
		delete(t.buckets, k)
	}
}

// addressKey is the throttling key for a client address: the address itself for IPv4, its /64 for
// IPv6 (one host commonly holds a whole /64). Unparseable input is used as is.
func addressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "addr:" + ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return "addr:" + p.String()
	}
	return "addr:" + a.String()
}

// backoff throttles one account from one address: a few failures are free, then each failure
// doubles the wait before the next attempt (base, 2×base, 4×base … up to max). A success forgets
// the pair. It is what stops a guesser at their own address without touching the account's owner
// at theirs.
type backoff struct {
	free      int
	base, max time.Duration
	maxKeys   int

	mu    sync.Mutex
	pairs map[string]*pairState
}

type pairState struct {
	failures int
	until    time.Time
}

func newBackoff(free int, base, max time.Duration, maxKeys int) *backoff {
	return &backoff{free: free, base: base, max: max, maxKeys: maxKeys, pairs: make(map[string]*pairState)}
}

// wait reports how long key must still wait before its next attempt (0: it may try now).
func (b *backoff) wait(key string, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p, ok := b.pairs[key]; ok && now.Before(p.until) {
		return p.until.Sub(now)
	}
	return 0
}

// fail records a failed attempt for key.
func (b *backoff) fail(key string, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.pairs[key]
	if !ok {
		if len(b.pairs) >= b.maxKeys {
			for k, q := range b.pairs { // forget pairs no longer waiting first, then any
				if !now.Before(q.until) || len(b.pairs) >= b.maxKeys {
					delete(b.pairs, k)
				}
				if len(b.pairs) < b.maxKeys/2 {
					break
				}
			}
		}
		p = &pairState{}
		b.pairs[key] = p
	}
	p.failures++
	if over := p.failures - b.free; over >= 0 {
		d := b.max
		if over < 30 && b.base<<over < b.max {
			d = b.base << over
		}
		p.until = now.Add(d)
	}
}

// forget clears key after a success.
func (b *backoff) forget(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.pairs, key)
}

// familiar remembers, per account, the addresses that signed in to it successfully (the last few,
// for a while), so the account's owner at a usual address is not held to the account-wide budget
// that strangers' guesses use up.
type familiar struct {
	keep    time.Duration
	perAcct int
	maxKeys int

	mu   sync.Mutex
	seen map[string]map[string]time.Time // account key → address key → last success
}

func newFamiliar(keep time.Duration, perAcct, maxKeys int) *familiar {
	return &familiar{keep: keep, perAcct: perAcct, maxKeys: maxKeys, seen: make(map[string]map[string]time.Time)}
}

func (f *familiar) add(acct, addr string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.seen[acct]
	if !ok {
		if len(f.seen) >= f.maxKeys {
			for k := range f.seen {
				delete(f.seen, k)
				if len(f.seen) < f.maxKeys {
					break
				}
			}
		}
		m = make(map[string]time.Time)
		f.seen[acct] = m
	}
	m[addr] = now
	for len(m) > f.perAcct { // drop the oldest
		oldest, at := "", now
		for k, t := range m {
			if !t.After(at) {
				oldest, at = k, t
			}
		}
		delete(m, oldest)
	}
}

func (f *familiar) knows(acct, addr string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.seen[acct][addr]
	return ok && now.Sub(t) < f.keep
}
