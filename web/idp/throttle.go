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
