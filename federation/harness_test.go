package federation

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/storage/fs"
)

var (
	admin   = practices.Principal{Kind: "token", Subject: "admin-1", Roles: []practices.Role{practices.RoleAdmin}}
	teacher = practices.Principal{Kind: "session", Subject: "teacher-1"}
)

func fsBucket(t testing.TB) storage.Bucket {
	t.Helper()
	b, err := fs.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testNode is one district node on loopback: its own bucket, repo, federation and HTTP server.
type testNode struct {
	t      testing.TB
	id     string
	url    string
	addr   string
	bucket storage.Bucket
	repo   *practices.Repo
	fed    *Member
	reg    *prometheus.Registry

	// wrap, when set, sits in front of the federation handler (fault injection).
	wrap atomic.Pointer[func(http.Handler) http.Handler]

	mu     sync.Mutex
	srv    *http.Server
	cancel context.CancelFunc
	done   chan struct{}
}

// cluster starts nodes with the given ids, each with its bucket, all peered with each other.
type cluster struct {
	t     testing.TB
	nodes map[string]*testNode
	cfg   func(*Config)
	opts  func(id string, o *Options)
	// tune, when set, adjusts a node's federation before it starts (tunables, not yet running).
	tune func(id string, f *Member)
}

func newCluster(t testing.TB, buckets map[string]storage.Bucket, tweak func(*Config), opts ...func(id string, o *Options)) *cluster {
	t.Helper()
	c := &cluster{cfg: tweak}
	if len(opts) > 0 {
		c.opts = opts[0]
	}
	return c.with(t, buckets)
}

// with starts the cluster c describes (cfg, opts, tune) with one node per bucket.
func (c *cluster) with(t testing.TB, buckets map[string]storage.Bucket) *cluster {
	t.Helper()
	c.t, c.nodes = t, map[string]*testNode{}
	for id, b := range buckets {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		n := &testNode{t: t, id: id, addr: ln.Addr().String(), bucket: b}
		n.url = "http://" + n.addr
		ln.Close()
		c.nodes[id] = n
	}
	for _, n := range c.nodes {
		c.start(n)
	}
	t.Cleanup(func() {
		for _, n := range c.nodes {
			c.stop(n)
		}
	})
	return c
}

func (c *cluster) config(n *testNode) Config {
	cfg := Config{Name: "District " + n.id, PollInterval: time.Hour, RequestTimeout: 2 * time.Second}
	for _, o := range c.nodes {
		if o != n {
			cfg.Peers = append(cfg.Peers, PeerConfig{URL: o.url, ID: o.id, Name: "District " + o.id})
		}
	}
	if c.cfg != nil {
		c.cfg(&cfg)
	}
	return cfg
}

// start opens the node's repo on its bucket (as a process start would), serves and runs sync.
func (c *cluster) start(n *testNode) {
	t := c.t
	t.Helper()
	ctx := context.Background()
	repo, err := practices.Open(ctx, n.bucket, practices.Node{URL: n.url, ID: n.id}, practices.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	o := Options{Registry: reg}
	if c.opts != nil {
		c.opts(n.id, &o)
	}
	fed, err := New(ctx, c.config(n), repo, o)
	if err != nil {
		t.Fatal(err)
	}
	fed.backoffMin, fed.backoffMax, fed.notifyDebounce = 20*time.Millisecond, 300*time.Millisecond, 50*time.Millisecond
	if c.tune != nil {
		c.tune(n.id, fed)
	}
	repo.OnChange(fed.LocalChange)
	var ln net.Listener
	for i := 0; ; i++ {
		ln, err = net.Listen("tcp", n.addr)
		if err == nil {
			break
		}
		if i > 100 {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	h := fed.Handler()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wp := n.wrap.Load(); wp != nil {
			(*wp)(h).ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = fed.Run(runCtx) }()
	n.mu.Lock()
	n.repo, n.fed, n.reg, n.srv, n.cancel, n.done = repo, fed, reg, srv, cancel, done
	n.mu.Unlock()
}

// stop ends the node's sync loops and closes its server, like a process exit.
func (c *cluster) stop(n *testNode) {
	n.mu.Lock()
	srv, cancel, done := n.srv, n.cancel, n.done
	n.srv, n.cancel = nil, nil
	n.mu.Unlock()
	if srv == nil {
		return
	}
	cancel()
	<-done
	ctx, cc := context.WithTimeout(context.Background(), 5*time.Second)
	defer cc()
	_ = srv.Shutdown(ctx)
	srv.Close()
}

func (n *testNode) setWrap(w func(http.Handler) http.Handler) {
	if w == nil {
		n.wrap.Store(nil)
		return
	}
	n.wrap.Store(&w)
}

func fullPractice(title string, vis practices.Visibility, shared ...string) *practices.Practice {
	return &practices.Practice{
		Meta:         practices.Meta{Team: "math-4", Visibility: vis, SharedWith: shared},
		Title:        title,
		Summary:      "Students place fractions on a shared number line before comparing them.",
		Description:  "1. Draw a number line from 0 to 2.\n2. Each student places a fraction card and explains.",
		KeyMoves:     []string{"Students justify placement aloud", "Teacher records misconceptions"},
		Subjects:     []string{"math"},
		GradeLevels:  []string{"04"},
		Standards:    []practices.Standard{{Code: "ccss.math.content.4.nf.a.2"}},
		OriginKind:   "team_designed",
		TimeRequired: "PT15M",
	}
}

// publish creates and publishes a practice in n.
func (n *testNode) publish(title string, vis practices.Visibility, shared ...string) *practices.Practice {
	n.t.Helper()
	ctx := context.Background()
	rec, err := n.repo.Create(ctx, admin, fullPractice(title, vis, shared...))
	if err != nil {
		n.t.Fatal(err)
	}
	m := rec.RecordMeta()
	pub, err := n.repo.Publish(ctx, admin, practices.KindPractice, m.ID, m.Version)
	if err != nil {
		n.t.Fatal(err)
	}
	return pub.(*practices.Practice)
}

func (n *testNode) withdraw(id string) {
	n.t.Helper()
	if _, err := n.repo.Withdraw(context.Background(), admin, practices.KindPractice, id, 0); err != nil {
		n.t.Fatal(err)
	}
}

// mirrored returns what n holds of the record from origin: the record, or gone.
func (n *testNode) mirrored(origin *testNode, id string) (practices.Record, bool) {
	n.t.Helper()
	rec, gone, err := n.repo.Load(context.Background(), origin.url, practices.KindPractice, id)
	if err != nil {
		n.t.Fatal(err)
	}
	return rec, gone
}

// eventually polls cond until it returns nil or the deadline passes.
func eventually(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not reached within %v: %v", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hasVersion is a condition: n holds origin's record id at version v.
func hasVersion(n, origin *testNode, id string, v int) func() error {
	return func() error {
		rec, gone, err := n.repo.Load(context.Background(), origin.url, practices.KindPractice, id)
		if err != nil {
			return err
		}
		if gone {
			return fmt.Errorf("%s: %s is gone", n.id, id)
		}
		if got := rec.RecordMeta().Version; got != v {
			return fmt.Errorf("%s: %s at v%d, want v%d", n.id, id, got, v)
		}
		return nil
	}
}

// isTombstoned is a condition: n holds a tombstone for origin's record id.
func isTombstoned(n, origin *testNode, id string) func() error {
	return func() error {
		h, err := n.repo.MirrorHeld(context.Background(), origin.url, practices.KindPractice, id)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", n.id, id, err)
		}
		if !h.Deleted {
			return fmt.Errorf("%s: %s not tombstoned (v%d)", n.id, id, h.Version)
		}
		return nil
	}
}

// health returns n's health entry for peer id.
func (n *testNode) health(id string) PeerHealth {
	n.t.Helper()
	for _, h := range n.fed.Health() {
		if h.ID == id {
			return h
		}
	}
	n.t.Fatalf("%s has no peer %s", n.id, id)
	return PeerHealth{}
}
