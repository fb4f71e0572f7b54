package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
)

func getJSON(t testing.TB, url string, v any) *http.Response {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("%s: %v: %s", url, err, body)
	}
	return resp
}

// TestDiscoveryAndRotation: the public documents say what docs/protocol.md says; after a rotation the
// JWKS lists the new key and the retired one, peers accept tokens signed with the new key (they
// refetch the JWKS on an unknown kid), and the kid changes.
func TestDiscoveryAndRotation(t *testing.T) {
	c := newCluster(t, map[string]storage.Bucket{"a": fsBucket(t), "b": fsBucket(t)}, nil)
	a, b := c.nodes["a"], c.nodes["b"]
	ctx := context.Background()

	var info NodeInfo
	resp := getJSON(t, a.url+"/.well-known/brightspots-node", &info)
	if info.NodeURL != a.url || info.NodeID != "a" || len(info.Protocol) != 1 || info.Protocol[0] != "1" || resp.Header.Get("Cache-Control") != "max-age=300" {
		t.Errorf("node info = %+v, %v", info, resp.Header)
	}
	var disc map[string]any
	resp = getJSON(t, a.url+"/.well-known/openid-configuration", &disc)
	if disc["issuer"] != a.url || disc["jwks_uri"] != a.url+"/.well-known/jwks.json" || fmt.Sprint(disc["id_token_signing_alg_values_supported"]) != "[EdDSA ES256]" ||
		resp.Header.Get("Cache-Control") != "max-age=300" {
		t.Errorf("discovery = %v", disc)
	}
	var jwks struct {
		Keys []map[string]any `json:"keys"`
	}
	resp = getJSON(t, a.url+"/.well-known/jwks.json", &jwks)
	if len(jwks.Keys) != 1 || jwks.Keys[0]["kid"] != a.fed.keys.currentKID() || jwks.Keys[0]["d"] != nil || resp.Header.Get("Cache-Control") != "max-age=300" {
		t.Errorf("jwks = %v", jwks)
	}

	// b verifies a's tokens (first sync); then a rotates.
	p1 := a.publish("before rotation", practices.VisibilityNetwork)
	eventually(t, converge, hasVersion(b, a, p1.ID, 2))
	old := a.fed.keys.currentKID()
	kid, err := a.fed.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if kid == old || a.fed.keys.currentKID() != kid {
		t.Fatalf("rotate: %s → %s (current %s)", old, kid, a.fed.keys.currentKID())
	}
	getJSON(t, a.url+"/.well-known/jwks.json", &jwks)
	kids := map[string]bool{}
	for _, k := range jwks.Keys {
		kids[fmt.Sprint(k["kid"])] = true
	}
	if len(jwks.Keys) != 2 || !kids[old] || !kids[kid] {
		t.Errorf("jwks after rotation lists %v", kids)
	}
	p2 := a.publish("after rotation", practices.VisibilityNetwork)
	eventually(t, converge, hasVersion(b, a, p2.ID, 2))

	// Another process opening the same bucket loads the same current key: no second key appears.
	repo2, err := practices.Open(ctx, a.bucket, practices.Node{URL: a.url, ID: "a"}, practices.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f2, err := New(ctx, Config{}, repo2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f2.keys.currentKID() != kid || len(f2.keys.published().Keys) != 2 {
		t.Errorf("second process: current %s, %d keys", f2.keys.currentKID(), len(f2.keys.published().Keys))
	}
}

// TestES256Keys: a node configured for P-256 signs with ES256, and its peers accept it.
func TestES256Keys(t *testing.T) {
	c := newCluster(t, map[string]storage.Bucket{"a": fsBucket(t), "b": fsBucket(t)}, func(cfg *Config) { cfg.KeyAlgorithm = AlgES256 })
	a, b := c.nodes["a"], c.nodes["b"]
	if k := a.fed.keys.published().Keys[0]; k.Algorithm != AlgES256 {
		t.Fatalf("key algorithm %s", k.Algorithm)
	}
	p := a.publish("signed with ES256", practices.VisibilityNetwork)
	eventually(t, converge, hasVersion(b, a, p.ID, 2))
}

// TestConfigValidation: each mistake names its key.
func TestConfigValidation(t *testing.T) {
	const self, selfID = "https://nic.riverside.k12.example", "riverside"
	good := PeerConfig{URL: "https://nic.lakeview.k12.example", ID: "lakeview"}
	tests := []struct {
		name string
		cfg  Config
		key  string
	}{
		{"peer URL with a path", Config{Peers: []PeerConfig{good, {URL: "https://x.example/nic", ID: "x"}}}, "peers[1].url"},
		{"peer URL with a trailing slash", Config{Peers: []PeerConfig{{URL: "https://x.example/", ID: "x"}}}, "peers[0].url"},
		{"plain http off loopback", Config{Peers: []PeerConfig{{URL: "http://x.example", ID: "x"}}}, "peers[0].url"},
		{"own URL", Config{Peers: []PeerConfig{{URL: self, ID: "x"}}}, "peers[0].url"},
		{"duplicate URL", Config{Peers: []PeerConfig{good, {URL: good.URL, ID: "other"}}}, "peers[1].url"},
		{"bad id", Config{Peers: []PeerConfig{{URL: good.URL, ID: "Lake View"}}}, "peers[0].id"},
		{"duplicate id", Config{Peers: []PeerConfig{good, {URL: "https://x.example", ID: "lakeview"}}}, "peers[1].id"},
		{"own id", Config{Peers: []PeerConfig{{URL: good.URL, ID: selfID}}}, "peers[0].id"},
		{"key algorithm", Config{KeyAlgorithm: "RS256"}, "key_algorithm"},
		{"poll interval", Config{PollInterval: 1}, "poll_interval"},
		{"idp without client", Config{Peers: []PeerConfig{{URL: good.URL, ID: "lakeview", IdP: &IdPConfig{Issuer: "https://login.example/t", Audience: self}}}}, "peers[0].idp.client_id"},
		{"idp issuer over http", Config{Peers: []PeerConfig{{URL: good.URL, ID: "lakeview", IdP: &IdPConfig{Issuer: "http://login.example", Audience: self, ClientID: "c"}}}}, "peers[0].idp.issuer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate(self, selfID)
			var ce *ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), "federation."+tt.key+":") {
				t.Fatalf("error %v, want one naming federation.%s", err, tt.key)
			}
		})
	}
	if err := (Config{Peers: []PeerConfig{good, {URL: "http://127.0.0.1:8081", ID: "demo-2"}}}).Validate(self, selfID); err != nil {
		t.Errorf("valid configuration refused: %v", err)
	}
}

// TestReplayCacheBounded: the cache forgets tokens older than the window and, when full of tokens
// inside it, refuses rather than forgets.
func TestReplayCacheBounded(t *testing.T) {
	c := newReplayCache(3)
	now := goldenNow
	for i := range 3 {
		if err := c.check(fmt.Sprint(i), now); err != nil {
			t.Fatal(err)
		}
	}
	var ae *authError
	if err := c.check("3", now); !errors.As(err, &ae) || ae.reason != "replay_cache_full" {
		t.Fatalf("full cache: %v", err)
	}
	if err := c.check("0", now.Add(replayWindow)); !errors.As(err, &ae) || ae.reason != "replay" {
		t.Fatalf("replay inside the window: %v", err)
	}
	later := now.Add(replayWindow + 1)
	if err := c.check("0", later); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	if len(c.seen) != 1 {
		t.Errorf("%d entries kept", len(c.seen))
	}
}
