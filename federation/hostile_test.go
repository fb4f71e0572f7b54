package federation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	dto "github.com/prometheus/client_model/go"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/evidence"
	"github.com/brightspots-nic/brightspots/storage"
)

// The hostile-peer rig: a configured peer that serves whatever the test gives it, signed with its
// real key, so that every attack a peer can make with valid signatures is a regression test. It is
// a real node of the loopback cluster (discovery, JWKS and token checks are the real ones) whose
// change feed and artifact endpoint are replaced: the feed serves the documents the test signed, in
// order, one page per pull; the artifact endpoint serves the bytes the test set, counting requests
// and, when gated, holding them until the test opens the gate.
type hostilePeer struct {
	t *testing.T
	n *testNode

	mu        sync.Mutex
	items     []string
	artifacts map[string][]byte
	gate      chan struct{} // artifact responses wait for it to close, when non-nil

	artifactHits atomic.Int64
	inFlight     atomic.Int64
	maxInFlight  atomic.Int64
}

// newHostileCluster starts the hostile peer "evil" and the honest nodes named, all peered, and waits
// until every honest node has finished its first pull of the hostile one (so a later pull is the
// test's).
func newHostileCluster(t *testing.T, honest ...string) (*cluster, *hostilePeer) {
	t.Helper()
	buckets := map[string]storage.Bucket{"evil": fsBucket(t)}
	for _, id := range honest {
		buckets[id] = fsBucket(t)
	}
	c := newCluster(t, buckets, nil)
	h := &hostilePeer{t: t, n: c.nodes["evil"], artifacts: map[string][]byte{}}
	h.n.setWrap(h.handler)
	for _, id := range honest {
		n := c.nodes[id]
		eventually(t, converge, func() error {
			if n.health("evil").LastSuccess.IsZero() {
				return errors.New(id + " has not finished its first pull of evil")
			}
			return nil
		})
	}
	return c, h
}

