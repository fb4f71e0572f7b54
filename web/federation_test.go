package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/brightspots-nic/brightspots/federation"
	"github.com/brightspots-nic/brightspots/internal/testenv"
	"github.com/brightspots-nic/brightspots/node"
	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage/s3/miniotest"
)

// network starts len(ids) full nodes (store, index, sign-in, federation) on loopback, each peered with
// every other. The first node's store is a real MinIO bucket; the others use local directories.
func network(t testing.TB, ids ...string) []*testNode {
	t.Helper()
	mio := miniotest.Start(t)
	servers := make([]*httptest.Server, len(ids))
	cfgs := make([]node.Config, len(ids))
	for i, id := range ids {
		servers[i] = httptest.NewUnstartedServer(nil)
		cfg := node.Defaults()
		cfg.DataDir = t.TempDir()
		cfg.Node.ID, cfg.Node.Name = id, strings.ToUpper(id[:1])+id[1:]
		cfg.Listen = servers[i].Listener.Addr().String()
		cfg.Node.URL = "http://" + cfg.Listen
		cfg.RateLimit.PerSecond, cfg.RateLimit.Burst = 1e6, 1e6
		cfg.Federation.PollInterval = time.Hour // only notify can make the 5-second deadline
		if i == 0 {
			c := mio.Config(mio.NewBucketName())
			cfg.Storage.Kind = "s3"
			cfg.Storage.S3 = node.S3Config{Endpoint: c.Endpoint, Bucket: c.Bucket, AccessKey: c.AccessKey, SecretKey: c.SecretKey}
		}
		cfgs[i] = cfg
	}
	nodes := make([]*testNode, len(ids))
	for i := range ids {
		for j := range ids {
			if i != j {
				cfgs[i].Federation.Peers = append(cfgs[i].Federation.Peers, federation.PeerConfig{URL: cfgs[j].Node.URL, ID: cfgs[j].Node.ID, Name: cfgs[j].Node.Name})
			}
		}
		if err := cfgs[i].Check(); err != nil {
			t.Fatal(err)
		}
		logs := &testenv.LogBuffer{}
		srv, err := node.Open(context.Background(), cfgs[i], slog.New(slog.NewJSONHandler(io.MultiWriter(logs), &slog.HandlerOptions{Level: slog.LevelDebug})))
		if err != nil {
			t.Fatal(err)
		}
		servers[i].Config.Handler = srv.Handler()
		servers[i].Start()
		ctx, cancel := context.WithCancel(context.Background())
		wait := srv.Start(ctx)
		hs := servers[i]
		t.Cleanup(func() { hs.Close(); cancel(); wait() })
		n := &testNode{t: t, srv: srv, url: hs.URL, tokens: map[string]string{}, logs: logs, dataDir: cfgs[i].DataDir}
		for name, spec := range map[string][2]string{"teacher": {"teacher", ""}, "math": {"publisher", "math-4"}, "admin": {"admin", ""}} {
			secret, _, err := srv.Tokens().Create(context.Background(), name, spec[0], spec[1])
			if err != nil {
				t.Fatal(err)
			}
			n.tokens[name] = secret
		}
		nodes[i] = n
	}
	return nodes
}

// waitFor polls cond until it holds or 5 seconds pass (the deadline).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 5 s: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (n *testNode) finds(title string) bool {
	r := n.do("teacher", "GET", "/api/v1/search?q="+strings.ReplaceAll(title, " ", "+"), nil)
	return r.status == 200 && hasTitle(r.json(n.t), title)
}

// mirrored reports whether n holds a live mirror copy of the record.
func (n *testNode) mirrored(origin *testNode, kind practices.Kind, id string) bool {
	_, gone, err := n.srv.Repo().Load(context.Background(), origin.srv.Repo().Node().URL, kind, id)
	return err == nil && !gone
}

func (n *testNode) publishPractice(title, visibility string, sharedWith ...string) string {
	n.t.Helper()
	p := practiceJSON(title)
	p["visibility"] = visibility
	if len(sharedWith) > 0 {
		p["shared_with"] = sharedWith
	}
	r := n.doJSON("math", "POST", "/api/v1/practices", p)
	if r.status != 201 {
		n.t.Fatalf("create: %d %s", r.status, r.body)
	}
	id := r.json(n.t)["id"].(string)
	if r := n.doJSON("math", "POST", "/api/v1/practices/"+id+"/publish", nil); r.status != 200 {
		n.t.Fatalf("publish: %d %s", r.status, r.body)
	}
	return id
}

