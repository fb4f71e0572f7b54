package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/brightspots-nic/brightspots/node"
	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/storage/fs"
	"github.com/brightspots-nic/brightspots/storage/s3"
	"github.com/brightspots-nic/brightspots/storage/s3/miniotest"
)

// tusMeta encodes Upload-Metadata.
func tusMeta(kv ...string) string {
	var parts []string
	for i := 0; i+1 < len(kv); i += 2 {
		parts = append(parts, kv[i]+" "+base64.StdEncoding.EncodeToString([]byte(kv[i+1])))
	}
	return strings.Join(parts, ",")
}

// createUpload starts a tus upload as who and returns its path.
func (n *testNode) createUpload(who string, size int64, meta string) response {
	n.t.Helper()
	return n.do(who, "POST", "/api/v1/uploads/", nil, "Tus-Resumable", "1.0.0",
		"Upload-Length", strconv.FormatInt(size, 10), "Upload-Metadata", meta)
}

func uploadPath(t *testing.T, r response) string {
	t.Helper()
	if r.status != http.StatusCreated {
		t.Fatalf("create upload: %d %s", r.status, r.body)
	}
	loc := r.header.Get("Location")
	i := strings.Index(loc, "/api/v1/uploads/")
	if i < 0 {
		t.Fatalf("Location %q", loc)
	}
	return loc[i:]
}

func (n *testNode) patch(who, path string, offset int64, body []byte) response {
	n.t.Helper()
	return n.do(who, "PATCH", path, bytes.NewReader(body), "Tus-Resumable", "1.0.0",
		"Upload-Offset", strconv.FormatInt(offset, 10), "Content-Type", "application/offset+octet-stream")
}

func (n *testNode) headOffset(who, path string) int64 {
	n.t.Helper()
	r := n.do(who, "HEAD", path, nil, "Tus-Resumable", "1.0.0")
	if r.status != 200 {
		n.t.Fatalf("HEAD %s: %d", path, r.status)
	}
	off, err := strconv.ParseInt(r.header.Get("Upload-Offset"), 10, 64)
	if err != nil {
		n.t.Fatalf("HEAD %s: Upload-Offset %q", path, r.header.Get("Upload-Offset"))
	}
	return off
}

// pdfOf is n bytes that sniff as a PDF, different for every seed.
func pdfOf(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed) + 1
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = byte(x >> 24)
	}
	copy(b, "%PDF-1.7\n")
	return b
}

// uploadBackends runs f against a node on the local store and, when MinIO is installed, on S3.
func uploadBackends(t *testing.T, f func(t *testing.T, n *testNode, multipartLeft func() int)) {
	t.Run("fs", func(t *testing.T) {
		n := newTestNode(t)
		f(t, n, func() int {
			ids, err := storage.Unwrap(n.srv.Repo().Bucket()).(*fs.Bucket).MultipartUploads()
			if err != nil {
				t.Fatal(err)
			}
			return len(ids)
		})
	})
	t.Run("s3", func(t *testing.T) {
		mio := miniotest.Start(t)
		bucket := mio.NewBucketName()
		n := newTestNode(t, func(c *node.Config) {
			c.Storage.Kind = "s3"
			c.Storage.S3.Endpoint, c.Storage.S3.Bucket = mio.Endpoint, bucket
			c.Storage.S3.AccessKey, c.Storage.S3.SecretKey = mio.AccessKey, mio.SecretKey
		})
		f(t, n, func() int {
			ids, err := storage.Unwrap(n.srv.Repo().Bucket()).(*s3.Bucket).MultipartUploads(context.Background(), "")
			if err != nil {
				t.Fatal(err)
			}
			return len(ids)
		})
	})
}

