package node

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/brightspots-nic/brightspots/federation"
	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/search/meili"
	"github.com/brightspots-nic/brightspots/web"
	"github.com/brightspots-nic/brightspots/web/auth"
)

// Config is the whole configuration of a node: one YAML file, environment overrides for secrets, a
// default for every key. Keys are documented in deploy/brightspots.example.yaml.
type Config struct {
	Node    NodeConfig        `yaml:"node"`
	Listen  string            `yaml:"listen"`
	DataDir string            `yaml:"data_dir"`
	Storage StorageConfig     `yaml:"storage"`
	Limits  web.LimitsConfig  `yaml:"limits"`
	Privacy web.PrivacyConfig `yaml:"privacy"`
	Log     LogConfig         `yaml:"log"`
	Search  SearchConfig      `yaml:"search"`
	// Federation is this node's peers and signing keys (docs/protocol.md).
	Federation federation.Config `yaml:"federation"`
	// Peers is a shorthand for federation.peers: the other nodes this node trusts.
	Peers []federation.PeerConfig `yaml:"peers"`
	// Auth is sign-in: the district's OpenID provider, or the embedded one when auth.oidc.issuer is empty.
	Auth auth.Config `yaml:"auth"`
	// TrustedProxies lists the CIDRs of reverse proxies whose X-Forwarded-For is believed. Empty: none.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// RateLimit bounds requests per client (principal, or address when anonymous).
	RateLimit web.RateLimitConfig `yaml:"rate_limit"`

	// BesideRunningNode is set by commands that open the store while the node itself may be serving
	// from it: opening the repository then finishes only long-abandoned writes (OpenRepo).
	BesideRunningNode bool `yaml:"-"`
}

// NodeConfig identifies this district's node.
type NodeConfig struct {
	ID      string `yaml:"id"`      // short slug, unique in the network
	Name    string `yaml:"name"`    // display name
	URL     string `yaml:"url"`     // public base URL; default http://<listen>
	Contact string `yaml:"contact"` // an address peers can write to
}

// StorageConfig chooses the object store.
type StorageConfig struct {
	Kind string   `yaml:"kind"` // fs | s3
	S3   S3Config `yaml:"s3"`
	// StallTimeout is how long any call to the store may wait without progress before the node
	// gives up and answers 503 (the store is unreachable). Default 10s.
	StallTimeout time.Duration `yaml:"stall_timeout"`
}

// S3Config reaches an S3-compatible store.
type S3Config struct {
	Endpoint  string `yaml:"endpoint"` // host:port
	Bucket    string `yaml:"bucket"`
	AccessKey string `yaml:"access_key"` // or BRIGHTSPOTS_S3_ACCESS_KEY
	SecretKey string `yaml:"secret_key"` // or BRIGHTSPOTS_S3_SECRET_KEY
	TLS       bool   `yaml:"tls"`
	Region    string `yaml:"region"`
	Prefix    string `yaml:"prefix"` // lets several nodes share one bucket
}

// SearchConfig chooses the search index.
type SearchConfig struct {
	Kind         string `yaml:"kind"`          // bleve (embedded, default) | meilisearch
	SynonymsFile string `yaml:"synonyms_file"` // extra synonyms, one group per line, added to the built-in list
	// CacheMB bounds the embedded index's term cache in MiB (0: bleve.DefaultCacheBytes).
	CacheMB     int          `yaml:"cache_mb"`
	Meilisearch meili.Config `yaml:"meilisearch"`
}

// LogConfig sets the structured log.
type LogConfig struct {
	Level  string `yaml:"level"`  // debug | info | warn | error
	Format string `yaml:"format"` // json | text
}