func TestFederationEndToEnd(t *testing.T) {
	nodes := network(t, "riverside", "lakeview", "hillcrest")
	a, b, c := nodes[0], nodes[1], nodes[2]

	for _, tc := range []struct {
		name   string
		remove func(id string)
	}{
		{"withdraw", func(id string) { a.doJSON("math", "POST", "/api/v1/practices/"+id+"/withdraw", nil) }},
		{"delete", func(id string) { a.doJSON("math", "DELETE", "/api/v1/practices/"+id, nil) }},
		{"narrow", func(id string) {
			cur := a.do("math", "GET", "/api/v1/practices/"+id, nil)
			rec := cur.json(t)
			rec["visibility"] = "district"
			if r := a.doJSON("math", "PUT", "/api/v1/practices/"+id, rec, "If-Match", cur.header.Get("ETag")); r.status != 200 {
				t.Fatalf("narrow: %d %s", r.status, r.body)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			title := fmt.Sprintf("Network practice to %s", tc.name)
			id := a.publishPractice(title, "network")
			for _, n := range []*testNode{b, c} {
				waitFor(t, title+" searchable in "+n.srv.Repo().Node().ID, func() bool { return n.finds(title) })
			}
			tc.remove(id)
			for _, n := range []*testNode{b, c} {
				waitFor(t, title+" gone from "+n.srv.Repo().Node().ID+"'s search", func() bool { return !n.finds(title) })
				waitFor(t, title+" gone from "+n.srv.Repo().Node().ID+"'s store", func() bool { return !n.mirrored(a, practices.KindPractice, id) })
			}
			if tc.name == "narrow" && !a.finds(title) {
				t.Fatal("a district-visible practice left its own district's search")
			}
		})
	}

	t.Run("shared with one peer only", func(t *testing.T) {
		id := a.publishPractice("Shared with Lakeview only", "peers", "lakeview")
		waitFor(t, "reaches lakeview", func() bool { return b.finds("Shared with Lakeview only") })
		// By the time B has it, C has pulled the same feed position: it must hold nothing visible.
		time.Sleep(500 * time.Millisecond)
		if c.finds("Shared with Lakeview only") || c.mirrored(a, practices.KindPractice, id) {
			t.Fatal("a practice shared only with lakeview reached hillcrest")
		}
	})

	t.Run("a test in B of A's practice counts in A's evidence", func(t *testing.T) {
		id := a.publishPractice("Practice replicated in Lakeview", "network")
		uri := a.do("math", "GET", "/api/v1/practices/"+id, nil).json(t)["uri"].(string)
		waitFor(t, "lakeview has the practice", func() bool { return b.finds("Practice replicated in Lakeview") })
		testID := b.plannedTest(uri)
		r := b.do("math", "POST", "/api/v1/tests/"+testID+"/results", strings.NewReader(scoreCSV(districtAPre, districtAPost)), "Content-Type", "text/csv")
		rec := r.json(t)["test"].(map[string]any)
		rec["learnings"], rec["decision"] = "Worked here too.", "adopt"
		b.doJSON("math", "PUT", "/api/v1/tests/"+testID, rec, "If-Match", r.header.Get("ETag"))
		if r := b.doJSON("math", "POST", "/api/v1/tests/"+testID+"/publish", nil); r.status != 200 {
			t.Fatalf("publish test: %d %s", r.status, r.body)
		}
		waitFor(t, "A's evidence includes B's test", func() bool {
			ev := a.do("teacher", "GET", "/api/v1/practices/"+id+"/evidence", nil).json(t)
			return ev["level"] == "tested" && ev["tests"] == float64(1)
		})
		waitFor(t, "A's search shows the practice as tested", func() bool {
			r := a.do("teacher", "GET", "/api/v1/search?q=replicated+lakeview&evidence=tested", nil)
			return hasTitle(r.json(t), "Practice replicated in Lakeview")
		})
	})
}

func TestNetworkHealthAPI(t *testing.T) {
	nodes := network(t, "riverside", "lakeview")
	a := nodes[0]
	a.publishPractice("Health check", "network")
	waitFor(t, "lakeview synced", func() bool { return nodes[1].finds("Health check") })
	wantProblem(t, a.do("teacher", "GET", "/api/v1/network", nil), 403, "")
	r := nodes[1].do("admin", "GET", "/api/v1/network", nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"id":"riverside"`) || !strings.Contains(string(r.body), `"last_success"`) {
		t.Fatalf("network: %d %s", r.status, r.body)
	}
}
