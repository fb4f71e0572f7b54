package uploads

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	tusd "github.com/tus/tusd/v2/pkg/handler"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage/fs"
	"github.com/brightspots-nic/brightspots/web/auth"
)

var publisher = practices.Principal{Kind: "token", Subject: "t1", Roles: []practices.Role{practices.RolePublisher}, Teams: []string{"math-4"}}

func tusInfo(size int64, practiceID string) tusd.FileInfo {
	return tusd.FileInfo{Size: size, MetaData: tusd.MetaData{"practice": practiceID, "filename": "plan.pdf"}}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func newHeld() *heldBytes {
	return &heldBytes{g: prometheus.NewGauge(prometheus.GaugeOpts{Name: "held"})}
}

// trickle makes every Read return at most one byte, like a slow network.
type trickle struct{ r io.Reader }

func (t trickle) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return t.r.Read(p)
}

// FuzzChunkBoundaries sends one file as a tus upload cut into chunks wherever the fuzzer likes —
// inside parts, at part boundaries, inside the first 512 bytes, empty chunks — some of them cut short
// as if the connection dropped, and checks that the finished artifact is exactly the file.
func FuzzChunkBoundaries(f *testing.F) {
	f.Add(uint32(300_000), []byte{1, 0, 0, 0, 0, 0, 2, 0})
	f.Add(uint32(65_536*3), []byte{0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0})
	f.Add(uint32(513), []byte{0x00, 0x02, 0x00, 0xff, 0xff})
	f.Add(uint32(1), []byte{})
	f.Add(uint32(200_000), []byte{0xff, 0xff, 0xff, 0x80, 0x01, 0x00})
	// On tmpfs when there is one: the store fsyncs every part and state, which on a busy disk would
	// leave the fuzzer a few executions a minute.
	dir := f.TempDir()
	if shm, err := os.MkdirTemp("/dev/shm", "uploads-fuzz-"); err == nil {
		dir = shm
		f.Cleanup(func() { os.RemoveAll(shm) })
	}
	bucket, err := fs.Open(dir)
	if err != nil {
		f.Fatal(err)
	}
	ctx := auth.WithPrincipal(context.Background(), publisher)
	repo, err := practices.Open(ctx, bucket, practices.Node{URL: "http://riverside.test", ID: "riverside"}, practices.Options{})
	if err != nil {
		f.Fatal(err)
	}
	s := &store{
		bucket: bucket, mp: bucket, repo: repo, partSize: 64 << 10, expiry: time.Hour, now: time.Now,
		log: discardLogger(), held: newHeld(), writers: make(chan struct{}, 1),
		authz: func(context.Context, practices.Principal, string) error { return nil },
	}
	seq := 0
	f.Fuzz(func(t *testing.T, size uint32, cuts []byte) {
		// At least the PDF header: the file is named .pdf, and a name must match what the bytes are.
		size = size%400_000 + uint32(len("%PDF-1.7\n"))
		cuts = cuts[:min(len(cuts), 32)] // at most 16 chunks before the rest: each costs a few fsyncs
		seq++
		file := make([]byte, size)
		for i := range file {
			file[i] = byte(uint32(i)*2654435761>>24) ^ byte(seq)
		}
		copy(file, "%PDF-1.7\n")
		want := sha256.Sum256(file)
		// A practice of its own each time: a practice takes at most 50 materials.
		rec, err := repo.Create(ctx, publisher, &practices.Practice{Meta: practices.Meta{Team: "math-4"}, Title: "Fuzzed uploads"})
		if err != nil {
			t.Fatal(err)
		}
		practiceID := rec.RecordMeta().ID
		up, err := s.NewUpload(ctx, tusInfo(int64(size), practiceID))
		if err != nil {
			t.Fatal(err)
		}
		id := up.(*upload).st.ID
		var off int64
		for i := 0; off < int64(size); i++ {
			// Each pair of bytes is a chunk length (scaled to the file) and whether it is cut short.
			n := int64(size) - off
			short := false
			if 2*i+1 < len(cuts) {
				n = min(n, int64(binary.BigEndian.Uint16(cuts[2*i:]))*int64(size)/65536+int64(cuts[2*i+1]%3))
				short = cuts[2*i+1]&0x80 != 0
			}
			up, err := s.GetUpload(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			body := io.Reader(bytes.NewReader(file[off : off+n]))
			if short {
				body = trickle{io.LimitReader(body, n/2)} // the connection drops halfway
			}
			got, err := up.WriteChunk(ctx, off, body)
			if err != nil {
				t.Fatalf("chunk at %d of %d bytes: %v", off, n, err)
			}
			info, _ := up.GetInfo(ctx)
			if off+got != int64(size) && info.Offset != off+got {
				t.Fatalf("wrote %d at %d, but the upload says it holds %d", got, off, info.Offset)
			}
			off += got
			if i > 4*int(size)+10 {
				t.Fatal("no progress")
			}
		}
		st, err := loadState(ctx, bucket, id)
		if err != nil || !st.Done || st.Sum != hex.EncodeToString(want[:]) {
			t.Fatalf("state after the last byte: %+v, %v; want sha256 %x", st, err, want)
		}
		rc, _, err := repo.ArtifactBytes(ctx, st.Sum, 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, file) {
			t.Fatalf("stored %d bytes, not the %d sent", len(got), len(file))
		}
		if ids, _ := bucket.MultipartUploads(); len(ids) != 0 {
			t.Fatalf("multipart files left: %v", ids)
		}
	})
}
