// Command benchupload measures a large artifact upload through the node's HTTP API into MinIO,
// against minio-go's own PutObject of the same bytes to the same MinIO in the same run, and the
// server's peak resident memory. It starts everything itself on loopback:
//
//	go run ./scripts/benchupload -size 1073741824 [-digest] [-mode resumable]
//
// The bytes are generated as they are sent (a seeded stream, new bytes for every upload so no
// de-duplication flatters the figure), so the client holds none of them.
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/brightspots-nic/brightspots/internal/testenv"
	"github.com/brightspots-nic/brightspots/storage/s3/miniotest"
)

var (
	withDigest = flag.Bool("digest", false, "declare the SHA-256 (Content-Digest on a single request, sha256 metadata on a tus upload)")
	mode       = flag.String("mode", "single", "single: POST /api/v1/practices/{id}/artifacts; resumable: a tus upload (POST /api/v1/uploads/, then one PATCH)")
)

func main() {
	size := flag.Int64("size", 1<<30, "bytes to upload")
	runs := flag.Int("runs", 3, "alternating runs of each")
	flag.Parse()
	if err := run(*size, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "benchupload:", err)
		os.Exit(1)
	}
}

// stream is a deterministic pseudo-random byte stream of n bytes that starts like a PDF.
type stream struct {
	rng *rand.ChaCha8
	n   int64
	off int64
}

func newStream(n int64, seed byte) *stream {
	return &stream{rng: rand.NewChaCha8([32]byte{seed}), n: n}
}

func (s *stream) Read(p []byte) (int, error) {
	if s.off >= s.n {
		return 0, io.EOF
	}
	if int64(len(p)) > s.n-s.off {
		p = p[:s.n-s.off]
	}
	s.rng.Read(p)
	if s.off == 0 && len(p) >= 9 {
		copy(p, "%PDF-1.7\n")
	}
	s.off += int64(len(p))
	return len(p), nil
}

