package federation

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/brightspots-nic/brightspots/storage"
)

// TestIdPAccessTokens: a peer configured to present its district IdP's access tokens is accepted with
// one whose issuer, audience and client id match what is on file, and refused otherwise.
func TestIdPAccessTokens(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int64
	var idp *httptest.Server
	idp = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			_ = json.NewEncoder(w).Encode(map[string]any{"issuer": idp.URL, "jwks_uri": idp.URL + "/keys"})
		case "/keys":
			_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "idp-1", Algorithm: "ES256", Use: "sig"}}})
		default:
			http.NotFound(w, r)
		}
	}))
	defer idp.Close()
	c := newCluster(t, map[string]storage.Bucket{"a": fsBucket(t), "b": fsBucket(t)}, nil)
	a, b := c.nodes["a"], c.nodes["b"]
	// Reconfigure a: b may present tokens from its IdP.
	c.stop(a)
	c.cfg = func(cfg *Config) {
		for i := range cfg.Peers {
			if cfg.Peers[i].ID == "b" {
				cfg.Peers[i].IdP = &IdPConfig{Issuer: idp.URL, Audience: "brightspots-federation", ClientID: "node-b"}
			}
		}
	}
	c.start(a)

	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "idp-1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	token := func(mod func(m map[string]any)) string {
		now := time.Now().Unix()
		m := map[string]any{"iss": idp.URL, "sub": "svc-node-b", "aud": "brightspots-federation", "client_id": "node-b", "iat": now, "exp": now + 3600}
		mod(m)
		payload, _ := json.Marshal(m)
		obj, err := signer.Sign(payload)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := obj.CompactSerialize()
		return s
	}
	if resp, body := doFeed(t, a, "GET", "/federation/v1/changes", token(func(map[string]any) {})); resp.StatusCode != 200 {
		t.Fatalf("IdP token refused: %d %s", resp.StatusCode, body)
	}
	for name, mod := range map[string]func(m map[string]any){
		"wrong audience":  func(m map[string]any) { m["aud"] = a.url },
		"other client":    func(m map[string]any) { m["client_id"] = "node-c" },
		"expired":         func(m map[string]any) { m["iat"], m["exp"] = time.Now().Unix()-7200, time.Now().Unix()-3600 },
		"issuer prefix":   func(m map[string]any) { m["iss"] = idp.URL + "/" },
		"azp not on file": func(m map[string]any) { delete(m, "client_id"); m["azp"] = "someone" },
	} {
		if resp, _ := doFeed(t, a, "GET", "/federation/v1/changes", token(mod)); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", name, resp.StatusCode)
		}
	}
	_ = b
}
