package federation

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/brightspots-nic/brightspots/storage"
)

// countingTransport records the host of every outgoing request.
type countingTransport struct {
	base  http.RoundTripper
	mu    sync.Mutex
	hosts map[string]int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.hosts[r.URL.Host]++
	c.mu.Unlock()
	return c.base.RoundTrip(r)
}

func (c *countingTransport) count(host string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hosts[host]
}

func counterValue(t testing.TB, f *Member, reason string) float64 {
	t.Helper()
	var m dto.Metric
	if err := f.metrics.refused.WithLabelValues(reason).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// claimsFor are the claims of a valid token from `from` for GET /federation/v1/changes on `to`.
func claimsFor(from, to *testNode) map[string]any {
	now := time.Now().Unix()
	var jti [16]byte
	_, _ = rand.Read(jti[:])
	return map[string]any{
		"iss": from.url, "sub": from.url, "aud": to.url, "iat": now, "exp": now + 60,
		"jti": base64.RawURLEncoding.EncodeToString(jti[:]), "htm": "GET", "htu": to.url + "/federation/v1/changes",
	}
}

// signWith signs claims with n's current key and header typ.
func signWith(t testing.TB, n *testNode, typ string, claims map[string]any) string {
	t.Helper()
	payload, _ := json.Marshal(claims)
	tok, err := n.fed.keys.sign(typ, payload)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// unsigned builds header.payload.signature by hand (for algorithms no library should produce).
func unsigned(header, claims map[string]any, sign func(input string) []byte) string {
	h, _ := json.Marshal(header)
	p, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	var sig []byte
	if sign != nil {
		sig = sign(input)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func doFeed(t testing.TB, to *testNode, method, path, token string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, to.url+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// TestTokenAttacks: each forged, stolen or misused token is refused with 401 and the generic
// invalid_token challenge, the body does not say which check failed, and the refusal is counted
// under its reason.
func TestTokenAttacks(t *testing.T) {
	counting := &countingTransport{base: http.DefaultTransport, hosts: map[string]int{}}
	c := newCluster(t, map[string]storage.Bucket{"a": fsBucket(t), "b": fsBucket(t), "c": fsBucket(t)}, nil,
		func(id string, o *Options) {
			if id == "a" {
				o.Transport = counting
			}
		})
	a, b, cn := c.nodes["a"], c.nodes["b"], c.nodes["c"]

	var unknownHits atomic.Int64
	unknown := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		unknownHits.Add(1)
		http.NotFound(w, r)
	}))
	defer unknown.Close()
	unknownHost := strings.TrimPrefix(unknown.URL, "http://")

	// The control: a well-formed token from b is accepted, so every refusal below is the check's doing.
	if resp, body := doFeed(t, a, "GET", "/federation/v1/changes", signWith(t, b, nodeTokenType, claimsFor(b, a))); resp.StatusCode != 200 {
		t.Fatalf("valid token refused: %d %s", resp.StatusCode, body)
	}
	replayed := signWith(t, b, nodeTokenType, claimsFor(b, a))
	if resp, _ := doFeed(t, a, "GET", "/federation/v1/changes", replayed); resp.StatusCode != 200 {
		t.Fatalf("valid token refused: %d", resp.StatusCode)
	}
	bPub := b.fed.keys.published().Keys[0].Key.(ed25519.PublicKey)

	with := func(mod func(m map[string]any)) map[string]any {
		m := claimsFor(b, a)
		mod(m)
		return m
	}
	now := time.Now().Unix()
	tests := []struct {
		name, reason, method, path string
		token                      func() string
	}{
		{"no token", "missing", "GET", "/federation/v1/changes", func() string { return "" }},
		{"unknown issuer", "unknown_issuer", "GET", "/federation/v1/changes", func() string {
			m := with(func(m map[string]any) { m["iss"], m["sub"] = unknown.URL, unknown.URL })
			return signWith(t, b, nodeTokenType, m)
		}},
		{"wrong audience", "audience", "GET", "/federation/v1/changes", func() string {
			return signWith(t, b, nodeTokenType, with(func(m map[string]any) { m["aud"] = cn.url }))
		}},
		{"audience list", "audience", "GET", "/federation/v1/changes", func() string {
			return signWith(t, b, nodeTokenType, with(func(m map[string]any) { m["aud"] = []string{a.url, cn.url} }))
		}},
		{"expired", "expired", "GET", "/federation/v1/changes", func() string {
			return signWith(t, b, nodeTokenType, with(func(m map[string]any) { m["iat"], m["exp"] = now-200, now-140 }))
		}},
		{"lifetime over 120 s", "lifetime", "GET", "/federation/v1/changes", func() string {
			return signWith(t, b, nodeTokenType, with(func(m map[string]any) { m["exp"] = now + 180 }))
		}},
		{"issued in the future", "issued_in_future", "GET", "/federation/v1/changes", func() string {
			return signWith(t, b, nodeTokenType, with(func(m map[string]any) { m["iat"], m["exp"] = now+100, now+150 }))
		}},
		{"replayed jti", "replay", "GET", "/federation/v1/changes", func() string { return replayed }},
		{"alg none", "malformed", "GET", "/federation/v1/changes", func() string {
			return unsigned(map[string]any{"alg": "none", "typ": nodeTokenType}, claimsFor(b, a), nil)
		}},
		{"HS256 keyed with the public key", "malformed", "GET", "/federation/v1/changes", func() string {
			kid := b.fed.keys.currentKID()
			return unsigned(map[string]any{"alg": "HS256", "typ": nodeTokenType, "kid": kid}, claimsFor(b, a), func(in string) []byte {
				mac := hmac.New(sha256.New, bPub)
				mac.Write([]byte(in))
				return mac.Sum(nil)
			})
		}},
		{"token for another URL", "htu", "GET", "/federation/v1/changes", func() string {
			return signWith(t, b, nodeTokenType, with(func(m map[string]any) { m["htu"] = a.url + "/federation/v1/records/practice/x" }))
		}},
		{"token for another method", "htm", "GET", "/federation/v1/changes", func() string {
			return signWith(t, b, nodeTokenType, with(func(m map[string]any) { m["htm"] = "POST" }))
		}},
		{"token for another node's URL", "htu", "GET", "/federation/v1/changes", func() string {
			return signWith(t, b, nodeTokenType, with(func(m map[string]any) { m["htu"] = cn.url + "/federation/v1/changes" }))
		}},
		{"wrong typ", "typ", "GET", "/federation/v1/changes", func() string {
			return signWith(t, b, "JWT", claimsFor(b, a))
		}},
		{"sub is not iss", "subject", "GET", "/federation/v1/changes", func() string {
			return signWith(t, b, nodeTokenType, with(func(m map[string]any) { m["sub"] = cn.url }))
		}},
		{"short jti", "jti", "GET", "/federation/v1/changes", func() string {
			return signWith(t, b, nodeTokenType, with(func(m map[string]any) { m["jti"] = "abc" }))
		}},
		{"signed by another node's key", "signature", "GET", "/federation/v1/changes", func() string {
			return signWith(t, cn, nodeTokenType, claimsFor(b, a))
		}},
		{"garbage", "malformed", "GET", "/federation/v1/changes", func() string { return "not.a.token" }},
	}
	const genericBody = `{"detail":"A valid node token is required.","status":401,"title":"Unauthorized","type":"about:blank"}` + "\n"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := counterValue(t, a.fed, tt.reason)
			resp, body := doFeed(t, a, tt.method, tt.path, tt.token())
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401: %s", resp.StatusCode, body)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != `Bearer error="invalid_token"` {
				t.Errorf("WWW-Authenticate = %q", got)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type = %q", ct)
			}
			// One body for every refusal: it cannot say which check failed.
			if body != genericBody {
				t.Errorf("body = %s, want the generic %s", body, genericBody)
			}
			if after := counterValue(t, a.fed, tt.reason); after != before+1 {
				t.Errorf("refusals counted under %q: %v → %v", tt.reason, before, after)
			}
		})
	}
	if n := counting.count(unknownHost); n != 0 {
		t.Errorf("a made %d requests to the unknown issuer", n)
	}
	if n := unknownHits.Load(); n != 0 {
		t.Errorf("the unknown issuer was contacted %d times", n)
	}
	if counting.count(strings.TrimPrefix(b.url, "http://")) == 0 {
		t.Errorf("the counting transport saw no request to b at all: it does not count what a sends")
	}
}
