package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/storage/s3"
	"github.com/brightspots-nic/brightspots/storage/s3/miniotest"
)

// balancer is the load balancer in front of the replicas: round robin, and a backend that refuses
// the connection (a killed replica) is skipped. Requests in this test are small, so their bodies are
// buffered to be sent again. With notifyTo set, peers' notifies go to that backend only.
type balancer struct {
	backends []string
	next     atomic.Uint32
	notifyTo atomic.Pointer[string]
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	start := int(b.next.Add(1))
	backends := b.backends
	if to := b.notifyTo.Load(); to != nil && r.URL.Path == "/federation/v1/notify" {
		backends = []string{*to}
	}
	for i := range backends {
		req := r.Clone(r.Context())
		req.URL.Scheme, req.URL.Host, req.RequestURI = "http", backends[(start+i)%len(backends)], ""
		req.Body = io.NopCloser(bytes.NewReader(body))
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			continue // a dead replica: try the next
		}
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.StatusCode)
		io.Copy(w, res.Body)
		res.Body.Close()
		return
	}
	http.Error(w, "no replica answered", http.StatusBadGateway)
}

// fedConfig writes a node configuration with peers, a store (fs, or the MinIO bucket s3c) and a
// poll interval of an hour, so only notifies (and the first pull after start or takeover) move data.
func fedConfig(t *testing.T, dir, id, url, listen string, s3c *s3.Config, peers map[string]string) string {
	t.Helper()
	path := nodeConfig(t, dir, id, url, listen, s3c)
	var b strings.Builder
	b.WriteString("federation:\n  poll_interval: 1h\n  peers:\n")
	for pid, purl := range peers {
		fmt.Fprintf(&b, "    - {id: %s, url: %q, name: %s}\n", pid, purl, pid)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(b.String()); err != nil {
		t.Fatal(err)
	}
	return path
}

// publishOn creates and publishes a practice titled title through the node at base.
func publishOn(t *testing.T, base, token, title string) string {
	t.Helper()
	id, err := tryPublish(base, token, title)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// tryPublish is publishOn for goroutines other than the test's.
func tryPublish(base, token, title string) (string, error) {
	send := func(method, url string, body any) (map[string]any, int, error) {
		data, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, url, bytes.NewReader(data))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, 0, err
		}
		defer res.Body.Close()
		var m map[string]any
		json.NewDecoder(res.Body).Decode(&m)
		return m, res.StatusCode, nil
	}
	rec, status, err := send("POST", base+"/api/v1/practices", practiceBody(title, "network"))
	if err != nil || status != 201 {
		return "", fmt.Errorf("create %q on %s: %d %v %v", title, base, status, err, rec)
	}
	id, _ := rec["id"].(string)
	if rec, status, err = send("POST", base+"/api/v1/practices/"+id+"/publish", nil); err != nil || status != 200 {
		return "", fmt.Errorf("publish %s on %s: %d %v %v", id, base, status, err, rec)
	}
	return id, nil
}

// searchIDs returns the record ids search shows for district on the node at base.
func searchIDs(base, token, district string) (map[string]bool, error) {
	ids := map[string]bool{}
	for page := 1; ; page++ {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/search?district=%s&sort=newest&per_page=100&page=%d", base, district, page), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		var out struct {
			Hits []struct {
				RecordID string `json:"record_id"`
			} `json:"hits"`
		}
		err = json.NewDecoder(res.Body).Decode(&out)
		res.Body.Close()
		if err != nil || res.StatusCode != 200 {
			return nil, fmt.Errorf("search: %d %v", res.StatusCode, err)
		}
		for _, h := range out.Hits {
			ids[h.RecordID] = true
		}
		if len(out.Hits) < 100 {
			return ids, nil
		}
	}
}

// leaseHolder reads the sync lease and returns the pid in its holder id ("host/pid/nonce").
func leaseHolder(t *testing.T, b storage.Bucket) (int, bool) {
	t.Helper()
	rc, _, err := b.Get(context.Background(), "node/state/sync-lease.json")
	if err != nil {
		return 0, false
	}
	defer rc.Close()
	var l struct {
		Holder   string `json:"holder"`
		Released bool   `json:"released"`
	}
	if json.NewDecoder(rc).Decode(&l) != nil || l.Released {
		return 0, false
	}
	parts := strings.Split(l.Holder, "/")
	if len(parts) < 2 {
		return 0, false
	}
	pid, err := strconv.Atoi(parts[1])
	return pid, err == nil
}

