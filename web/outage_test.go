package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brightspots-nic/brightspots/node"
	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/storage/s3"
	"github.com/brightspots-nic/brightspots/storage/s3/miniotest"
)

// TestStoreOutagesOverHTTP runs a node on a real MinIO under a stream of creates and publishes,
// then pauses MinIO (SIGSTOP: connections hang) and later stops it (connections refused). During
// each outage every request gets a clear answer: 503 with Retry-After for whatever needs the store
// (a valid token never turns into a 401), /readyz says unavailable. Afterwards the node serves again
// without a restart, every write it acknowledged is there, the change log names only versions that
// exist and, once the reconciler has run, every head is in the log and no write is left half-done.
func TestStoreOutagesOverHTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("needs MinIO")
	}
	mio := miniotest.Start(t)
	bucketName := mio.NewBucketName()
	n := newTestNode(t, func(cfg *node.Config) {
		c := mio.Config(bucketName)
		cfg.Storage.Kind = "s3"
		cfg.Storage.S3 = node.S3Config{Endpoint: c.Endpoint, Bucket: c.Bucket, AccessKey: c.AccessKey, SecretKey: c.SecretKey}
		cfg.Storage.StallTimeout = time.Second
	})
	if r := n.do("math", "GET", "/api/v1/me", nil); r.status != http.StatusOK { // cache the math token
		t.Fatalf("me: %d", r.status)
	}

	var (
		mu    sync.Mutex
		acked = map[string]int{} // id → version acknowledged
	)
	load := func(stop <-chan struct{}) *sync.WaitGroup {
		var wg sync.WaitGroup
		for w := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					r := n.doJSON("math", "POST", "/api/v1/practices", practiceJSON(fmt.Sprintf("w%d #%d", w, i)))
					if r.status != http.StatusCreated {
						checkOutageAnswer(t, n, "create", r)
						continue
					}
					id := r.json(t)["id"].(string)
					mu.Lock()
					acked[id] = 1
					mu.Unlock()
					r = n.do("math", "POST", "/api/v1/practices/"+id+"/publish", nil)
					if r.status != http.StatusOK {
						checkOutageAnswer(t, n, "publish", r)
						continue
					}
					mu.Lock()
					acked[id] = int(r.json(t)["version"].(float64))
					mu.Unlock()
				}
			}()
		}
		return &wg
	}

	outage := func(name string, begin, end func() error) {
		stop := make(chan struct{})
		mu.Lock()
		before := len(acked)
		mu.Unlock()
		wg := load(stop)
		// Let the load get going: the outage begins once it has written something (on a busy
		// machine that takes longer than on a quiet one; the deadline only bounds a failing test).
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
			mu.Lock()
			got := len(acked) - before
			mu.Unlock()
			if got >= 3 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d writes acknowledged in a minute before the outage; the load did not run", name, got)
			}
		}
		if err := begin(); err != nil {
			t.Fatal(err)
		}
		// Clear answers while the store is out, for a token resolved before and one never seen.
		for _, who := range []string{"math", "admin"} {
			r := n.do(who, "GET", "/api/v1/practices?status=draft", nil)
			if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
				t.Errorf("%s: list as %s: %d %s, want 503 with Retry-After", name, who, r.status, r.body)
			}
		}
		if r := n.do("", "GET", "/readyz", nil); r.status != http.StatusServiceUnavailable {
			t.Errorf("%s: /readyz %d", name, r.status)
		}
		if err := end(); err != nil {
			t.Fatal(err)
		}
		close(stop)
		wg.Wait()
		// Back without a restart.
		if r := n.doJSON("math", "POST", "/api/v1/practices", practiceJSON("after "+name)); r.status != http.StatusCreated {
			t.Fatalf("after %s: create %d %s", name, r.status, r.body)
		}
	}
	outage("a pause", mio.Pause, mio.Resume)
	outage("a stop", mio.Stop, func() error { return mio.Restart(context.Background()) })

	// Nothing lost or half-written.
	ctx := context.Background()
	raw, err := s3.Open(ctx, mio.Config(bucketName))
	if err != nil {
		t.Fatal(err)
	}
	repo, err := practices.Open(ctx, raw, practices.Node{URL: n.url, ID: "riverside"}, practices.Options{})
	if err != nil { // Open runs the reconciler, as a restart would
		t.Fatal(err)
	}
	if len(acked) < 5 {
		t.Fatalf("only %d acknowledged writes: the load did not run", len(acked))
	}
	for id, v := range acked {
		r := n.do("math", "GET", "/api/v1/practices/"+id, nil)
		if r.status != http.StatusOK || int(r.json(t)["version"].(float64)) < v {
			t.Errorf("acknowledged %s v%d: %d %s", id, v, r.status, r.body)
		}
	}
	logged := map[string]int{}
	var after uint64
	for {
		page, err := repo.ReadLog(ctx, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			if e.Seq != after+1 {
				t.Fatalf("change log gap: %d after %d", e.Seq, after)
			}
			after = e.Seq
			if e.Kind != practices.KindPractice {
				continue
			}
			if _, err := raw.Stat(ctx, fmt.Sprintf("records/%s/%s/v%08d.json", e.Kind, e.ID, e.Version)); err != nil {
				t.Errorf("log entry %d names a missing version: %+v", e.Seq, e)
			}
			logged[e.ID] = max(logged[e.ID], e.Version)
		}
	}
	heads, err := raw.List(ctx, storage.ListOptions{Prefix: "records/practice/"})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range heads {
		if id, ok := strings.CutSuffix(strings.TrimPrefix(o.Key, "records/practice/"), "/head.json"); ok {
			rec, err := repo.Get(ctx, practices.Principal{Kind: "token", Subject: "t", Roles: []practices.Role{practices.RoleAdmin}}, practices.KindPractice, id)
			if err != nil {
				t.Errorf("head of %s does not read: %v", id, err)
				continue
			}
			if v := rec.RecordMeta().Version; logged[id] < v {
				t.Errorf("head of %s is v%d but the log reaches v%d", id, v, logged[id])
			}
		}
	}
	if left, _ := raw.List(ctx, storage.ListOptions{Prefix: "node/intents/"}); len(left) != 0 {
		t.Errorf("%d write intents left after the reconciler ran", len(left))
	}
	t.Logf("%d acknowledged writes, log of %d entries", len(acked), after)
}

// checkOutageAnswer: a write that fails during an outage fails clearly. When it does not, the
// node's log lines of that request say why.
func checkOutageAnswer(t *testing.T, n *testNode, what string, r response) {
	t.Helper()
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" ||
		!strings.Contains(string(r.body), "store") {
		var lines []string
		if id := r.header.Get("X-Request-Id"); id != "" {
			for _, l := range strings.Split(n.logs.String(), "\n") {
				if strings.Contains(l, id) {
					lines = append(lines, l)
				}
			}
		}
		t.Errorf("%s during an outage: %d %s, want 503 with Retry-After naming the store; the node logged:\n%s",
			what, r.status, r.body, strings.Join(lines, "\n"))
	}
}
