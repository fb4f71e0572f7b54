package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/storage/s3/miniotest"
)

// TestConfigCheck runs `config check` against real services: a node built from this tree and
// serving on loopback (a peer, and an OpenID provider through its embedded one), a MinIO server, and
// a closed port where a Meilisearch server should be.
func TestConfigCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary and MinIO")
	}
	minio := miniotest.Start(t)
	bin := buildBinary(t)
	peerAddr := freeAddr(t)
	peerNode := startServe(t, bin, t.TempDir(), peerAddr)
	t.Cleanup(func() { peerNode.cmd.Process.Kill(); peerNode.cmd.Wait() })
	peerURL := "http://" + peerAddr
	selfURL := "http://" + freeAddr(t) // the node being configured; it never runs
	closed := "http://" + freeAddr(t)  // nothing listens here

	emptyBucket := minio.NewBucket(t).Name()
	foreignBucket := minio.NewBucket(t)
	if _, err := practices.Open(context.Background(), foreignBucket, practices.Node{URL: "http://127.0.0.1:1", ID: "elsewhere"}, practices.Options{}); err != nil {
		t.Fatal(err)
	}

	s3cfg := func(bucket, secret string) string {
		return fmt.Sprintf("storage:\n  kind: s3\n  s3: {endpoint: %q, bucket: %q, access_key: %q, secret_key: %q}\n",
			minio.Endpoint, bucket, minio.AccessKey, secret)
	}
	node := fmt.Sprintf("node: {id: checker, url: %q}\ndata_dir: %q\n", selfURL, t.TempDir())

	cases := []struct {
		name    string
		config  string
		args    []string
		wantErr string
		lines   []string // regular expressions, one per output line, in order
	}{
		{
			name: "all ok",
			config: node + s3cfg(emptyBucket, minio.SecretKey) +
				fmt.Sprintf("auth:\n  oidc: {issuer: %q, client_id: brightspots}\n", peerURL+"/idp") +
				fmt.Sprintf("federation:\n  peers:\n    - {url: %q, id: district}\n", peerURL),
			lines: []string{
				`^config +ok +.*: node checker at ` + regexp.QuoteMeta(selfURL) + `$`,
				`^store +ok +s3 bucket "` + emptyBucket + `" at .*: credentials accepted; the store is empty`,
				`^index +ok +embedded \(bleve\)`,
				`^sign-in +ok +issuer ` + regexp.QuoteMeta(peerURL+"/idp") + ` answers; register the redirect URL ` + regexp.QuoteMeta(selfURL+"/auth/callback") + `$`,
				`^peer district +ok +` + regexp.QuoteMeta(peerURL) + ` answers`,
			},
		},
		{
			name:   "embedded defaults",
			config: node,
			lines: []string{
				`^config +ok`,
				`^store +ok +local folder .*/store \(created at first start\)$`,
				`^index +ok +embedded \(bleve\)`,
				`^sign-in +ok +embedded provider at ` + regexp.QuoteMeta(selfURL) + `/idp`,
				`^peers +ok +none configured`,
			},
		},
		{
			name: "everything wrong",
			config: node + s3cfg(emptyBucket, "not-the-secret-key") +
				fmt.Sprintf("search:\n  kind: meilisearch\n  meilisearch: {url: %q}\n", closed) +
				// A trailing slash the provider does not use: the most common issuer mistake.
				fmt.Sprintf("auth:\n  oidc: {issuer: %q, client_id: brightspots}\n", peerURL+"/idp/") +
				// The peer under another name for the same host: its documents name its real URL.
				fmt.Sprintf("federation:\n  peers:\n    - {url: %q, id: district}\n", strings.Replace(peerURL, "127.0.0.1", "localhost", 1)),
			wantErr: "config check: 4 of 5 checks failed",
			lines: []string{
				`^config +ok`,
				`^store +FAIL +s3 bucket .*: the secret key is wrong: the store rejected the request signature \(storage.s3.secret_key or BRIGHTSPOTS_S3_SECRET_KEY\)$`,
				`^index +FAIL +meilisearch at ` + regexp.QuoteMeta(closed) + `: unreachable: dial tcp .*connection refused$`,
				`^sign-in +FAIL +auth.oidc.issuer ` + regexp.QuoteMeta(peerURL+"/idp/") + `: issuer mismatch: the discovery document names issuer "` + regexp.QuoteMeta(peerURL+"/idp") + `"; configure exactly that$`,
				`^peer district +FAIL +http://localhost:\d+: its node document names "` + regexp.QuoteMeta(peerURL) + `", not the configured "http://localhost:\d+"$`,
			},
		},
		{
			name:    "store of another node",
			config:  node + s3cfg(foreignBucket.Name(), minio.SecretKey),
			wantErr: "config check: 1 of 5 checks failed",
			lines: []string{
				`^config +ok`,
				`^store +FAIL +s3 bucket .*: the store belongs to node http://127.0.0.1:1 \(elsewhere\), not ` + regexp.QuoteMeta(selfURL) + ` \(checker\); the node will refuse to start on it$`,
				`^index +ok`, `^sign-in +ok`, `^peers +ok`,
			},
		},
		{
			name:   "bucket not created yet",
			config: node + s3cfg(minio.NewBucketName(), minio.SecretKey),
			lines: []string{
				`^config +ok`,
				`^store +ok +s3 bucket .*: credentials accepted; the bucket does not exist yet and the node creates it at first start`,
				`^index +ok`, `^sign-in +ok`, `^peers +ok`,
			},
		},
		{
			name:    "sign-in settings",
			config:  node + fmt.Sprintf("auth:\n  oidc: {issuer: %q}\n  roles: [{claim: groups, value: it, role: boss}]\n", peerURL+"/idp"),
			wantErr: "config check: 1 of 5 checks failed",
			lines: []string{
				`^config +ok`, `^store +ok`, `^index +ok`,
				`^sign-in +FAIL +auth config: auth.oidc.client_id: required auth.roles\[0\].role "boss": not one of teacher, publisher, coordinator, admin$`,
				`^peers +ok`,
			},
		},
		{
			name:    "invalid configuration",
			config:  "node: {id: Not A Slug}\nstorage: {kind: gcs}\n",
			wantErr: "config check: the configuration is not valid",
			lines:   []string{`^config +FAIL +.*node.id: must be a short slug.*storage.kind: must be fs or s3`},
		},
		{
			name:   "serving node ready",
			config: fmt.Sprintf("listen: %q\n", peerAddr),
			args:   []string{"--serving"},
			lines:  []string{`^node +ok +http://` + regexp.QuoteMeta(peerAddr) + `/readyz answered 200$`},
		},
		{
			name:    "serving node down",
			config:  fmt.Sprintf("listen: %q\n", strings.TrimPrefix(closed, "http://")),
			args:    []string{"--serving"},
			wantErr: "config check: the node is not ready",
			lines:   []string{`^node +FAIL +http://.*/readyz: dial tcp .*connection refused$`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "brightspots.yaml")
			if err := os.WriteFile(path, []byte(tc.config), 0o600); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), append([]string{"config", "check", "--config", path}, tc.args...), &stdout, &stderr)
			if tc.wantErr == "" && err != nil {
				t.Errorf("config check failed: %v", err)
			}
			if tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr) {
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
			got := strings.Split(strings.TrimRight(stdout.String(), "\n"), "\n")
			if len(got) != len(tc.lines) {
				t.Fatalf("%d lines, want %d (one per check):\n%s%s", len(got), len(tc.lines), stdout.String(), stderr.String())
			}
			for i, want := range tc.lines {
				if !regexp.MustCompile(want).MatchString(got[i]) {
					t.Errorf("line %d:\n  %s\ndoes not match\n  %s", i+1, got[i], want)
				}
			}
			if t.Failed() {
				t.Logf("output:\n%s", stdout.String())
			}
		})
	}
}

