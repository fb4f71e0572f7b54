package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/storage/fs"
)

// buildBinary compiles the real binary once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "brightspots")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("build: %v", err)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type proc struct {
	cmd  *exec.Cmd
	addr string
}

func startServe(t *testing.T, bin, data, addr string) *proc {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--data", data, "--addr", addr)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Drain the log so the process never blocks on a full pipe.
	go func() { _, _ = io.Copy(io.Discard, bufio.NewReader(stderr)) }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return &proc{cmd: cmd, addr: addr}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Kill()
	t.Fatal("server did not become ready")
	return nil
}

func runCLI(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

// TestCrashSafetyUnderSIGKILL runs the real binary, kills it with SIGKILL in the middle of a stream
// of publishes and artifact uploads, restarts it, and checks that every acknowledged write is there,
// nothing half-written is visible, and the change log is consistent.
func TestCrashSafetyUnderSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	token := runCLI(t, bin, "token", "create", "--data", data, "--name", "crash", "--role", "publisher", "--team", "math-4", "--new-team")
	if !strings.HasPrefix(token, "bsk_") || strings.Contains(token, "\n") {
		t.Fatalf("token create printed %q", token)
	}

	type ack struct {
		id      string
		version int
		sha     string
	}
	var (
		mu    sync.Mutex
		acked []ack
	)
	// The node's URL is its identity (records carry it), so every restart uses the same address.
	addr := freeAddr(t)
	for round := 0; round < 3; round++ {
		p := startServe(t, bin, data, addr)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ctx.Err() == nil; i++ {
					id, v, ok := createAndPublish(ctx, addr, token, fmt.Sprintf("round %d writer %d #%d", round, w, i))
					if ok {
						mu.Lock()
						acked = append(acked, ack{id: id, version: v})
						mu.Unlock()
					}
					if id == "" {
						continue
					}
					blob := make([]byte, 256<<10)
					copy(blob, "%PDF-1.4\n")
					rand.Read(blob[16:])
					if sha, ok := upload(ctx, addr, token, id, blob); ok {
						mu.Lock()
						acked = append(acked, ack{id: id, sha: sha})
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(time.Duration(700+round*300) * time.Millisecond)
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		p.cmd.Wait()
		cancel()
		wg.Wait()
	}
	if len(acked) < 10 {
		t.Fatalf("only %d acknowledged writes: the test did not exercise the server", len(acked))
	}

	// Restart once more (runs the reconciler), then inspect the store directly.
	p := startServe(t, bin, data, addr)
	defer func() { p.cmd.Process.Signal(syscall.SIGTERM); p.cmd.Wait() }()
	b, err := fs.Open(filepath.Join(data, "store"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, a := range acked {
		if a.sha != "" {
			r, _, err := b.Get(ctx, practices.ArtifactKey(a.sha))
			if err != nil {
				t.Errorf("acknowledged artifact %s missing: %v", a.sha, err)
				continue
			}
			h := sha256.New()
			io.Copy(h, r)
			r.Close()
			if hex.EncodeToString(h.Sum(nil)) != a.sha {
				t.Errorf("artifact %s is half-written or corrupt", a.sha)
			}
			continue
		}
		res := get(t, "http://"+p.addr+"/api/v1/practices/"+a.id, token)
		if res["status"] != "published" || int(res["version"].(float64)) < a.version {
			t.Errorf("acknowledged publish of %s v%d: got %v v%v", a.id, a.version, res["status"], res["version"])
		}
	}
	// Every stored artifact is whole.
	objs, _ := b.List(ctx, storage.ListOptions{Prefix: "artifacts/sha256/"})
	for _, o := range objs {
		r, _, _ := b.Get(ctx, o.Key)
		h := sha256.New()
		io.Copy(h, r)
		r.Close()
		if "artifacts/sha256/"+hex.EncodeToString(h.Sum(nil)) != o.Key {
			t.Errorf("stored artifact %s does not match its hash", o.Key)
		}
	}
	// The log is gap-free, names only versions that exist, and covers every head.
	var after uint64
	logged := map[string]int{}
	repo, err := practices.Open(ctx, b, practices.Node{URL: "http://" + p.addr, ID: "district"}, practices.Options{})
	if err != nil {
		t.Fatal(err)
	}
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
			if _, err := b.Stat(ctx, fmt.Sprintf("records/%s/%s/v%08d.json", e.Kind, e.ID, e.Version)); err != nil {
				t.Errorf("log entry %d names a missing version: %+v", e.Seq, e)
			}
			logged[e.ID] = max(logged[e.ID], e.Version)
		}
	}
	heads, _ := b.List(ctx, storage.ListOptions{Prefix: "records/practice/"})
	for _, o := range heads {
		if !strings.HasSuffix(o.Key, "/head.json") {
			continue
		}
		id := strings.TrimSuffix(strings.TrimPrefix(o.Key, "records/practice/"), "/head.json")
		var head practices.Practice
		r, _, _ := b.Get(ctx, o.Key)
		json.NewDecoder(r).Decode(&head)
		r.Close()
		if logged[id] < head.Version {
			t.Errorf("head of %s is v%d but the log only reaches v%d", id, head.Version, logged[id])
		}
	}
	if tmp, _ := b.List(ctx, storage.ListOptions{Prefix: "node/intents/"}); len(tmp) != 0 {
		t.Errorf("%d write intents left after restart", len(tmp))
	}
	t.Logf("%d acknowledged writes survived 3 SIGKILLs; log has %d entries", len(acked), after)
}

func createAndPublish(ctx context.Context, addr, token, title string) (string, int, bool) {
	body, _ := json.Marshal(map[string]any{
		"title": title, "team": "math-4", "summary": "s", "description": "d", "key_moves": []string{"k"},
		"subjects": []string{"math"}, "grade_levels": []string{"04"}, "origin_kind": "team_designed", "time_required": "PT10M",
	})
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+addr+"/api/v1/practices", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", 0, false
	}
	var rec map[string]any
	json.NewDecoder(res.Body).Decode(&rec)
	res.Body.Close()
	if res.StatusCode != 201 {
		return "", 0, false
	}
	id := rec["id"].(string)
	req, _ = http.NewRequestWithContext(ctx, "POST", "http://"+addr+"/api/v1/practices/"+id+"/publish", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		return id, 0, false
	}
	json.NewDecoder(res.Body).Decode(&rec)
	res.Body.Close()
	if res.StatusCode != 200 {
		return id, 0, false
	}
	return id, int(rec["version"].(float64)), true
}

func upload(ctx context.Context, addr, token, id string, blob []byte) (string, bool) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, _ := w.CreateFormFile("file", "plan.pdf")
	fw.Write(blob)
	w.Close()
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+addr+"/api/v1/practices/"+id+"/artifacts", &buf)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", w.FormDataContentType())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", false
	}
	defer res.Body.Close()
	var ref map[string]any
	if res.StatusCode != 201 || json.NewDecoder(res.Body).Decode(&ref) != nil {
		return "", false
	}
	return ref["sha256"].(string), true
}