// logEntries reads the whole change log of b, checking that its keys run 1…n with no gap.
func logEntries(t *testing.T, b storage.Bucket) []practices.LogEntry {
	t.Helper()
	objs := storeObjects(t, b, "log/")
	out := make([]practices.LogEntry, 0, len(objs))
	for i := 1; i <= len(objs); i++ {
		body, ok := objs[fmt.Sprintf("log/%020d.json", i)]
		if !ok {
			t.Fatalf("the change log has a gap: entry %d of %d is missing", i, len(objs))
		}
		var e practices.LogEntry
		if err := json.Unmarshal(body, &e); err != nil || e.Seq != uint64(i) {
			t.Fatalf("log entry %d: %v %+v", i, err, e)
		}
		out = append(out, e)
	}
	return out
}

func randomWord() string {
	b := make([]byte, 10)
	for i := range b {
		b[i] = byte('a' + rand.IntN(26))
	}
	return string(b)
}

// TestReplicasShareOneBucket runs two replicas of one node (riverside) on one MinIO bucket, behind a
// load balancer at the node's public URL, each with its own embedded index, plus a peer (lakeview).
// 100 publishes spread over both replicas are each searchable on both within 5 s and the shared log
// stays gap-free; peers are pulled by the lease holder only; after the holder is killed (SIGKILL) the
// other replica takes the lease within 30 s and pulls what the peer publishes next, and every peer
// change is applied exactly once.
func TestReplicasShareOneBucket(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary, and MinIO")
	}
	bin := buildBinary(t)
	mio := miniotest.Start(t)
	bucketCfg := mio.Config(mio.NewBucketName())
	bucket, err := s3.Open(context.Background(), bucketCfg)
	if err != nil {
		t.Fatal(err)
	}

	lbLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	publicURL := "http://" + lbLn.Addr().String()
	peerAddr := freeAddr(t)
	peerURL := "http://" + peerAddr
	replicaAddrs := []string{freeAddr(t), freeAddr(t)}
	bal := &balancer{backends: replicaAddrs}
	lb := &http.Server{Handler: bal, ReadHeaderTimeout: 5 * time.Second}
	go lb.Serve(lbLn)
	t.Cleanup(func() { lb.Close() })

	peerCfg := fedConfig(t, t.TempDir(), "lakeview", peerURL, peerAddr, nil, map[string]string{"riverside": publicURL})
	var cfgs []string
	for _, addr := range replicaAddrs {
		cfgs = append(cfgs, fedConfig(t, t.TempDir(), "riverside", publicURL, addr, &bucketCfg, map[string]string{"lakeview": peerURL}))
	}
	pub := runCLI(t, bin, "token", "create", "--config", cfgs[0], "--name", "pub", "--role", "publisher", "--team", "math-4", "--new-team")
	teacher := runCLI(t, bin, "token", "create", "--config", cfgs[0], "--name", "teacher", "--role", "teacher")
	peerPub := runCLI(t, bin, "token", "create", "--config", peerCfg, "--name", "pub", "--role", "publisher", "--team", "math-4", "--new-team")

	serveConfig(t, bin, peerCfg, peerAddr)
	replicas := []*proc{serveConfig(t, bin, cfgs[0], replicaAddrs[0]), serveConfig(t, bin, cfgs[1], replicaAddrs[1])}
	bases := []string{"http://" + replicaAddrs[0], "http://" + replicaAddrs[1]}

	// 100 publishes, four writers at once, alternating replicas. Two checkers (one per replica) poll
	// search and fail any record not searchable on their replica 5 s after its publish was answered.
	type acked struct {
		id string
		at time.Time
	}
	var (
		mu   sync.Mutex
		acks []acked
	)
	var failed atomic.Value
	done := make(chan struct{})
	var checkers sync.WaitGroup
	for r := range bases {
		checkers.Go(func() {
			found := map[string]bool{}
			for {
				finished := false
				select {
				case <-done:
					finished = true
				default:
				}
				ids, err := searchIDs(bases[r], teacher, "riverside")
				now := time.Now()
				mu.Lock()
				pending := append([]acked(nil), acks...)
				mu.Unlock()
				missing := 0
				for _, a := range pending {
					if found[a.id] {
						continue
					}
					if err == nil && ids[a.id] {
						found[a.id] = true
						continue
					}
					missing++
					if now.After(a.at.Add(5 * time.Second)) {
						failed.CompareAndSwap(nil, fmt.Sprintf("practice %s (published %v ago) is not searchable on replica %d", a.id, now.Sub(a.at).Round(time.Millisecond), r))
						return
					}
				}
				if finished && missing == 0 {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
	var writers sync.WaitGroup
	var next atomic.Int32
	for range 4 {
		writers.Go(func() {
			for i := int(next.Add(1)); i <= 100; i = int(next.Add(1)) {
				id, err := tryPublish(bases[i%2], pub, fmt.Sprintf("Replicated practice %d %s", i, randomWord()))
				if err != nil {
					failed.CompareAndSwap(nil, err.Error())
					return
				}
				mu.Lock()
				acks = append(acks, acked{id, time.Now()})
				mu.Unlock()
			}
		})
	}
	writers.Wait()
	close(done)
	checkers.Wait()
	if f := failed.Load(); f != nil {
		t.Fatal(f)
	}
	if len(acks) != 100 {
		t.Fatalf("%d publishes answered, want 100", len(acks))
	}
	entries := logEntries(t, bucket)
	local := 0
	for _, e := range entries {
		if e.Origin == publicURL {
			local++
		}
	}
	if local != 200 { // a create and a publish each
		t.Fatalf("the log has %d entries of riverside's own records, want 200", local)
	}
	// One embedded index per replica, each with its own cursor; the shared cursor is not used.
	if cursors := storeObjects(t, bucket, "node/state/indexer-cursors/"); len(cursors) != 2 {
		t.Fatalf("%d indexer cursors, want one per replica's index", len(cursors))
	}

	// Peer changes are pulled by the lease holder and searchable on both replicas.
	var peerIDs []string
	waitSearchable := func(what string, deadline time.Duration, nodes []string) {
		t.Helper()
		end := time.Now().Add(deadline)
		for _, base := range nodes {
			for {
				ids, err := searchIDs(base, teacher, "lakeview")
				all := err == nil
				for _, id := range peerIDs {
					all = all && ids[id]
				}
				if all {
					break
				}
				if time.Now().After(end) {
					t.Fatalf("%s: lakeview's practices not all searchable on %s within %v (%v)", what, base, deadline, err)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
	holderPID, ok := leaseHolder(t, bucket)
	if !ok {
		t.Fatal("no replica holds the sync lease")
	}
	holder, survivor := -1, -1
	for i, p := range replicas {
		if p.cmd.Process.Pid == holderPID {
			holder, survivor = i, 1-i
		}
	}
	if holder < 0 {
		t.Fatalf("the lease names pid %d, which is neither replica", holderPID)
	}
	// Every notify from the peer lands on the replica without the lease (the poll interval is an
	// hour): only forwarding through the store gets the holder to pull.
	bal.notifyTo.Store(&replicaAddrs[survivor])
	for i := range 5 {
		peerIDs = append(peerIDs, publishOn(t, peerURL, peerPub, fmt.Sprintf("Lakeview practice %d %s", i, randomWord())))
	}
	waitSearchable("notifies to the replica without the lease", 10*time.Second, bases)
	if pid, _ := leaseHolder(t, bucket); pid != holderPID {
		t.Fatalf("the lease moved from pid %d to %d with both replicas alive", holderPID, pid)
	}
	bal.notifyTo.Store(nil)
	if err := replicas[holder].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	replicas[holder].cmd.Wait()
	// The peer publishes while the lease holder is dead: its notify reaches the survivor through the
	// load balancer, which forwards it through the store to whoever holds the lease next.
	for i := range 5 {
		peerIDs = append(peerIDs, publishOn(t, peerURL, peerPub, fmt.Sprintf("Lakeview practice after the kill %d %s", i, randomWord())))
	}
	for {
		if pid, ok := leaseHolder(t, bucket); ok && pid == replicas[survivor].cmd.Process.Pid {
			break
		}
		if time.Since(killed) > 30*time.Second {
			t.Fatal("the sync lease did not move to the surviving replica within 30 s of killing its holder")
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("the sync lease moved %v after the kill", time.Since(killed).Round(100*time.Millisecond))
	waitSearchable("after the takeover", 30*time.Second, bases[survivor:survivor+1])

	// Every peer change applied exactly once: one log entry for each of lakeview's practices (its
	// published version; drafts never leave a node), and nothing else from lakeview.
	perRecord := map[string]int{}
	for _, e := range logEntries(t, bucket) {
		if e.Origin == peerURL {
			perRecord[e.ID]++
			if e.Version != 2 || e.Op != "put" {
				t.Errorf("peer change %s v%d %s: want the published version 2, put", e.ID, e.Version, e.Op)
			}
		}
	}
	for _, id := range peerIDs {
		if perRecord[id] != 1 {
			t.Errorf("lakeview's practice %s was applied %d times, want once", id, perRecord[id])
		}
	}
	if len(perRecord) != len(peerIDs) {
		t.Errorf("the log names %d of lakeview's records, want %d", len(perRecord), len(peerIDs))
	}
	// And the survivor still serves local publishes into the same gap-free log.
	id := publishOn(t, publicURL, pub, "Published after the kill "+randomWord())
	end := time.Now().Add(5 * time.Second)
	for {
		if ids, err := searchIDs(bases[survivor], teacher, "riverside"); err == nil && ids[id] {
			break
		}
		if time.Now().After(end) {
			t.Fatal("a publish after the kill is not searchable within 5 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	logEntries(t, bucket)
}
