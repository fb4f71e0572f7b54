// Package miniotest runs a real MinIO server for tests, benchmarks and demos.
//
// Start launches one server for a test (on a free loopback port, with a temporary data folder and
// random root credentials) and stops it when the test ends; Server.NewBucket gives each test its own
// bucket, so parallel tests can share a server. StartProcess does the same without a testing.TB, for
// code that runs outside tests.
package miniotest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/brightspots-nic/brightspots/internal/testenv"
	"github.com/brightspots-nic/brightspots/storage/s3"
)

// MissingMessage is what a test reports when the minio binary is not installed.
const MissingMessage = "minio not installed: run `make tools` (installs github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c into .tools/bin)"

// startTimeout bounds how long a server may take to report itself live.
const startTimeout = 60 * time.Second

// Server is a running MinIO server.
type Server struct {
	Endpoint  string // host:port, plain HTTP
	AccessKey string
	SecretKey string

	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has exited
	err    error         // the process's exit error, once exited is closed
	seq    atomic.Uint64 // for bucket names
	prefix string        // of bucket names, unique to this server

	bin, dataDir, consoleAddr string // to start it again (Restart)
	log                       io.Writer
}

// Start launches a server for t and stops it when t ends. If the minio binary is missing, the test is
// skipped (or failed, under CI). The server's log goes to the test log if the test fails.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := testenv.Tool("minio")
	if bin == "" {
		testenv.Missing(t, MissingMessage)
	}
	log := &tbLog{}
	s, err := StartProcess(context.Background(), bin, t.TempDir(), log)
	if err != nil {
		t.Fatalf("start minio: %v\n%s", err, log.tail())
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop minio: %v", err)
		}
		if t.Failed() {
			t.Logf("minio log:\n%s", log.tail())
		}
	})
	return s
}

// StartProcess launches the MinIO binary bin serving dataDir, with random root credentials, and
// returns once it is live. Its output goes to log (nil discards it). The caller calls Stop.
func StartProcess(ctx context.Context, bin, dataDir string, log io.Writer) (*Server, error) {
	if log == nil {
		log = io.Discard
	}
	var lastErr error
	for range 3 { // a port found free can be taken before the server binds it; try again
		s, err := startOnce(ctx, bin, dataDir, log)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if !errors.Is(err, errExited) {
			break
		}
	}
	return nil, lastErr
}

var errExited = errors.New("minio exited before it was live")

func startOnce(ctx context.Context, bin, dataDir string, log io.Writer) (*Server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	consoleAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &Server{
		Endpoint:  addr,
		AccessKey: "test-" + randomHex(8),
		SecretKey: randomHex(20),
		prefix:    "t" + randomHex(4),
		bin:       bin, dataDir: dataDir, consoleAddr: consoleAddr, log: log,
	}
	if err := s.launch(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// launch starts the process on s's address and data and waits until it is live.
func (s *Server) launch(ctx context.Context) error {
	s.exited = make(chan struct{})
	certs := filepath.Join(s.dataDir, ".certs") // keep MinIO out of $HOME/.minio
	s.cmd = exec.Command(s.bin, "server", "--quiet", "--address", s.Endpoint, "--console-address", s.consoleAddr,
		"--certs-dir", certs, filepath.Join(s.dataDir, "data"))
	s.cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+s.AccessKey,
		"MINIO_ROOT_PASSWORD="+s.SecretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_CALLHOME_ENABLE=off",
		"MINIO_CI_CD=on", // no interactive checks or colour
		"MINIO_SCANNER_SPEED=slowest",
	)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	cmd, exited := s.cmd, s.exited
	go func() {
		s.err = cmd.Wait()
		close(exited)
	}()
	if err := s.waitLive(ctx); err != nil {
		s.Stop()
		return err
	}
	return nil
}

// Pause stops the process with SIGSTOP: it keeps its port and accepts connections (the kernel does)
// but answers nothing, like a store that hangs.
// It returns once the kernel reports the process stopped (signal delivery is asynchronous).
func (s *Server) Pause() error {
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		return err
	}
	stat := fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid)
	for range 1000 {
		b, err := os.ReadFile(stat)
		if err != nil {
			return nil // no /proc here: assume delivered
		}
		// The state follows the command name, which is in parentheses: "pid (minio) T …".
		if i := bytes.LastIndexByte(b, ')'); i > 0 && i+2 < len(b) && b[i+2] == 'T' {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return errors.New("minio did not stop after SIGSTOP")
}

// Resume continues a paused process with SIGCONT.
func (s *Server) Resume() error { return s.cmd.Process.Signal(syscall.SIGCONT) }

// Restart starts a stopped server again on the same address, credentials and data.
func (s *Server) Restart(ctx context.Context) error {
	if err := s.Stop(); err != nil {
		return err
	}
	return s.launch(ctx)
}

func (s *Server) waitLive(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	url := "http://" + s.Endpoint + "/minio/health/live"
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("%w: %v", errExited, s.err)
		case <-ctx.Done():
			return fmt.Errorf("minio at %s not live after %v: %w", s.Endpoint, startTimeout, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop stops the server: SIGTERM, then SIGKILL if it has not exited after ten seconds.
func (s *Server) Stop() error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT) // a paused process does not act on SIGTERM
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	return nil
}

// Config returns the storage/s3 configuration for bucket on this server.
func (s *Server) Config(bucket string) s3.Config {
	return s3.Config{Endpoint: s.Endpoint, Bucket: bucket, AccessKey: s.AccessKey, SecretKey: s.SecretKey}
}

// NewBucketName returns a bucket name not used before on this server.
func (s *Server) NewBucketName() string {
	return fmt.Sprintf("%s-%d", s.prefix, s.seq.Add(1))
}

// NewBucket creates a new, empty bucket for t, with the 5 MiB minimum part size so multipart uploads
// are cheap to exercise.
func (s *Server) NewBucket(t testing.TB) *s3.Bucket {
	t.Helper()
	cfg := s.Config(s.NewBucketName())
	cfg.PartSize = 5 << 20
	b, err := s3.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("new bucket: %v", err)
	}
	return b
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// tbLog keeps the start of a server's output (the first MiB) to show when a test fails.
type tbLog struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *tbLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len() < 1<<20 {
		l.buf.Write(p)
	}
	return len(p), nil
}

func (l *tbLog) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