// TestConfigCheckWritesNothing: checking a configuration leaves the store exactly as it was.
func TestConfigCheckWritesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("runs MinIO")
	}
	minio := miniotest.Start(t)
	b := minio.NewBucket(t)
	data := t.TempDir()
	path := filepath.Join(t.TempDir(), "brightspots.yaml")
	cfg := fmt.Sprintf("data_dir: %q\nstorage:\n  kind: s3\n  s3: {endpoint: %q, bucket: %q, access_key: %q, secret_key: %q}\n",
		data, minio.Endpoint, b.Name(), minio.AccessKey, minio.SecretKey)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := minio.NewBucketName()
	if err := os.WriteFile(path+".missing", []byte(strings.Replace(cfg, b.Name(), missing, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + ".missing"} {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"config", "check", "--config", p}, &out, &out); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
	}
	objs, err := b.List(context.Background(), storage.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 0 {
		t.Errorf("config check wrote %d objects, e.g. %s", len(objs), objs[0].Key)
	}
	if ok, err := b.Client().BucketExists(context.Background(), missing); err != nil || ok {
		t.Errorf("config check created bucket %s (exists %v, err %v)", missing, ok, err)
	}
	if entries, err := os.ReadDir(data); err != nil || len(entries) != 0 {
		t.Errorf("config check wrote into data_dir: %v %v", entries, err)
	}
}