func run(size int64, runs int) error {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "benchupload")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := testenv.Tool("minio")
	if bin == "" {
		return fmt.Errorf("minio not installed: make tools")
	}
	mio, err := miniotest.StartProcess(ctx, bin, filepath.Join(tmp, "minio"), io.Discard)
	if err != nil {
		return err
	}
	defer mio.Stop()

	node := filepath.Join(tmp, "brightspots")
	if out, err := exec.Command("go", "build", "-o", node, "./cmd/brightspots").CombinedOutput(); err != nil {
		return fmt.Errorf("build: %v\n%s", err, out)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	s3c := mio.Config("node")
	cfgPath := filepath.Join(tmp, "config.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`node: {id: bench}
listen: %q
data_dir: %q
storage:
  kind: s3
  s3: {endpoint: %q, bucket: node, access_key: %q, secret_key: %q}
limits: {max_artifact_bytes: %d}
log: {level: warn}
`, addr, filepath.Join(tmp, "data"), s3c.Endpoint, s3c.AccessKey, s3c.SecretKey, size+1)), 0o600)
	tok, err := exec.Command(node, "token", "create", "--config", cfgPath, "--name", "bench", "--role", "publisher", "--team", "t", "--new-team").Output()
	if err != nil {
		return fmt.Errorf("token: %v", err)
	}
	token := strings.TrimSpace(string(tok))
	srv := exec.Command(node, "serve", "--config", cfgPath)
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { srv.Process.Signal(os.Interrupt); srv.Wait() }()
	base := "http://" + addr
	for i := 0; ; i++ {
		if res, err := http.Get(base + "/readyz"); err == nil && res.StatusCode == 200 {
			res.Body.Close()
			break
		}
		if i > 200 {
			return fmt.Errorf("server not ready")
		}
		time.Sleep(50 * time.Millisecond)
	}
	req, _ := http.NewRequest("POST", base+"/api/v1/practices", strings.NewReader(`{"title":"bench","team":"t"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	var id string
	{
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		i := strings.Index(string(b), `"id":"`)
		id = string(b[i+6 : i+6+36])
	}

	mc, err := minio.New(s3c.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(s3c.AccessKey, s3c.SecretKey, ""), Region: "us-east-1"})
	if err != nil {
		return err
	}
	if err := mc.MakeBucket(ctx, "direct", minio.MakeBucketOptions{}); err != nil {
		return err
	}
	idle := rss(srv.Process.Pid, "VmRSS:")
	var apiTimes, directTimes []time.Duration
	for r := 0; r < runs; r++ {
		// With -digest the client declares the SHA-256 (RFC 9530 Content-Digest, or the tus upload's
		// sha256 metadata), computed in a pass before the timed upload.
		var digest, hexSum string
		if *withDigest {
			h := sha256.New()
			io.Copy(h, newStream(size, byte(2*r+1)))
			digest = "sha-256=:" + base64.StdEncoding.EncodeToString(h.Sum(nil)) + ":"
			hexSum = hex.EncodeToString(h.Sum(nil))
		}
		start := time.Now()
		if *mode == "resumable" {
			if err := tusUpload(base, token, id, fmt.Sprintf("big-%d.pdf", r), size, hexSum, newStream(size, byte(2*r+1))); err != nil {
				return err
			}
			apiTimes = append(apiTimes, time.Since(start))
			goto direct
		}
		{
			req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/practices/%s/artifacts?name=big-%d.pdf", base, id, r), bufio.NewReaderSize(newStream(size, byte(2*r+1)), 1<<20))
			req.ContentLength = size
			if digest != "" {
				req.Header.Set("Content-Digest", digest)
			}
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/pdf")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 201 {
				return fmt.Errorf("upload: %d %s", res.StatusCode, body)
			}
		}
		apiTimes = append(apiTimes, time.Since(start))
	direct:
		start = time.Now()
		if _, err := mc.PutObject(ctx, "direct", fmt.Sprintf("big-%d", r), newStream(size, byte(2*r+2)), size,
			minio.PutObjectOptions{PartSize: 16 << 20, ContentType: "application/pdf"}); err != nil {
			return err
		}
		directTimes = append(directTimes, time.Since(start))
	}
	hwm := rss(srv.Process.Pid, "VmHWM:")
	mb := float64(size) / (1 << 20)
	fmt.Printf("size %.0f MiB, %d runs each, alternating, mode %s, digest declared: %v\n", mb, runs, *mode, *withDigest)
	for i := range apiTimes {
		fmt.Printf("run %d: API %.2fs (%.0f MiB/s)   minio-go PutObject %.2fs (%.0f MiB/s)   ratio %.2f\n", i+1,
			apiTimes[i].Seconds(), mb/apiTimes[i].Seconds(), directTimes[i].Seconds(), mb/directTimes[i].Seconds(),
			directTimes[i].Seconds()/apiTimes[i].Seconds())
	}
	fmt.Printf("best: API %.0f MiB/s, direct %.0f MiB/s, ratio %.2f\n", mb/minD(apiTimes).Seconds(), mb/minD(directTimes).Seconds(), minD(directTimes).Seconds()/minD(apiTimes).Seconds())
	fmt.Printf("server RSS idle (before the uploads): %s, peak (VmHWM): %s\n", idle, hwm)
	return nil
}

func minD(d []time.Duration) time.Duration {
	m := d[0]
	for _, x := range d[1:] {
		m = min(m, x)
	}
	return m
}

// rss reads one memory line (VmRSS:, VmHWM:) of a process's status.
func rss(pid int, field string) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field) {
			return strings.TrimSpace(strings.TrimPrefix(line, field))
		}
	}
	return "unknown"
}

// tusUpload sends body as a tus upload: a POST to create it, then the whole file in one PATCH (what
// tus-js-client does with its default chunk size).
func tusUpload(base, token, practice, name string, size int64, sum string, body io.Reader) error {
	meta := "practice " + base64.StdEncoding.EncodeToString([]byte(practice)) + ",filename " + base64.StdEncoding.EncodeToString([]byte(name))
	if sum != "" {
		meta += ",sha256 " + base64.StdEncoding.EncodeToString([]byte(sum))
	}
	req, _ := http.NewRequest("POST", base+"/api/v1/uploads/", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", strconv.FormatInt(size, 10))
	req.Header.Set("Upload-Metadata", meta)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 201 {
		return fmt.Errorf("create upload: %d", res.StatusCode)
	}
	req, _ = http.NewRequest("PATCH", res.Header.Get("Location"), bufio.NewReaderSize(body, 1<<20))
	req.ContentLength = size
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Offset", "0")
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	msg, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 204 || res.Header.Get("Upload-Offset") != strconv.FormatInt(size, 10) {
		return fmt.Errorf("upload: %d %s", res.StatusCode, msg)
	}
	return nil
}
