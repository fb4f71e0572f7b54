package federation

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
)

// publishWithArtifact publishes a practice in n with one text artifact and returns it and the bytes.
func (n *testNode) publishWithArtifact(title string, vis practices.Visibility, content string) (*practices.Practice, practices.ArtifactRef) {
	n.t.Helper()
	ctx := context.Background()
	rec, err := n.repo.Create(ctx, admin, fullPractice(title, vis))
	if err != nil {
		n.t.Fatal(err)
	}
	ref, err := n.repo.StoreArtifact(ctx, "notes.txt", strings.NewReader(content), 1<<20)
	if err != nil {
		n.t.Fatal(err)
	}
	if _, err := n.repo.AttachArtifact(ctx, admin, rec.RecordMeta().ID, ref); err != nil {
		n.t.Fatal(err)
	}
	pub, err := n.repo.Publish(ctx, admin, practices.KindPractice, rec.RecordMeta().ID, 0)
	if err != nil {
		n.t.Fatal(err)
	}
	return pub.(*practices.Practice), ref
}

func keysUnder(t testing.TB, b storage.Bucket, prefix string) []string {
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

// TestArtifactFetchAndPurge: a teacher on B opens an artifact of A's practice: B fetches it from A,
// checks it and serves it, then serves it from its cache; when A withdraws the practice, B's cached
// copy goes, but never an artifact a local record of B references.
func TestArtifactFetchAndPurge(t *testing.T) {
	c := newCluster(t, map[string]storage.Bucket{"a": fsBucket(t), "b": fsBucket(t)}, nil)
	a, b := c.nodes["a"], c.nodes["b"]
	ctx := context.Background()
	const content = "Number line cards: print on card stock, one set per pair of students.\n"
	pr, ref := a.publishWithArtifact("With materials", practices.VisibilityNetwork, content)
	shared, sharedRef := a.publishWithArtifact("Shared file", practices.VisibilityNetwork, "also uploaded in b\n")
	eventually(t, converge, hasVersion(b, a, pr.ID, pr.Version))
	eventually(t, converge, hasVersion(b, a, shared.ID, shared.Version))

	cacheKey, err := b.repo.MirrorArtifactKey(a.url, ref.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	// Not copied with the record.
	if _, err := b.bucket.Stat(ctx, cacheKey); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("artifact copied before anyone opened it: %v", err)
	}
	// Anonymous callers may not see a network record's artifact.
	if _, _, err := b.fed.OpenArtifact(ctx, practices.Anonymous, ref.SHA256, 0, -1); !errors.Is(err, practices.ErrNotFound) {
		t.Fatalf("anonymous open: %v", err)
	}
	rc, got, err := b.fed.OpenArtifact(ctx, teacher, ref.SHA256, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(rc)
	rc.Close()
	if string(body) != content || got != ref {
		t.Fatalf("opened %q %+v", body, got)
	}
	if _, err := b.bucket.Stat(ctx, cacheKey); err != nil {
		t.Fatalf("verified copy not cached: %v", err)
	}
	if keys := keysUnder(t, b.bucket, "artifacts/sha256/"); len(keys) != 0 {
		t.Fatalf("a peer's artifact cached among the district's own: %v", keys)
	}
	// B uploads the same bytes as the second file for a record of its own.
	if _, err := b.repo.StoreArtifact(ctx, "mine.txt", strings.NewReader("also uploaded in b\n"), 1<<20); err != nil {
		t.Fatal(err)
	}
	own, err := b.repo.Create(ctx, admin, fullPractice("b's own", practices.VisibilityDistrict))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.repo.AttachArtifact(ctx, admin, own.RecordMeta().ID, sharedRef); err != nil {
		t.Fatal(err)
	}
	if err := b.fed.FetchArtifact(ctx, a.url, sharedRef); err != nil {
		t.Fatal(err)
	}

	a.withdraw(pr.ID)
	a.withdraw(shared.ID)
	eventually(t, converge, isTombstoned(b, a, pr.ID))
	eventually(t, converge, isTombstoned(b, a, shared.ID))
	// The tombstone is stored before the cache is purged: wait for the purge.
	eventually(t, converge, func() error {
		if keys := keysUnder(t, b.bucket, "artifacts/mirror/"); len(keys) != 0 {
			return fmt.Errorf("cached artifacts of withdrawn records still here: %v", keys)
		}
		return nil
	})
	if _, err := b.bucket.Stat(ctx, practices.ArtifactKey(sharedRef.SHA256)); err != nil {
		t.Errorf("artifact a local record references was purged: %v", err)
	}
	if _, _, err := b.fed.OpenArtifact(ctx, teacher, ref.SHA256, 0, -1); !errors.Is(err, practices.ErrNotFound) {
		t.Errorf("artifact of a withdrawn record still opens: %v", err)
	}
	if keys := keysUnder(t, b.bucket, "artifacts/refs/"+ref.SHA256+"/"); len(keys) != 0 {
		t.Errorf("references left: %v", keys)
	}
}

// TestArtifactMismatch: bytes that do not match the signed hash or size are neither served nor
// cached, and leave no temporary object behind.
func TestArtifactMismatch(t *testing.T) {
	for _, tt := range []struct {
		name  string
		serve func(real []byte) []byte
	}{
		{"same size, other bytes", func(real []byte) []byte { return bytes.ToUpper(real) }},
		{"longer", func(real []byte) []byte { return append(real, "and more"...) }},
		{"shorter", func(real []byte) []byte { return real[:len(real)-3] }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newCluster(t, map[string]storage.Bucket{"a": fsBucket(t), "b": fsBucket(t)}, nil)
			a, b := c.nodes["a"], c.nodes["b"]
			ctx := context.Background()
			const content = "exit ticket: place 3/4 and 2/3 on the line, then explain\n"
			pr, ref := a.publishWithArtifact("With materials", practices.VisibilityNetwork, content)
			eventually(t, converge, hasVersion(b, a, pr.ID, pr.Version))
			a.setWrap(func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if !strings.HasPrefix(r.URL.Path, "/federation/v1/artifacts/") {
						next.ServeHTTP(w, r)
						return
					}
					w.Header().Set("Content-Type", "application/octet-stream")
					_, _ = w.Write(tt.serve([]byte(content)))
				})
			})
			err := b.fed.FetchArtifact(ctx, a.url, ref)
			if !errors.Is(err, ErrArtifactMismatch) {
				t.Fatalf("fetch: %v, want ErrArtifactMismatch", err)
			}
			if _, _, err := b.fed.OpenArtifact(ctx, teacher, ref.SHA256, 0, -1); !errors.Is(err, ErrArtifactMismatch) {
				t.Errorf("open served something: %v", err)
			}
			if keys := keysUnder(t, b.bucket, "artifacts/mirror/"); len(keys) != 0 {
				t.Errorf("cached: %v", keys)
			}
			if keys := keysUnder(t, b.bucket, "artifacts/tmp/"); len(keys) != 0 {
				t.Errorf("temporary objects left: %v", keys)
			}
			// The honest peer's bytes go through.
			a.setWrap(nil)
			if err := b.fed.FetchArtifact(ctx, a.url, ref); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestArtifactEndpointVisibility: a peer gets an artifact only through a record visible to it.
func TestArtifactEndpointVisibility(t *testing.T) {
	c := newCluster(t, map[string]storage.Bucket{"a": fsBucket(t), "b": fsBucket(t)}, nil)
	a, b := c.nodes["a"], c.nodes["b"]
	_, hidden := a.publishWithArtifact("District only", practices.VisibilityDistrict, "district eyes only\n")
	_, open := a.publishWithArtifact("Network", practices.VisibilityNetwork, "for everyone in the network\n")
	get := func(sum string) int {
		claims := claimsFor(b, a)
		claims["htu"] = a.url + "/federation/v1/artifacts/" + sum
		resp, _ := doFeed(t, a, "GET", "/federation/v1/artifacts/"+sum, signWith(t, b, nodeTokenType, claims))
		return resp.StatusCode
	}
	if s := get(hidden.SHA256); s != http.StatusNotFound {
		t.Errorf("district-only artifact: %d, want 404", s)
	}
	if s := get(open.SHA256); s != http.StatusOK {
		t.Errorf("network artifact: %d, want 200", s)
	}
	if s := get(strings.Repeat("0", 64)); s != http.StatusNotFound {
		t.Errorf("unknown artifact: %d, want 404", s)
	}
}
