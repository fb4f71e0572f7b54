package node_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brightspots-nic/brightspots/node"
)

func TestConfigDefaultsNeedNoFile(t *testing.T) {
	cfg, err := node.LoadConfig("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:8080" || cfg.Storage.Kind != "fs" || cfg.Node.URL != "http://127.0.0.1:8080" ||
		!strings.HasSuffix(cfg.DataDir, "brightspots-data") || cfg.Limits.MaxArtifactBytes != 200<<20 || cfg.Privacy.MinN != 10 {
		t.Fatalf("defaults: %+v", cfg)
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	cases := []struct {
		yaml string
		env  map[string]string
		key  string
	}{
		{"node:\n  id: Riverside Unified\n", nil, "node.id"},
		{"listen: 8080\n", nil, "listen"},
		{"node:\n  url: riverside.example\n", nil, "node.url"},
		{"node:\n  url: https://nic.example/path\n", nil, "node.url"},
		{"storage:\n  kind: gcs\n", nil, "storage.kind"},
		{"storage:\n  kind: s3\n  s3:\n    bucket: b\n    access_key: a\n    secret_key: s\n", nil, "storage.s3.endpoint"},
		{"storage:\n  kind: s3\n  s3:\n    endpoint: http://minio:9000\n    bucket: b\n    access_key: a\n    secret_key: s\n", nil, "storage.s3.endpoint"},
		{"storage:\n  kind: s3\n  s3:\n    endpoint: minio:9000\n    bucket: b\n    access_key: a\n", nil, "storage.s3.secret_key"},
		{"privacy:\n  min_n: 3\n", nil, "privacy.min_n"},
		{"limits:\n  max_artifact_bytes: -1\n", nil, "limits.max_artifact_bytes"},
		{"log:\n  level: loud\n", nil, "log.level"},
		{"search:\n  cache_mb: -1\n", nil, "search.cache_mb"},
		{"lissten: 1.2.3.4:80\n", nil, `unknown key "lissten"`},
		{"storage:\n  s3:\n    secret: x\n", nil, `unknown key "secret"`},
		{"listen: [\n", nil, "config"},
	}
	for _, tc := range cases {
		t.Run(tc.key, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			os.WriteFile(path, []byte(tc.yaml), 0o600)
			_, err := node.LoadConfig(path, func(k string) string { return tc.env[k] })
			if err == nil || !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("error %v does not name %q", err, tc.key)
			}
		})
	}
}

func TestConfigSecretsFromEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("storage:\n  kind: s3\n  s3:\n    endpoint: minio:9000\n    bucket: b\n"), 0o600)
	env := map[string]string{"BRIGHTSPOTS_S3_ACCESS_KEY": "ak", "BRIGHTSPOTS_S3_SECRET_KEY": "sk"}
	cfg, err := node.LoadConfig(path, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Storage.S3.AccessKey != "ak" || cfg.Storage.S3.SecretKey != "sk" {
		t.Fatalf("env overrides not applied: %+v", cfg.Storage.S3)
	}
}

func TestTopLevelPeersAreFederationPeers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("node: {id: riverside}\npeers:\n  - {url: 'http://127.0.0.1:9001', id: lakeview, name: Lakeview}\n"), 0o600)
	cfg, err := node.LoadConfig(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Federation.Peers) != 1 || cfg.Federation.Peers[0].ID != "lakeview" {
		t.Fatalf("peers: %+v", cfg.Federation.Peers)
	}
	os.WriteFile(path, []byte("node: {id: riverside}\npeers:\n  - {url: 'ftp://x', id: lakeview}\n"), 0o600)
	if _, err := node.LoadConfig(path, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "peers[0].url") {
		t.Fatalf("bad peer URL: %v", err)
	}
}