func (h *hostilePeer) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/federation/v1/changes":
			h.serveFeed(w, r)
		case strings.HasPrefix(r.URL.Path, "/federation/v1/artifacts/"):
			h.serveArtifact(w, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// serveFeed serves the items after the cursor (an index into the list) as one page.
func (h *hostilePeer) serveFeed(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	items := append([]string(nil), h.items...)
	h.mu.Unlock()
	from, _ := strconv.Atoi(r.URL.Query().Get("after"))
	from = max(0, min(from, len(items)))
	page := Page{Items: []PageItem{}, Next: strconv.Itoa(len(items))}
	for i, jws := range items[from:] {
		page.Items = append(page.Items, PageItem{Cursor: strconv.Itoa(from + i + 1), JWS: jws})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(page)
}

func (h *hostilePeer) serveArtifact(w http.ResponseWriter, r *http.Request) {
	h.artifactHits.Add(1)
	n := h.inFlight.Add(1)
	defer h.inFlight.Add(-1)
	for {
		m := h.maxInFlight.Load()
		if n <= m || h.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	h.mu.Lock()
	body, ok := h.artifacts[strings.TrimPrefix(r.URL.Path, "/federation/v1/artifacts/")]
	gate := h.gate
	h.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(body)
}

// sign signs any payload the test gives with the hostile peer's real key.
func (h *hostilePeer) sign(payload []byte) string {
	h.t.Helper()
	jws, err := h.n.fed.keys.sign(recordType, payload)
	if err != nil {
		h.t.Fatal(err)
	}
	return jws
}

// signDoc signs a document.
func (h *hostilePeer) signDoc(d Document) string {
	h.t.Helper()
	payload, err := json.Marshal(d)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.sign(payload)
}

// doc wraps rec (its Meta filled in as the hostile peer's published record, then changed by edit)
// into a signed document, with the document's own fields taken from the record.
func (h *hostilePeer) doc(rec practices.Record, edit func(m *practices.Meta)) string {
	h.t.Helper()
	m := rec.RecordMeta()
	if m.ID == "" {
		m.ID = uuid.NewString()
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	m.Kind = kindOfRecord(rec)
	m.Version, m.Origin, m.OriginID, m.Status = 1, h.n.url, h.n.id, practices.StatusPublished
	m.URI = h.n.url + "/" + m.Kind.Plural() + "/" + m.ID
	m.Team, m.Visibility, m.CreatedAt, m.UpdatedAt, m.PublishedAt = "evil-team", practices.VisibilityPublic, now, now, &now
	if edit != nil {
		edit(m)
	}
	body, err := json.Marshal(rec)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.signDoc(Document{Origin: h.n.url, Kind: m.Kind, ID: m.ID, Version: m.Version, PublishedAt: now, Record: body})
}

func kindOfRecord(rec practices.Record) practices.Kind {
	switch rec.(type) {
	case *practices.Test:
		return practices.KindTest
	case *practices.Collection:
		return practices.KindCollection
	}
	return practices.KindPractice
}

// serve appends signed documents to the feed.
func (h *hostilePeer) serve(items ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.items = append(h.items, items...)
}

// setArtifact makes the artifact endpoint answer sum with body.
func (h *hostilePeer) setArtifact(sum string, body []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.artifacts[sum] = body
}

// hold makes artifact responses wait until release.
func (h *hostilePeer) hold() (release func()) {
	gate := make(chan struct{})
	h.mu.Lock()
	h.gate = gate
	h.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { close(gate) }) }
}

// pull makes n pull the hostile peer's feed now, as a notify would, and returns the outcome.
func (h *hostilePeer) pull(n *testNode) error {
	h.t.Helper()
	return n.fed.byURL[h.n.url].syncOnce(context.Background())
}

// refusedItems reads n's count of documents from the hostile peer refused for reason.
func refusedItems(t testing.TB, n *testNode, peer, reason string) float64 {
	t.Helper()
	var m dto.Metric
	if err := n.fed.metrics.refusedItems.WithLabelValues(peer, reason).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// hostilePractice is a complete practice for the hostile peer to sign.
func hostilePractice(title string) *practices.Practice {
	return fullPractice(title, practices.VisibilityPublic)
}

// hostileTest is a published single-group test of the practice at uri with results, for the
// hostile peer to sign.
func hostileTest(t *testing.T, uri string) *practices.Test {
	t.Helper()
	f := func(v float64) *float64 { return &v }
	a, err := evidence.AnalyzeSummary(evidence.SummaryInput{Groups: []evidence.SummaryGroup{{
		N: 30, MeanPre: f(48.2), SDPre: f(10.5), MeanPost: f(55.9), SDPost: f(11), R: f(0.78),
	}}}, evidence.Options{Design: evidence.SingleGroup, ScoreMin: 0, ScoreMax: 100})
	if err != nil {
		t.Fatal(err)
	}
	return &practices.Test{
		Title: "A test", Practice: practices.PracticeRef{URI: uri, Version: 2}, Cycle: "pdsa",
		Design: "single_group_pre_post", Question: "Does it help?", Results: a.Results(), Decision: "adopt",
	}
}

func TestHostileRigServesWhatItIsGiven(t *testing.T) {
	c, h := newHostileCluster(t, "b")
	b := c.nodes["b"]
	pr := hostilePractice("An honest-looking practice")
	h.serve(h.doc(pr, nil))
	if err := h.pull(b); err != nil {
		t.Fatal(err)
	}
	if _, gone := b.mirrored(h.n, pr.ID); gone {
		t.Fatal("b did not take the rig's honest document: the rig itself is broken")
	}
}

// TestHostileDistrictClaims: a peer cannot pass its records off as another district's, or as the
// receiver's own: documents naming another origin, another district id or another district's URI
// are refused (the page with them is not applied) and counted by reason (issue 12, item 1).
func TestHostileDistrictClaims(t *testing.T) {
	c, h := newHostileCluster(t, "b", "c")
	b, cn := c.nodes["b"], c.nodes["c"]
	tests := []struct {
		name   string
		reason string
		forge  func(pr *practices.Practice) string
	}{
		{"payload origin is another peer", refuseOrigin, func(pr *practices.Practice) string {
			body, _ := json.Marshal(pr)
			return h.signDoc(Document{Origin: cn.url, Kind: practices.KindPractice, ID: pr.ID, Version: 1, PublishedAt: time.Now(), Record: body})
		}},
		{"payload origin is the receiver", refuseOrigin, func(pr *practices.Practice) string {
			body, _ := json.Marshal(pr)
			return h.signDoc(Document{Origin: b.url, Kind: practices.KindPractice, ID: pr.ID, Version: 1, PublishedAt: time.Now(), Record: body})
		}},
		{"origin_id of another peer", refuseOtherDistrict, func(pr *practices.Practice) string {
			return h.doc(pr, func(m *practices.Meta) { m.OriginID = "c" })
		}},
		{"origin_id of the receiver", refuseOtherDistrict, func(pr *practices.Practice) string {
			return h.doc(pr, func(m *practices.Meta) { m.OriginID = "b" })
		}},
		{"invented origin_id", refuseOtherDistrict, func(pr *practices.Practice) string {
			return h.doc(pr, func(m *practices.Meta) { m.OriginID = "riverside" })
		}},
		{"uri of another district", refuseOtherDistrict, func(pr *practices.Practice) string {
			return h.doc(pr, func(m *practices.Meta) { m.URI = cn.url + "/practices/" + m.ID })
		}},
		{"record origin of another district", refuseOrigin, func(pr *practices.Practice) string {
			return h.doc(pr, func(m *practices.Meta) { m.Origin = cn.url })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			honest := hostilePractice("honest " + tt.name)
			forged := hostilePractice("forged " + tt.name)
			forged.ID = uuid.NewString()
			before := refusedItems(t, b, "evil", tt.reason)
			h.serve(h.doc(honest, nil), tt.forge(forged))
			if err := h.pull(b); err == nil {
				t.Fatal("b applied a page with a forged document")
			}
			if got := refusedItems(t, b, "evil", tt.reason) - before; got != 1 {
				t.Errorf("refused{reason=%s} grew by %v, want 1", tt.reason, got)
			}
			for _, origin := range []*testNode{h.n, cn, b} {
				if origin == b {
					if _, err := b.repo.Get(context.Background(), admin, practices.KindPractice, forged.ID); !errors.Is(err, practices.ErrNotFound) {
						t.Errorf("the forged record reads as b's own: %v", err)
					}
					continue
				}
				for _, id := range []string{honest.ID, forged.ID} {
					if _, err := b.repo.GetMirror(context.Background(), origin.url, practices.KindPractice, id); !errors.Is(err, practices.ErrNotFound) {
						t.Errorf("b stored %s from a refused page under %s: %v", id, origin.id, err)
					}
				}
			}
			// The feed is stuck on the forged document until the peer stops serving it.
			h.mu.Lock()
			h.items = h.items[:len(h.items)-2]
			h.mu.Unlock()
		})
	}
}

// TestHostileEvidenceCountsAuthenticatedDistricts: three tests from one peer claiming three
// districts do not make a practice "replicated"; tests are counted by the peer they came from
// (issue 12, item 1).
func TestHostileEvidenceCountsAuthenticatedDistricts(t *testing.T) {
	c, h := newHostileCluster(t, "b")
	b := c.nodes["b"]
	ctx := context.Background()
	pr := b.publish("Fraction number line talks", practices.VisibilityNetwork)
	for _, district := range []string{"x", "y", "z"} {
		h.serve(h.doc(hostileTest(t, pr.URI), func(m *practices.Meta) { m.OriginID = district }))
		if err := h.pull(b); err == nil {
			t.Fatalf("b took a test claiming district %q", district)
		}
		h.mu.Lock()
		h.items = h.items[:len(h.items)-1]
		h.mu.Unlock()
	}
	var ids []string
	for range 3 {
		test := hostileTest(t, pr.URI)
		h.serve(h.doc(test, func(m *practices.Meta) { m.OriginID = "" }))
		ids = append(ids, test.ID)
	}
	if err := h.pull(b); err != nil {
		t.Fatal(err)
	}
	sum, err := b.repo.Evidence(ctx, admin, pr.URI, 0)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Tests != 3 || sum.Districts != 1 || sum.Level != "tested" {
		t.Errorf("evidence = tests %d, districts %d, level %s; want 3 tests from 1 district, tested", sum.Tests, sum.Districts, sum.Level)
	}
	for _, id := range ids {
		rec, gone, err := b.repo.Load(ctx, h.n.url, practices.KindTest, id)
		if err != nil || gone {
			t.Fatalf("test %s: %v (gone %v)", id, err, gone)
		}
		if m := rec.RecordMeta(); m.OriginID != "evil" || m.Origin != h.n.url {
			t.Errorf("mirrored test attributed to %q at %q, want the configured peer evil", m.OriginID, m.Origin)
		}
	}
}

// TestHostileFeedContent: what else a peer can sign — tombstones for records it does not own,
// unknown kinds, oversized pages, huge field values, deep JSON — changes nothing it should not
// (issue 12, item 4).
func TestHostileFeedContent(t *testing.T) {
	c, h := newHostileCluster(t, "b", "c")
	b, cn := c.nodes["b"], c.nodes["c"]
	ctx := context.Background()
	reset := func() {
		h.mu.Lock()
		h.items = nil
		h.mu.Unlock()
		// Start the next case from the beginning of the (new) feed.
		if err := b.fed.byURL[h.n.url].saveCursor(ctx, ""); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("tombstones for records it does not own", func(t *testing.T) {
		defer reset()
		own := b.publish("b's own", practices.VisibilityNetwork)
		theirs := cn.publish("c's practice", practices.VisibilityNetwork)
		eventually(t, converge, hasVersion(b, cn, theirs.ID, theirs.Version))
		for _, id := range []string{own.ID, theirs.ID} {
			h.serve(h.signDoc(Document{Origin: h.n.url, Kind: practices.KindPractice, ID: id, Version: 99, Deleted: true,
				PublishedAt: time.Now(), Reason: ReasonDeleted}))
		}
		if err := h.pull(b); err != nil {
			t.Fatal(err)
		}
		if _, err := b.repo.Get(ctx, admin, practices.KindPractice, own.ID); err != nil {
			t.Errorf("b's own practice after a peer's tombstone for it: %v", err)
		}
		if _, gone := b.mirrored(cn, theirs.ID); gone {
			t.Errorf("c's practice held by b is gone after another peer's tombstone for it")
		}
	})

	t.Run("unknown kinds are skipped, the rest applied", func(t *testing.T) {
		defer reset()
		pr := hostilePractice("after an unknown kind")
		body, _ := json.Marshal(map[string]any{"id": uuid.NewString(), "title": "x"})
		h.serve(h.signDoc(Document{Origin: h.n.url, Kind: "lesson_study", ID: uuid.NewString(), Version: 1, PublishedAt: time.Now(), Record: body}),
			h.doc(pr, nil))
		before := refusedItems(t, b, "evil", skipUnknownKind)
		if err := h.pull(b); err != nil {
			t.Fatalf("a page with an unknown kind was refused: %v", err)
		}
		if _, gone := b.mirrored(h.n, pr.ID); gone {
			t.Error("the known record after an unknown kind was not applied")
		}
		if got := refusedItems(t, b, "evil", skipUnknownKind) - before; got != 1 {
			t.Errorf("unknown kinds counted %v, want 1", got)
		}
	})

	refusedCases := []struct {
		name   string
		reason string
		items  func() []string
	}{
		{"huge field value", refuseInvalid, func() []string {
			pr := hostilePractice("x")
			pr.Title = strings.Repeat("A", 200_000)
			return []string{h.doc(pr, nil)}
		}},
		{"thousands of key moves", refuseInvalid, func() []string {
			pr := hostilePractice("many moves")
			pr.KeyMoves = make([]string, 20_000)
			for i := range pr.KeyMoves {
				pr.KeyMoves[i] = "move"
			}
			return []string{h.doc(pr, nil)}
		}},
		{"deep JSON", refuseInvalid, func() []string {
			pr := hostilePractice("deep")
			body, _ := json.Marshal(pr)
			deep := `{"nested":` + strings.Repeat("[", 200_000) + strings.Repeat("]", 200_000) + `,` + string(body[1:])
			head, _ := json.Marshal(Document{Origin: h.n.url, Kind: practices.KindPractice, ID: pr.ID, Version: 1, PublishedAt: time.Now()})
			payload := string(head[:len(head)-1]) + `,"record":` + deep + `}`
			return []string{h.sign([]byte(payload))}
		}},
		{"payload that is not JSON", refuseInvalid, func() []string { return []string{h.sign([]byte("\x00\x01 not json"))} }},
		{"oversized document", refuseForm, func() []string {
			pr := hostilePractice("big")
			pr.Description = strings.Repeat("B", maxJWSBytes)
			return []string{h.doc(pr, nil)}
		}},
	}
	for _, tc := range refusedCases {
		t.Run(tc.name, func(t *testing.T) {
			defer reset()
			items := tc.items()
			h.serve(items...)
			before := refusedItems(t, b, "evil", tc.reason)
			err := h.pull(b)
			if err == nil {
				t.Fatal("page applied")
			}
			if tc.reason == refuseForm {
				return // a page with an oversized document is refused as a page (ParsePage), before any item
			}
			if got := refusedItems(t, b, "evil", tc.reason) - before; got != 1 {
				t.Errorf("refused{%s} grew by %v, want 1 (%v)", tc.reason, got, err)
			}
		})
	}

	t.Run("oversized page", func(t *testing.T) {
		defer reset()
		pr := hostilePractice("one of too many")
		doc := h.doc(pr, nil)
		many := make([]string, maxPageItems+1)
		for i := range many {
			many[i] = doc
		}
		h.serve(many...)
		if err := h.pull(b); err == nil || !strings.Contains(err.Error(), "limit") {
			t.Fatalf("a page of %d items: %v", len(many), err)
		}
		if _, gone := b.mirrored(h.n, pr.ID); !gone {
			t.Error("b applied a document from an oversized page")
		}
	})
}

// hostileArtifactPractice has the hostile peer sign a public practice whose materials name ref, and
// has b pull it.
func (h *hostilePeer) publishMaterial(b *testNode, ref practices.ArtifactRef) *practices.Practice {
	h.t.Helper()
	pr := hostilePractice("with a material")
	pr.Materials = []practices.ArtifactRef{ref}
	h.serve(h.doc(pr, nil))
	if err := h.pull(b); err != nil {
		h.t.Fatal(err)
	}
	return pr
}

// TestHostileRecordNamesLocalHash: a peer's public record listing the SHA-256 of a file attached to
// a local draft does not make this node serve its own bytes to anyone; those bytes are served only
// to callers who may see the local record, under the local record's name (issue 12, item 2).
func TestHostileRecordNamesLocalHash(t *testing.T) {
	c, h := newHostileCluster(t, "b")
	b := c.nodes["b"]
	ctx := context.Background()
	const secret = "District-only answer key: 3/4 > 2/3 because 9/12 > 8/12.\n"
	draft, err := b.repo.Create(ctx, admin, fullPractice("draft with a file", practices.VisibilityDistrict))
	if err != nil {
		t.Fatal(err)
	}
	local, err := b.repo.StoreArtifact(ctx, "answer-key.txt", strings.NewReader(secret), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.repo.AttachArtifact(ctx, admin, draft.RecordMeta().ID, local); err != nil {
		t.Fatal(err)
	}
	claimed := local
	claimed.Name = "free-worksheet.txt"
	h.publishMaterial(b, claimed)

	for _, who := range []practices.Principal{practices.Anonymous, teacher} {
		rc, ref, err := b.fed.OpenArtifact(ctx, who, local.SHA256, 0, -1)
		if err == nil {
			body, _ := io.ReadAll(rc)
			rc.Close()
			t.Fatalf("%s got %d bytes under the peer's name %q", who.Subject, len(body), ref.Name)
		}
	}
	if h.artifactHits.Load() == 0 {
		t.Error("b never asked the record's origin for the bytes")
	}
	// The draft's owner still gets the district's file, under the district's name.
	rc, ref, err := b.fed.OpenArtifact(ctx, admin, local.SHA256, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(rc)
	rc.Close()
	if string(body) != secret || ref.Name != "answer-key.txt" {
		t.Errorf("owner got %q as %q", body, ref.Name)
	}
}

// TestHostileArtifactNames: a peer's reference with an active or executable name, or a bidi
// control, is not offered for download whatever the bytes (issue 12, item 8).
func TestHostileArtifactNames(t *testing.T) {
	c, h := newHostileCluster(t, "b")
	b := c.nodes["b"]
	ctx := context.Background()
	for i, name := range []string{"lesson.html", "setup.exe", "notes\u202Etxt.exe", "run.ps1"} {
		body := []byte(fmt.Sprintf("harmless looking text %d\n", i))
		sum := sha256.Sum256(body)
		ref := practices.ArtifactRef{SHA256: hex.EncodeToString(sum[:]), Name: name, MediaType: "text/plain", Size: int64(len(body))}
		h.setArtifact(ref.SHA256, body)
		h.publishMaterial(b, ref)
		if rc, got, err := b.fed.OpenArtifact(ctx, practices.Anonymous, ref.SHA256, 0, -1); err == nil {
			rc.Close()
			t.Errorf("%q offered for download as %q", name, got.Name)
		}
	}
}

// TestHostileConcurrentFirstDownloads: many users opening a mirrored artifact at once cause one
// download from the origin, not one each (issue 12, item 3).
func TestHostileConcurrentFirstDownloads(t *testing.T) {
	c, h := newHostileCluster(t, "b")
	b := c.nodes["b"]
	ctx := context.Background()
	body := []byte(strings.Repeat("a large video, in spirit\n", 4000))
	sum := sha256.Sum256(body)
	ref := practices.ArtifactRef{SHA256: hex.EncodeToString(sum[:]), Name: "clip.txt", MediaType: "text/plain", Size: int64(len(body))}
	h.setArtifact(ref.SHA256, body)
	h.publishMaterial(b, ref)
	release := h.hold()
	defer release()
	const openers = 8
	errs := make(chan error, openers)
	for range openers {
		go func() {
			rc, _, err := b.fed.OpenArtifact(ctx, practices.Anonymous, ref.SHA256, 0, -1)
			if err == nil {
				got, _ := io.ReadAll(rc)
				rc.Close()
				if len(got) != len(body) {
					err = fmt.Errorf("read %d bytes, want %d", len(got), len(body))
				}
			}
			errs <- err
		}()
	}
	// Every opener is either waiting on the one download or has started its own.
	eventually(t, converge, func() error {
		if w, hits := b.fed.fetchWaiters(), h.artifactHits.Load(); w < openers && hits < openers {
			return fmt.Errorf("%d openers waiting, %d downloads started", w, hits)
		}
		return nil
	})
	release()
	for range openers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if hits := h.artifactHits.Load(); hits != 1 {
		t.Errorf("%d downloads from the origin for %d concurrent openers, want 1", hits, openers)
	}
}

// TestHostileArtifactDownloadsPerPeer: downloads of different artifacts from one peer run at most
// artifactFetchesPerPeer at a time; the rest wait their turn and then succeed.
func TestHostileArtifactDownloadsPerPeer(t *testing.T) {
	c, h := newHostileCluster(t, "b")
	b := c.nodes["b"]
	ctx := context.Background()
	const files = artifactFetchesPerPeer + 3
	var refs []practices.ArtifactRef
	for i := range files {
		body := []byte(fmt.Sprintf("file %d\n", i))
		sum := sha256.Sum256(body)
		ref := practices.ArtifactRef{SHA256: hex.EncodeToString(sum[:]), Name: fmt.Sprintf("f%d.txt", i), MediaType: "text/plain", Size: int64(len(body))}
		h.setArtifact(ref.SHA256, body)
		h.publishMaterial(b, ref)
		refs = append(refs, ref)
	}
	release := h.hold()
	defer release()
	errs := make(chan error, files)
	for _, ref := range refs {
		go func() {
			rc, _, err := b.fed.OpenArtifact(ctx, practices.Anonymous, ref.SHA256, 0, -1)
			if err == nil {
				rc.Close()
			}
			errs <- err
		}()
	}
	pb := b.fed.byURL[h.n.url]
	eventually(t, converge, func() error {
		busy, queued := h.inFlight.Load(), pb.fetchQueued.Load()
		if busy+queued < files && busy < files {
			return fmt.Errorf("%d downloading, %d queued", busy, queued)
		}
		return nil
	})
	release()
	for range files {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if m := h.maxInFlight.Load(); m > artifactFetchesPerPeer {
		t.Errorf("%d downloads from one peer at once, limit %d", m, artifactFetchesPerPeer)
	}
}