// keys lists what the store holds under prefix.
func keys(t *testing.T, b storage.Bucket, prefix string) []string {
	t.Helper()
	objs, err := b.List(context.Background(), storage.ListOptions{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range objs {
		out = append(out, o.Key)
	}
	return out
}

func TestResumableUploadInPiecesOfAnySize(t *testing.T) {
	uploadBackends(t, func(t *testing.T, n *testNode, multipartLeft func() int) {
		id := n.doJSON("math", "POST", "/api/v1/practices", practiceJSON("Resumable")).json(t)["id"].(string)
		file := pdfOf(35<<20+12345, 1) // two 16 MiB parts and a short last one
		sum := sha256.Sum256(file)
		path := uploadPath(t, n.createUpload("math", int64(len(file)), tusMeta("practice", id, "filename", "lesson.pdf")))
		// Pieces that end inside parts, a piece smaller than the 512 bytes the type is read from,
		// and an empty one: each is kept, and the next continues from where it stopped.
		cuts := []int{100, 100, 3 << 20, 3<<20 + 7, 20 << 20, 20 << 20, 33 << 20, len(file)}
		off := 0
		for _, end := range cuts {
			r := n.patch("math", path, int64(off), file[off:end])
			if r.status != http.StatusNoContent {
				t.Fatalf("PATCH %d-%d: %d %s", off, end, r.status, r.body)
			}
			if got := n.headOffset("math", path); got != int64(end) {
				t.Fatalf("after PATCH %d-%d the node holds %d", off, end, got)
			}
			if end == len(file) {
				if r.header.Get("Artifact-Sha256") != hex.EncodeToString(sum[:]) {
					t.Fatalf("final PATCH: Artifact-Sha256 %q", r.header.Get("Artifact-Sha256"))
				}
			} else if h := n.srv.Uploads().Held(); h != int64(end) {
				t.Fatalf("incomplete bytes gauge %d, want %d", h, end)
			}
			off = end
		}
		got := n.do("math", "GET", "/api/v1/artifacts/"+hex.EncodeToString(sum[:]), nil)
		if got.status != 200 || !bytes.Equal(got.body, file) {
			t.Fatalf("download: %d, %d bytes, equal %v", got.status, len(got.body), bytes.Equal(got.body, file))
		}
		pr := n.do("math", "GET", "/api/v1/practices/"+id, nil).json(t)
		if mats, _ := pr["materials"].([]any); len(mats) != 1 || mats[0].(map[string]any)["media_type"] != "application/pdf" {
			t.Fatalf("materials: %v", pr["materials"])
		}
		if left := multipartLeft(); left != 0 {
			t.Fatalf("%d multipart uploads left in the store", left)
		}
		if k := keys(t, n.srv.Repo().Bucket(), "uploads/"); len(k) != 1 { // the finished state, until it expires
			t.Fatalf("upload objects left: %v", k)
		}
		if h := n.srv.Uploads().Held(); h != 0 {
			t.Fatalf("incomplete bytes gauge %d after the upload finished", h)
		}
		// The same file again is stored once.
		path2 := uploadPath(t, n.createUpload("math", int64(len(file)), tusMeta("practice", id, "filename", "copy.pdf")))
		if r := n.patch("math", path2, 0, file); r.status != 204 {
			t.Fatalf("second upload: %d %s", r.status, r.body)
		}
		if b := keys(t, n.srv.Repo().Bucket(), "artifacts/blobs/"); len(b) > 1 {
			t.Fatalf("the same bytes are stored twice: %v", b)
		}
	})
}

func TestResumableUploadRefusesBadInput(t *testing.T) {
	uploadBackends(t, func(t *testing.T, n *testNode, multipartLeft func() int) {
		id := n.doJSON("math", "POST", "/api/v1/practices", practiceJSON("Refusals")).json(t)["id"].(string)
		file := pdfOf(6<<20, 2)
		meta := tusMeta("practice", id, "filename", "plan.pdf")

		// Only a publisher of the practice's team may start an upload.
		if r := n.createUpload("teacher", 10, meta); r.status != 403 && r.status != 404 {
			t.Fatalf("teacher creates an upload: %d %s", r.status, r.body)
		}
		if r := n.createUpload("ela", 10, meta); r.status != 403 && r.status != 404 {
			t.Fatalf("another team creates an upload: %d %s", r.status, r.body)
		}
		wantProblem(t, n.createUpload("", 10, meta), 401, "")
		// Size beyond the limit, no size, a bad name, a bad digest.
		wantProblem(t, n.createUpload("math", 201<<20, meta), 413, "Upload-Length")
		wantProblem(t, n.createUpload("math", 0, meta), 422, "Upload-Length")
		wantProblem(t, n.createUpload("math", 10, tusMeta("practice", id, "filename", "../x.pdf")), 422, "filename")
		wantProblem(t, n.createUpload("math", 10, tusMeta("practice", id, "filename", "a.pdf", "sha256", "nope")), 400, "sha256")

		path := uploadPath(t, n.createUpload("math", int64(len(file)), meta))
		if r := n.patch("math", path, 0, file[:1000]); r.status != 204 {
			t.Fatalf("first chunk: %d %s", r.status, r.body)
		}
		// A chunk at the wrong offset.
		wantProblem(t, n.patch("math", path, 0, file[:1000]), 409, "Upload-Offset")
		wantProblem(t, n.patch("math", path, 5000, file[5000:6000]), 409, "Upload-Offset")
		// A chunk for someone else's upload: as if it did not exist.
		wantProblem(t, n.patch("ela", path, 1000, file[1000:2000]), 404, "")
		if r := n.do("ela", "HEAD", path, nil, "Tus-Resumable", "1.0.0"); r.status != 404 {
			t.Fatalf("HEAD of another's upload: %d", r.status)
		}
		wantProblem(t, n.do("ela", "DELETE", path, nil, "Tus-Resumable", "1.0.0"), 404, "")
		// More bytes than the upload declared.
		wantProblem(t, n.patch("math", path, 1000, append(append([]byte{}, file[1000:]...), 'x')), 413, "Content-Length")
		if got := n.headOffset("math", path); got != 1000 {
			t.Fatalf("after refusals the node holds %d bytes, want 1000", got)
		}
		// A chunk without the tus content type, or a missing Tus-Resumable.
		wantProblem(t, n.do("math", "PATCH", path, bytes.NewReader(file[1000:2000]), "Tus-Resumable", "1.0.0", "Upload-Offset", "1000"), 400, "Content-Type")
		wantProblem(t, n.do("math", "PATCH", path, bytes.NewReader(file[1000:2000]), "Upload-Offset", "1000", "Content-Type", "application/offset+octet-stream"), 412, "Tus-Resumable")

		// A declared digest the bytes do not match: refused at the end, nothing kept.
		other := sha256.Sum256([]byte("something else"))
		dpath := uploadPath(t, n.createUpload("math", int64(len(file)), tusMeta("practice", id, "filename", "d.pdf", "sha256", hex.EncodeToString(other[:]))))
		wantProblem(t, n.patch("math", dpath, 0, file), 460, "sha256")
		if r := n.do("math", "HEAD", dpath, nil, "Tus-Resumable", "1.0.0"); r.status != 404 {
			t.Fatalf("HEAD of a refused upload: %d", r.status)
		}
		// A type an artifact may not be: refused at the first bytes, nothing kept.
		html := append([]byte("<!DOCTYPE html><html><script>alert(1)</script>"), make([]byte, 600)...)
		hpath := uploadPath(t, n.createUpload("math", int64(len(html)), tusMeta("practice", id, "filename", "x.pdf")))
		wantProblem(t, n.patch("math", hpath, 0, html), 415, "file")
		// A score table as a material.
		csv := []byte(strings.Repeat("student,score\n1,10\n2,12\n", 40))
		cpath := uploadPath(t, n.createUpload("math", int64(len(csv)), tusMeta("practice", id, "filename", "scores.txt")))
		wantProblem(t, n.patch("math", cpath, 0, csv), 422, "file")
		// A roster hidden after the first bytes of prose: the whole file is scanned once it is
		// assembled, and refused with nothing kept (the first bytes alone look like a handout).
		roster := []byte(strings.Repeat("Our team read these notes together before each session. ", 14) + "\n" +
			strings.Repeat("name,dob,score\nAlice Smith,2015-03-02,41\nBen Jones,2015-07-19,38\n", 10))
		rpath := uploadPath(t, n.createUpload("math", int64(len(roster)), tusMeta("practice", id, "filename", "notes.txt")))
		wantProblem(t, n.patch("math", rpath, 0, roster), 422, "file")
		if r := n.do("math", "HEAD", rpath, nil, "Tus-Resumable", "1.0.0"); r.status != 404 {
			t.Fatalf("HEAD of a refused roster upload: %d", r.status)
		}

		// Expired: the clock moves past 24 h; the upload answers 410 and the sweep removes it.
		n.srv.Uploads().SetNow(func() time.Time { return time.Now().Add(25 * time.Hour) })
		wantProblem(t, n.patch("math", path, 1000, file[1000:2000]), 410, "upload")
		if removed, err := n.srv.Uploads().Sweep(context.Background()); err != nil || removed != 1 {
			t.Fatalf("sweep: removed %d, %v", removed, err)
		}
		b := n.srv.Repo().Bucket()
		for _, prefix := range []string{"uploads/", "artifacts/blobs/", "artifacts/sha256/", "artifacts/located/"} {
			if k := keys(t, b, prefix); len(k) != 0 {
				t.Errorf("left under %s: %v", prefix, k)
			}
		}
		if left := multipartLeft(); left != 0 {
			t.Errorf("%d multipart uploads left in the store", left)
		}
		if h := n.srv.Uploads().Held(); h != 0 {
			t.Errorf("incomplete bytes gauge %d after the sweep", h)
		}
		if r := n.do("math", "HEAD", path, nil, "Tus-Resumable", "1.0.0"); r.status != 404 {
			t.Fatalf("HEAD of an expired upload after the sweep: %d", r.status)
		}
		pr := n.do("math", "GET", "/api/v1/practices/"+id, nil).json(t)
		if mats, _ := pr["materials"].([]any); len(mats) != 0 {
			t.Fatalf("refused uploads became materials: %v", mats)
		}
	})
}
