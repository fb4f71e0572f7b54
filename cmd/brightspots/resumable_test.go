package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/brightspots-nic/brightspots/storage/s3"
	"github.com/brightspots-nic/brightspots/storage/s3/miniotest"
)

// videoStream is a deterministic file of size bytes that can be read from any offset: block i of
// 64 KiB is ChaCha8 output seeded with i, and the file starts like an MP4 (ftyp box).
type videoStream struct {
	off, end int64
	block    []byte
	blockNo  int64
}

const videoBlock = 64 << 10

func newVideo(off, end int64) *videoStream {
	return &videoStream{off: off, end: end, blockNo: -1, block: make([]byte, videoBlock)}
}

func (v *videoStream) Read(p []byte) (int, error) {
	if v.off >= v.end {
		return 0, io.EOF
	}
	bn := v.off / videoBlock
	if bn != v.blockNo {
		var seed [32]byte
		binary.LittleEndian.PutUint64(seed[:], uint64(bn)+1)
		rand.NewChaCha8(seed).Read(v.block)
		if bn == 0 {
			copy(v.block, []byte{0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm', 0, 0, 2, 0, 'i', 's', 'o', 'm', 'm', 'p', '4', '1'})
		}
		v.blockNo = bn
	}
	n := copy(p, v.block[v.off%videoBlock:])
	n = int(min(int64(n), v.end-v.off))
	v.off += int64(n)
	return n, nil
}

// cutReader passes through r until at bytes have been read, then calls at (which may block, to keep
// the request open) and fails: the client dies in the middle of a chunk.
type cutReader struct {
	r     io.Reader
	left  int64
	onCut func()
}

var errClientKilled = errors.New("client killed")

func (c *cutReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		if c.onCut != nil {
			c.onCut()
			c.onCut = nil
		}
		return 0, errClientKilled
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// tusPatch sends bytes [off, size) of the video as one PATCH, cut after cut bytes when cut > 0.
func tusPatch(url, token string, off, size, cut int64, onCut func()) (*http.Response, error) {
	var body io.Reader = newVideo(off, size)
	if cut > 0 {
		body = &cutReader{r: body, left: cut, onCut: onCut}
	}
	req, _ := http.NewRequest("PATCH", url, body)
	req.ContentLength = size - off
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Offset", strconv.FormatInt(off, 10))
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := client.Do(req)
	if err == nil {
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	return res, err
}

func tusOffset(t *testing.T, url, token string) int64 {
	t.Helper()
	status, h, body := call(t, "HEAD", url, token, nil, "Tus-Resumable", "1.0.0")
	if status != 200 {
		t.Fatalf("HEAD %s: %d %s", url, status, body)
	}
	off, err := strconv.ParseInt(h.Get("Upload-Offset"), 10, 64)
	if err != nil {
		t.Fatalf("Upload-Offset %q", h.Get("Upload-Offset"))
	}
	return off
}

// TestResumableUploadSurvivesKilledClientsAndNode sends a 300 MiB video as a tus upload that is
// interrupted three times — the client killed mid-chunk twice, and the node SIGKILLed mid-chunk and
// restarted once — and checks that it completes with exactly the bytes sent, on the local store and
// on MinIO, with nothing of the upload left behind.
func TestResumableUploadSurvivesKilledClientsAndNode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary, and MinIO")
	}
	const size = 300 << 20
	h := sha256.New()
	io.Copy(h, newVideo(0, size))
	want := hex.EncodeToString(h.Sum(nil))
	bin := buildBinary(t)
	for _, backend := range []string{"fs", "s3"} {
		t.Run(backend, func(t *testing.T) {
			var s3c *s3.Config
			if backend == "s3" {
				mio := miniotest.Start(t)
				c := mio.Config(mio.NewBucketName())
				s3c = &c
			}
			addr := freeAddr(t)
			base := "http://" + addr
			dir := t.TempDir()
			cfg := nodeConfig(t, dir, "riverside", base, addr, s3c)
			f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(f, "limits: {max_artifact_bytes: %d}\n", 1<<30)
			f.Close()
			pub := runCLI(t, bin, "token", "create", "--config", cfg, "--name", "pub", "--role", "publisher", "--team", "math-4", "--new-team")
			node := serveConfig(t, bin, cfg, addr)
			_, pr := mustCall(t, 201, "POST", base+"/api/v1/practices", pub, practiceBody("Fraction talk, filmed", "network"))
			id := pr["id"].(string)

			meta := "practice " + base64.StdEncoding.EncodeToString([]byte(id)) + ",filename " + base64.StdEncoding.EncodeToString([]byte("lesson.mp4"))
			status, hdr, body := call(t, "POST", base+"/api/v1/uploads/", pub, nil,
				"Tus-Resumable", "1.0.0", "Upload-Length", strconv.Itoa(size), "Upload-Metadata", meta)
			if status != 201 {
				t.Fatalf("create: %d %s", status, body)
			}
			url := hdr.Get("Location")
			if !strings.HasPrefix(url, base+"/api/v1/uploads/") {
				t.Fatalf("Location %q", url)
			}

			// 1. The client dies 70 MiB into its first chunk.
			if _, err := tusPatch(url, pub, 0, size, 70<<20, nil); err == nil {
				t.Fatal("the cut request succeeded")
			}
			o1 := tusOffset(t, url, pub)
			if o1 <= 0 || o1 > 70<<20 {
				t.Fatalf("after the first cut the node holds %d bytes, want some of the 70 MiB sent", o1)
			}

			// 2. The node is killed with SIGKILL while a chunk streams in, and restarted.
			killed := make(chan struct{})
			done := make(chan error, 1)
			go func() {
				_, err := tusPatch(url, pub, o1, size, 80<<20, func() {
					node.cmd.Process.Kill()
					node.cmd.Wait()
					close(killed)
				})
				done <- err
			}()
			<-killed
			if err := <-done; err == nil {
				t.Fatal("the request to the killed node succeeded")
			}
			node = serveConfig(t, bin, cfg, addr)
			o2 := tusOffset(t, url, pub)
			if o2 < o1 || o2 > o1+80<<20 {
				t.Fatalf("after the node was killed it holds %d bytes (had %d, was sent up to %d)", o2, o1, o1+80<<20)
			}
			// Nothing is visible yet.
			if status, _, _ := call(t, "GET", base+"/api/v1/artifacts/"+want, pub, nil); status != 404 {
				t.Fatalf("half an upload is visible: GET artifact %d", status)
			}

			// 3. The client dies again, 90 MiB further.
			if _, err := tusPatch(url, pub, o2, size, 90<<20, nil); err == nil {
				t.Fatal("the cut request succeeded")
			}
			o3 := tusOffset(t, url, pub)
			if o3 < o2 {
				t.Fatalf("the node holds %d bytes, fewer than the %d it held before", o3, o2)
			}

			// The rest.
			res, err := tusPatch(url, pub, o3, size, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != 204 || res.Header.Get("Upload-Offset") != strconv.Itoa(size) || res.Header.Get("Artifact-Sha256") != want {
				t.Fatalf("final PATCH: %d, offset %s, sha256 %s (want %s)", res.StatusCode, res.Header.Get("Upload-Offset"), res.Header.Get("Artifact-Sha256"), want)
			}
			t.Logf("%s: held %d, %d, %d bytes after the three interruptions", backend, o1, o2, o3)

			// The bytes served are exactly the bytes sent.
			req, _ := http.NewRequest("GET", base+"/api/v1/artifacts/"+want, nil)
			req.Header.Set("Authorization", "Bearer "+pub)
			got, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			gh := sha256.New()
			n, err := io.Copy(gh, got.Body)
			got.Body.Close()
			if err != nil || got.StatusCode != 200 || n != size || hex.EncodeToString(gh.Sum(nil)) != want {
				t.Fatalf("download: %d, %d bytes, sha256 %x, err %v", got.StatusCode, n, gh.Sum(nil), err)
			}
			_, pr = mustCall(t, 200, "GET", base+"/api/v1/practices/"+id, pub, nil)
			if mats, _ := pr["materials"].([]any); len(mats) != 1 || mats[0].(map[string]any)["media_type"] != "video/mp4" {
				t.Fatalf("materials: %v", pr["materials"])
			}
			node.stop(t)

			// Nothing of the upload is left but its finished state (kept until it expires).
			if s3c != nil {
				b, err := s3.Open(context.Background(), *s3c)
				if err != nil {
					t.Fatal(err)
				}
				if ids, err := b.MultipartUploads(context.Background(), ""); err != nil || len(ids) != 0 {
					t.Fatalf("multipart uploads left: %v %v", ids, err)
				}
			} else {
				ents, _ := os.ReadDir(filepath.Join(dir, "data", "store", ".multipart"))
				if len(ents) != 0 {
					t.Fatalf("multipart files left: %v", ents)
				}
			}
		})
	}
}