func get(t *testing.T, url, token string) map[string]any {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	json.NewDecoder(res.Body).Decode(&m)
	return m
}

// slowReader sends n bytes in small pieces with pauses, so a request is still in flight when the
// server is told to stop.
type slowReader struct {
	n, sent int
	started chan struct{}
}

func (s *slowReader) Read(p []byte) (int, error) {
	if s.sent >= s.n {
		return 0, io.EOF
	}
	if s.sent == 0 {
		close(s.started)
		copy(p, "%PDF-1.4\n")
		s.sent = 9
		return 9, nil
	}
	time.Sleep(20 * time.Millisecond)
	k := min(len(p), 4096, s.n-s.sent)
	for i := range p[:k] {
		p[i] = 'x'
	}
	s.sent += k
	return k, nil
}

// TestGracefulShutdownFinishesInFlightRequests sends SIGTERM while an upload is streaming: the upload
// completes with 201, the process exits 0, and the server stops accepting new connections.
func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	token := runCLI(t, bin, "token", "create", "--data", data, "--name", "g", "--role", "publisher", "--team", "math-4", "--new-team")
	p := startServe(t, bin, data, freeAddr(t))
	id, _, ok := createAndPublish(context.Background(), p.addr, token, "graceful")
	if !ok {
		t.Fatal("create")
	}
	body := &slowReader{n: 200 << 10, started: make(chan struct{})}
	done := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("POST", "http://"+p.addr+"/api/v1/practices/"+id+"/artifacts?name=slow.pdf", body)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/pdf")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- -1
			return
		}
		res.Body.Close()
		done <- res.StatusCode
	}()
	<-body.started
	time.Sleep(100 * time.Millisecond)
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := <-done; code != http.StatusCreated {
		t.Fatalf("in-flight upload finished with %d, want 201", code)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("server exit after SIGTERM: %v", err)
	}
	if _, err := http.Get("http://" + p.addr + "/healthz"); err == nil {
		t.Fatal("server still accepting connections after shutdown")
	}
}