// Defaults returns the configuration used when no file is given.
func Defaults() Config {
	return Config{
		Node:      NodeConfig{ID: "district", Name: "My District"},
		Listen:    "127.0.0.1:8080",
		DataDir:   "./brightspots-data",
		Storage:   StorageConfig{Kind: "fs", S3: S3Config{Region: "us-east-1"}, StallTimeout: 10 * time.Second},
		Search:    SearchConfig{Kind: "bleve"},
		Limits:    web.LimitsConfig{MaxArtifactBytes: 200 << 20, MaxJSONBytes: 1 << 20, BodyTimeout: 10 * time.Second, BodyMinRate: 4096},
		Privacy:   web.PrivacyConfig{MinN: 10},
		Log:       LogConfig{Level: "info", Format: "json"},
		RateLimit: web.RateLimitConfig{PerSecond: 50, Burst: 200, TokenLookupsPerSecond: 5, TokenLookupsBurst: 20},
	}
}

// LoadConfig reads path (if not empty) over the defaults, applies environment overrides and checks
// the result. Unknown keys are errors, so a typo never silently falls back to a default.
func LoadConfig(path string, getenv func(string) string) (Config, error) {
	cfg := Defaults()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) { // io.EOF: an empty file
			return cfg, fmt.Errorf("config %s: %s", path, yamlMessage(err))
		}
	}
	if getenv == nil {
		getenv = os.Getenv
	}
	applyEnv(&cfg, getenv)
	return cfg, cfg.Check()
}

// yamlMessage turns yaml.v3's "field x not found in type node.Config" into words about keys.
func yamlMessage(err error) string {
	msg := err.Error()
	re := regexp.MustCompile(`line (\d+): field (\S+) not found in type [\w.]+`)
	if m := re.FindAllStringSubmatch(msg, -1); m != nil {
		parts := make([]string, len(m))
		for i, x := range m {
			parts[i] = fmt.Sprintf("line %s: unknown key %q", x[1], x[2])
		}
		return strings.Join(parts, "; ")
	}
	return strings.TrimPrefix(msg, "yaml: ")
}

// Environment overrides, for secrets that should not sit in a file.
var envOverrides = []struct {
	name string
	set  func(*Config, string)
}{
	{"BRIGHTSPOTS_S3_ACCESS_KEY", func(c *Config, v string) { c.Storage.S3.AccessKey = v }},
	{"BRIGHTSPOTS_S3_SECRET_KEY", func(c *Config, v string) { c.Storage.S3.SecretKey = v }},
	{"BRIGHTSPOTS_S3_ENDPOINT", func(c *Config, v string) { c.Storage.S3.Endpoint = v }},
	{"BRIGHTSPOTS_LISTEN", func(c *Config, v string) { c.Listen = v }},
	{"BRIGHTSPOTS_DATA_DIR", func(c *Config, v string) { c.DataDir = v }},
	{"BRIGHTSPOTS_NODE_URL", func(c *Config, v string) { c.Node.URL = v }},
	{"BRIGHTSPOTS_MEILI_API_KEY", func(c *Config, v string) { c.Search.Meilisearch.APIKey = v }},
	{"BRIGHTSPOTS_OIDC_CLIENT_SECRET", func(c *Config, v string) { c.Auth.OIDC.ClientSecret = v }},
}

func applyEnv(c *Config, getenv func(string) string) {
	for _, o := range envOverrides {
		if v := getenv(o.name); v != "" {
			o.set(c, v)
		}
	}
}

