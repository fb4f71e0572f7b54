package federation

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/brightspots-nic/brightspots/practices"
)

// Config is the federation part of a node's configuration (the `federation:` section of the YAML
// file). The node's own URL and id come from practices.Repo.Node().
type Config struct {
	// Name and Contact appear in /.well-known/brightspots-node.
	Name    string `yaml:"name"`
	Contact string `yaml:"contact"`
	// Peers are the other nodes this node trusts. Only these issuers are ever contacted.
	Peers []PeerConfig `yaml:"peers"`
	// PollInterval is how long a sync loop waits between pulls when nothing notifies it (default 60s).
	PollInterval time.Duration `yaml:"poll_interval"`
	// KeyAlgorithm is the algorithm of keys this node generates: "EdDSA" (Ed25519, default) or "ES256".
	KeyAlgorithm string `yaml:"key_algorithm"`
	// RequestTimeout bounds every request to a peer except artifact downloads, which are bounded by
	// their own context and an idle timeout (default 30s).
	RequestTimeout time.Duration `yaml:"request_timeout"`
}

// PeerConfig is one trusted peer. The URL is what is trusted; the id is the label bound to it here.
type PeerConfig struct {
	URL  string `yaml:"url"`  // the peer's node URL: its issuer and identity, exactly as it signs tokens
	ID   string `yaml:"id"`   // the peer's node id (a slug), used in storage keys and display
	Name string `yaml:"name"` // display name
	// IdP, when set, lets the peer present access tokens from its district's own identity provider
	// instead of node tokens (docs/protocol.md, "Node tokens"). Node tokens from the peer's URL are
	// accepted either way.
	IdP *IdPConfig `yaml:"idp,omitempty"`
}

// IdPConfig is a peer district's identity provider, for peers that present its access tokens.
type IdPConfig struct {
	Issuer   string `yaml:"issuer"`    // exact issuer string; discovery runs against it
	Audience string `yaml:"audience"`  // the audience the tokens must carry (usually this node's URL)
	ClientID string `yaml:"client_id"` // the peer's client id at its IdP (claim client_id or azp)
}

// Defaults.
const (
	DefaultPollInterval   = 60 * time.Second
	DefaultRequestTimeout = 30 * time.Second
)

// ConfigError names the configuration key that is wrong.
type ConfigError struct {
	Key string // "peers[1].url"
	Msg string
}

func (e *ConfigError) Error() string { return "federation." + e.Key + ": " + e.Msg }

// withDefaults returns c with zero values replaced by defaults.
func (c Config) withDefaults() Config {
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.KeyAlgorithm == "" {
		c.KeyAlgorithm = AlgEdDSA
	}
	return c
}

// Validate checks c for a node with URL selfURL and id selfID. Every error names its key.
func (c Config) Validate(selfURL, selfID string) error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, &ConfigError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if err := checkNodeURL(selfURL); err != nil {
		add("url", "%v", err)
	}
	if c.PollInterval < 0 || (c.PollInterval > 0 && c.PollInterval < time.Second) {
		add("poll_interval", "must be at least 1s")
	}
	if c.RequestTimeout < 0 || (c.RequestTimeout > 0 && c.RequestTimeout < 100*time.Millisecond) {
		add("request_timeout", "must be at least 100ms")
	}
	switch c.KeyAlgorithm {
	case "", AlgEdDSA, AlgES256:
	default:
		add("key_algorithm", "must be EdDSA or ES256, not %q", c.KeyAlgorithm)
	}
	urls, ids := map[string]int{}, map[string]int{}
	type idpKey struct{ issuer, client string }
	idps := map[idpKey]int{}
	for i, p := range c.Peers {
		key := func(f string) string { return fmt.Sprintf("peers[%d].%s", i, f) }
		if err := checkNodeURL(p.URL); err != nil {
			add(key("url"), "%v", err)
		} else if p.URL == selfURL {
			add(key("url"), "is this node's own URL")
		} else if j, dup := urls[p.URL]; dup {
			add(key("url"), "repeats peers[%d].url", j)
		} else {
			urls[p.URL] = i
		}
		switch {
		case !practices.ValidNodeID(p.ID):
			add(key("id"), "must be a slug of lower-case letters, digits and hyphens (1–63), not %q", p.ID)
		case p.ID == selfID:
			add(key("id"), "is this node's own id")
		default:
			if j, dup := ids[p.ID]; dup {
				add(key("id"), "repeats peers[%d].id", j)
			}
			ids[p.ID] = i
		}
		if len(p.Name) > 200 {
			add(key("name"), "must be at most 200 bytes")
		}
		if p.IdP != nil {
			if err := checkIssuerURL(p.IdP.Issuer); err != nil {
				add(key("idp.issuer"), "%v", err)
			}
			if p.IdP.Audience == "" {
				add(key("idp.audience"), "is required")
			}
			if p.IdP.ClientID == "" {
				add(key("idp.client_id"), "is required")
			}
			k := idpKey{p.IdP.Issuer, p.IdP.ClientID}
			if j, dup := idps[k]; dup {
				add(key("idp"), "repeats the issuer and client_id of peers[%d].idp", j)
			}
			idps[k] = i
		}
	}
	return errors.Join(errs...)
}

// checkNodeURL enforces the form of a node URL: https (http only on loopback, for tests and the demo),
// a host, no path, query, fragment, user info or trailing slash.
func checkNodeURL(s string) error {
	if s == "" {
		return errors.New("is required")
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("is not a URL: %w", err)
	}
	if u.Host == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || strings.HasSuffix(s, "/") {
		return fmt.Errorf("must be a base URL like https://nic.district.example with no path or trailing slash, not %q", s)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !loopbackHost(u.Hostname()) {
			return fmt.Errorf("must use https (http is allowed only on loopback), not %q", s)
		}
	default:
		return fmt.Errorf("must use https, not %q", s)
	}
	return nil
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// checkIssuerURL enforces the form of an identity provider's issuer: https (http only on loopback),
// a host, and possibly a path, with no query or fragment.
func checkIssuerURL(s string) error {
	if s == "" {
		return errors.New("is required")
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("is not a URL: %w", err)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("must be an issuer URL with no query or fragment, not %q", s)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && loopbackHost(u.Hostname())) {
		return fmt.Errorf("must use https (http is allowed only on loopback), not %q", s)
	}
	return nil
}