// TestReindexRebuildsFromTheStore: with the index folder deleted, `brightspots reindex --data DIR`
// rebuilds it from the object store — taking the node identity the folder holds, with no --addr —
// and search finds the published practice again.
func TestReindexRebuildsFromTheStore(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	token := runCLI(t, bin, "token", "create", "--data", data, "--name", "r", "--role", "publisher", "--team", "math-4", "--new-team")
	addr := freeAddr(t)
	p := startServe(t, bin, data, addr)
	if _, _, ok := createAndPublish(context.Background(), p.addr, token, "Reindexed practice"); !ok {
		t.Fatal("publish")
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()
	if err := os.RemoveAll(filepath.Join(data, "search")); err != nil {
		t.Fatal(err)
	}
	if out := runCLI(t, bin, "reindex", "--data", data); !strings.Contains(out, "reindexed") {
		t.Fatalf("reindex printed %q", out)
	}
	p = startServe(t, bin, data, addr)
	defer func() { p.cmd.Process.Signal(syscall.SIGTERM); p.cmd.Wait() }()
	res := get(t, "http://"+p.addr+"/api/v1/search?q=reindexed", token)
	if res["total"] != float64(1) {
		t.Fatalf("search after reindex: %v", res)
	}
}

// TestIdentityChangeIsRefused: a store opened under another node URL refuses to start, naming the keys.
func TestIdentityChangeIsRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	p := startServe(t, bin, data, freeAddr(t))
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()
	out, err := exec.Command(bin, "serve", "--data", data, "--addr", freeAddr(t)).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "node.url") || !strings.Contains(string(out), "belongs to node") {
		t.Fatalf("serve under a new URL: err %v, output %s", err, out)
	}
}

// TestPeerListAndKeyRotation: `peer list` reports a healthy peer as ok and a peer whose discovery
// names another issuer in one line (exit status non-zero); `keys rotate` publishes a second key.
func TestPeerListAndKeyRotation(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	peerAddr := freeAddr(t)
	p := startServe(t, bin, t.TempDir(), peerAddr)
	defer func() { p.cmd.Process.Signal(syscall.SIGTERM); p.cmd.Wait() }()
	_, port, _ := net.SplitHostPort(peerAddr)

	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	listen := freeAddr(t)
	write := func(peerURL string) {
		os.WriteFile(cfg, []byte(fmt.Sprintf("node: {id: riverside}\nlisten: %q\ndata_dir: %q\nfederation:\n  peers:\n    - {url: %q, id: lakeview, name: Lakeview}\n",
			listen, filepath.Join(dir, "data"), peerURL)), 0o600)
	}
	write("http://" + peerAddr)
	out, err := exec.Command(bin, "peer", "list", "--config", cfg).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "lakeview") || !strings.Contains(string(out), " ok") {
		t.Fatalf("peer list of a healthy peer: %v\n%s", err, out)
	}
	// The same node reached under another name: its discovery names 127.0.0.1, not localhost.
	write("http://localhost:" + port)
	out, err = exec.Command(bin, "peer", "list", "--config", cfg).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "names") || !strings.Contains(string(out), "not the configured") {
		t.Fatalf("peer list of a mismatched issuer: %v\n%s", err, out)
	}
	// Rotation: the node's JWKS then holds the new key and the old one.
	out, err = exec.Command(bin, "keys", "rotate", "--config", cfg).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "new signing key") {
		t.Fatalf("keys rotate: %v\n%s", err, out)
	}
}
