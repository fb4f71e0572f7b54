package auth

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"
)

// RateLimitConfig configures RateLimit.
type RateLimitConfig struct {
	Rate  rate.Limit // requests per second each caller may sustain
	Burst int        // requests a caller may make at once
	// MaxKeys bounds the callers tracked at once; default 100000. When full, idle callers (whose
	// bucket has refilled) are forgotten first.
	MaxKeys int
	// Now is the clock; time.Now when nil. Tests advance their own.
	Now func() time.Time
}

// RateLimit returns middleware that limits each caller to cfg.Rate requests per second with bursts
// of cfg.Burst, answering 429 with Retry-After beyond that. A caller is the authenticated principal
// (so install it after the authentication middleware) or else the client address, IPv6 by /64.
// The address is the echo server's IPExtractor's answer, so configure that (IPExtractor) for the
// proxies you trust; without one, the connection's address is used and X-Forwarded-For is ignored
// (echo's own RealIP would believe the header).
func RateLimit(cfg RateLimitConfig) echo.MiddlewareFunc {
	l := NewLimiter(cfg)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			key := "addr:" + ClientKey(c)
			if p := PrincipalFrom(c.Request().Context()); p.Kind != "" && p.Subject != "" {
				key = "principal:" + p.Kind + ":" + p.Subject
			}
			if err := l.Check(c, key); err != nil {
				return err
			}
			return next(c)
		}
	}
}

// Limiter is a set of per-key rate limits, for limits a middleware cannot express (the bearer-token
// lookup is limited per client address before it reaches the store).
type Limiter struct{ l *limiters }

// NewLimiter returns a Limiter with cfg's rate and burst for each key.
func NewLimiter(cfg RateLimitConfig) *Limiter {
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = 100_000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Limiter{&limiters{cfg: cfg, m: make(map[string]*rate.Limiter)}}
}

// Check takes one request from key's allowance, or answers 429 with Retry-After when none is left.
func (l *Limiter) Check(c echo.Context, key string) error {
	if ok, retry := l.l.allow(key); !ok {
		c.Response().Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(retry.Seconds())))))
		return echo.NewHTTPError(http.StatusTooManyRequests, "Too many requests; slow down and try again shortly.")
	}
	return nil
}

// ClientKey is the request's client as rate limits count it: its address (as the echo server's
// IPExtractor sees it), IPv6 by /64.
func ClientKey(c echo.Context) string { return clientKey(clientIP(c)) }

type limiters struct {
	cfg RateLimitConfig
	mu  sync.Mutex
	m   map[string]*rate.Limiter
}

func (l *limiters) allow(key string) (bool, time.Duration) {
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.m[key]
	if !ok {
		if len(l.m) >= l.cfg.MaxKeys {
			for k, v := range l.m {
				if v.TokensAt(now) >= float64(l.cfg.Burst) {
					delete(l.m, k)
				}
			}
			for k := range l.m { // still full: forget arbitrary callers (more lenient, never stuck)
				if len(l.m) < l.cfg.MaxKeys {
					break
				}
				delete(l.m, k)
			}
		}
		lim = rate.NewLimiter(l.cfg.Rate, l.cfg.Burst)
		l.m[key] = lim
	}
	if lim.AllowN(now, 1) {
		return true, 0
	}
	missing := 1 - lim.TokensAt(now)
	if l.cfg.Rate <= 0 {
		return false, time.Hour
	}
	return false, time.Duration(missing / float64(l.cfg.Rate) * float64(time.Second))
}

// clientIP is the request's client address as the echo server's IPExtractor sees it, or the
// connection's address when none is configured (never an unchecked header).
func clientIP(c echo.Context) string {
	if c.Echo().IPExtractor != nil {
		return c.RealIP()
	}
	return echo.ExtractIPDirect()(c.Request())
}

func clientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// IPExtractor returns the echo IP extractor for a node behind the given proxies (CIDRs or single
// addresses): X-Forwarded-For is believed only as far back as the hops are trusted proxies. With no
// proxies it is echo.ExtractIPDirect: the header is ignored. Set it as e.IPExtractor, and pass it
// to idp.Config.ClientIP.
func IPExtractor(trustedProxies []string) (echo.IPExtractor, error) {
	if len(trustedProxies) == 0 {
		return echo.ExtractIPDirect(), nil
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, s := range trustedProxies {
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			ip := net.ParseIP(s)
			if ip == nil {
				return nil, fmt.Errorf("trusted proxy %q: not an address or CIDR", s)
			}
			bits := 32
			if ip.To4() == nil {
				bits = 128
			}
			n = &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}
		}
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...), nil
}
