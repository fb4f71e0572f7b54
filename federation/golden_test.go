package federation

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var goldenNow = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// fixedNode is a federation with a fixed Ed25519 key and clock, so what it signs is deterministic.
func fixedNode(t *testing.T) (*Member, *practices.Repo, storage.Bucket) {
	t.Helper()
	ctx := context.Background()
	b := fsBucket(t)
	clock := func() time.Time { return goldenNow }
	repo, err := practices.Open(ctx, b, practices.Node{URL: "https://nic.riverside.k12.example", ID: "riverside"}, practices.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	f, err := New(ctx, Config{Name: "Riverside Unified", Peers: []PeerConfig{{URL: "https://nic.lakeview.k12.example", ID: "lakeview"}}}, repo, Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	seed := bytes.Repeat([]byte{7}, ed25519.SeedSize)
	sk, err := keyFromSigner(ed25519.NewKeyFromSeed(seed), AlgEdDSA, goldenNow)
	if err != nil {
		t.Fatal(err)
	}
	f.keys.mu.Lock()
	f.keys.current, f.keys.all, f.keys.loadedAt = sk, []*storedKey{sk}, goldenNow
	f.keys.mu.Unlock()
	return f, repo, b
}

func goldenPractice(id string, status practices.Status, vis practices.Visibility) *practices.Practice {
	p := fullPractice("Fraction number line talks", vis)
	pub := goldenNow.Add(-48 * time.Hour)
	p.Meta = practices.Meta{
		ID: id, Kind: practices.KindPractice, URI: "https://nic.riverside.k12.example/practices/" + id, Version: 3,
		Origin: "https://nic.riverside.k12.example", OriginID: "riverside", Status: status,
		CreatedAt: pub.Add(-time.Hour), UpdatedAt: pub, PublishedAt: &pub, Team: "math-4", Visibility: vis,
		CreatedBy: "oidc|teacher-42", UpdatedBy: "oidc|coach-7",
	}
	p.Standards[0] = practices.Standard{Code: "CCSS.MATH.CONTENT.4.NF.A.2", Framework: "CCSS.MATH"}
	p.License = "CC-BY-4.0"
	if status == practices.StatusWithdrawn {
		w := goldenNow.Add(-time.Hour)
		p.WithdrawnAt = &w
	}
	return p
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n got: %s\nwant: %s", name, got, want)
	}
}

// verifyFixed checks a document against the fixed key the way a receiver does.
func verifyFixed(t *testing.T, f *Member, raw string) Document {
	t.Helper()
	jws, err := ParseDocument(raw)
	if err != nil {
		t.Fatal(err)
	}
	pub := f.keys.published().Keys[0]
	payload, err := jws.Verify(pub)
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := checkPayload(payload, f.node.URL, f.node.ID)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestGoldenSignedRecord(t *testing.T) {
	f, _, _ := fixedNode(t)
	jws, err := f.signRecord(goldenPractice("0195f0a0-7c3e-7a11-9d2b-3c4d5e6f7a80", practices.StatusPublished, practices.VisibilityNetwork))
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "signed-record.jws", []byte(jws+"\n"))
	d := verifyFixed(t, f, jws)
	if bytes.Contains(d.Record, []byte("created_by")) || bytes.Contains(d.Record, []byte("teacher-42")) || bytes.Contains(d.Record, []byte("coach-7")) {
		t.Errorf("signed record carries who created or changed it: %s", d.Record)
	}
	hdr, _ := ParseDocument(jws)
	if h := hdr.Signatures[0].Protected; h.Algorithm != string(jose.EdDSA) || h.KeyID != f.keys.currentKID() || h.ExtraHeaders[jose.HeaderType] != recordType {
		t.Errorf("header = %+v", h)
	}
}

func TestGoldenTombstone(t *testing.T) {
	f, _, _ := fixedNode(t)
	jws, err := f.signTombstone(practices.KindPractice, "0195f0a0-7c3e-7a11-9d2b-3c4d5e6f7a80", 4, ReasonWithdrawn, goldenNow.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "tombstone.jws", []byte(jws+"\n"))
	if d := verifyFixed(t, f, jws); !d.Deleted || d.Reason != ReasonWithdrawn || d.Record != nil {
		t.Errorf("tombstone = %+v", d)
	}
}

// TestGoldenFeedPage: a page over a change log holding a network practice (served), a district one
// (tombstone: visibility), a withdrawn one (tombstone: withdrawn), a draft (left out) and a record
// mirrored from another node (left out: v1 is not transitive).
func TestGoldenFeedPage(t *testing.T) {
	f, repo, b := fixedNode(t)
	ctx := context.Background()
	recs := []*practices.Practice{
		goldenPractice("0195f0a0-0000-7000-8000-000000000001", practices.StatusPublished, practices.VisibilityNetwork),
		goldenPractice("0195f0a0-0000-7000-8000-000000000002", practices.StatusPublished, practices.VisibilityDistrict),
		goldenPractice("0195f0a0-0000-7000-8000-000000000003", practices.StatusWithdrawn, practices.VisibilityNetwork),
		goldenPractice("0195f0a0-0000-7000-8000-000000000004", practices.StatusDraft, practices.VisibilityNetwork),
	}
	for i, r := range recs {
		body, _ := json.Marshal(r)
		if _, err := b.Put(ctx, "records/practice/"+r.ID+"/head.json", bytes.NewReader(body), int64(len(body)), storage.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := repo.AppendLog(ctx, practices.LogEntry{Kind: practices.KindPractice, ID: r.ID, Origin: f.node.URL, Version: r.Version, Op: "put"}); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if _, err := repo.AppendLog(ctx, practices.LogEntry{Kind: practices.KindPractice, ID: "0195f0a0-0000-7000-8000-0000000000ff",
				Origin: "https://nic.lakeview.k12.example", Version: 1, Op: "put"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The first record changed again: it appears once.
	if _, err := repo.AppendLog(ctx, practices.LogEntry{Kind: practices.KindPractice, ID: recs[0].ID, Origin: f.node.URL, Version: 3, Op: "put"}); err != nil {
		t.Fatal(err)
	}
	peer := practices.Principal{Kind: "node", Subject: "https://nic.lakeview.k12.example", PeerID: "lakeview"}
	w := httptest.NewRecorder()
	if err := f.serveChanges(w, httptest.NewRequest("GET", "/federation/v1/changes?limit=10", nil), peer); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "feed-page.json", w.Body.Bytes())
	page, err := ParsePage(w.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 3 || page.More {
		t.Fatalf("page has %d items, more=%v", len(page.Items), page.More)
	}
	want := []struct {
		deleted bool
		reason  string
	}{{false, ""}, {true, ReasonVisibility}, {true, ReasonWithdrawn}}
	for i, it := range page.Items {
		d := verifyFixed(t, f, it.JWS)
		if d.ID != recs[i].ID || d.Deleted != want[i].deleted || d.Reason != want[i].reason {
			t.Errorf("item %d = %s deleted=%v reason=%q", i, d.ID, d.Deleted, d.Reason)
		}
	}
	// The next page after it is empty and says so.
	w = httptest.NewRecorder()
	if err := f.serveChanges(w, httptest.NewRequest("GET", "/federation/v1/changes?after="+page.Next, nil), peer); err != nil {
		t.Fatal(err)
	}
	next, err := ParsePage(w.Body.Bytes())
	if err != nil || len(next.Items) != 0 || next.More || next.Next != page.Next {
		t.Errorf("page after the end = %+v, %v", next, err)
	}
}