// Check validates the configuration, naming the key of every problem.
func (c *Config) Check() error {
	var errs []string
	bad := func(key, format string, args ...any) { errs = append(errs, key+": "+fmt.Sprintf(format, args...)) }
	if !practices.ValidNodeID(c.Node.ID) {
		bad("node.id", "must be a short slug of lower-case letters, digits and dashes (got %q)", c.Node.ID)
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen", "must be HOST:PORT (got %q)", c.Listen)
	}
	if c.Node.URL == "" {
		c.Node.URL = "http://" + c.Listen
	}
	if u, err := url.Parse(c.Node.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		bad("node.url", "must be an http(s) base URL with no path, e.g. https://nic.district.example (got %q)", c.Node.URL)
	}
	c.Node.URL = strings.TrimSuffix(c.Node.URL, "/")
	if c.DataDir == "" {
		bad("data_dir", "must not be empty")
	} else if abs, err := filepath.Abs(c.DataDir); err == nil {
		c.DataDir = abs
	}
	switch c.Storage.Kind {
	case "fs":
	case "s3":
		s := c.Storage.S3
		if s.Endpoint == "" {
			bad("storage.s3.endpoint", "is required when storage.kind is s3")
		} else if strings.Contains(s.Endpoint, "://") {
			bad("storage.s3.endpoint", "must be HOST[:PORT] without a scheme (use storage.s3.tls for https)")
		}
		if s.Bucket == "" {
			bad("storage.s3.bucket", "is required when storage.kind is s3")
		}
		if s.AccessKey == "" {
			bad("storage.s3.access_key", "is required when storage.kind is s3 (or set BRIGHTSPOTS_S3_ACCESS_KEY)")
		}
		if s.SecretKey == "" {
			bad("storage.s3.secret_key", "is required when storage.kind is s3 (or set BRIGHTSPOTS_S3_SECRET_KEY)")
		}
	default:
		bad("storage.kind", "must be fs or s3 (got %q)", c.Storage.Kind)
	}
	switch c.Search.Kind {
	case "bleve":
	case "meilisearch":
		if u, err := url.Parse(c.Search.Meilisearch.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("search.meilisearch.url", "must be the http(s) URL of the Meilisearch server when search.kind is meilisearch")
		}
	default:
		bad("search.kind", "must be bleve or meilisearch (got %q)", c.Search.Kind)
	}
	if c.Search.CacheMB < 0 || c.Search.CacheMB > 65536 {
		bad("search.cache_mb", "must be between 0 (the default, 96) and 65536 MiB (got %d)", c.Search.CacheMB)
	}
	if c.Search.SynonymsFile != "" {
		if _, err := os.Stat(c.Search.SynonymsFile); err != nil {
			bad("search.synonyms_file", "cannot be read: %v", err)
		}
	}
	if c.Limits.MaxArtifactBytes <= 0 {
		bad("limits.max_artifact_bytes", "must be positive")
	}
	if c.Limits.MaxJSONBytes < 1024 {
		bad("limits.max_json_bytes", "must be at least 1024")
	}
	if c.Limits.BodyTimeout <= 0 {
		bad("limits.body_timeout", "must be a positive duration such as 10s")
	}
	if c.Limits.BodyMinRate < 1 {
		bad("limits.body_min_bytes_per_second", "must be at least 1")
	}
	if c.Storage.StallTimeout <= 0 {
		bad("storage.stall_timeout", "must be a positive duration such as 10s")
	}
	if c.Privacy.MinN < 5 || c.Privacy.MinN > 30 {
		bad("privacy.min_n", "must be between 5 and 30 (got %d)", c.Privacy.MinN)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "must be debug, info, warn or error (got %q)", c.Log.Level)
	}
	if c.Log.Format != "json" && c.Log.Format != "text" {
		bad("log.format", "must be json or text (got %q)", c.Log.Format)
	}
	if c.RateLimit.PerSecond <= 0 || c.RateLimit.Burst < 1 {
		bad("rate_limit", "per_second must be positive and burst at least 1")
	}
	if c.RateLimit.TokenLookupsPerSecond <= 0 || c.RateLimit.TokenLookupsBurst < 1 {
		bad("rate_limit", "token_lookups_per_second must be positive and token_lookups_burst at least 1")
	}
	if _, err := auth.IPExtractor(c.TrustedProxies); err != nil {
		bad("trusted_proxies", "%v", err)
	}
	if len(c.Peers) > 0 {
		c.Federation.Peers = append(c.Federation.Peers, c.Peers...)
		c.Peers = nil
	}
	if c.Federation.Name == "" {
		c.Federation.Name = c.Node.Name
	}
	if c.Federation.Contact == "" {
		c.Federation.Contact = c.Node.Contact
	}
	if practices.ValidNodeID(c.Node.ID) && !strings.Contains(strings.Join(errs, ""), "node.url") {
		if err := c.Federation.Validate(c.Node.URL, c.Node.ID); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return errors.New("configuration: " + strings.Join(errs, "; "))
	}
	return nil
}
