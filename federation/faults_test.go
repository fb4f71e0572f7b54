package federation

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
)

// onChanges returns a wrapper that hands GET /federation/v1/changes to f and everything else through.
func onChanges(f func(next http.Handler, w http.ResponseWriter, r *http.Request)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/federation/v1/changes" {
				f(next, w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// rewritePage serves the real page after passing its body through edit.
func rewritePage(next http.Handler, w http.ResponseWriter, r *http.Request, edit func([]byte) []byte) {
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rec.Code)
	_, _ = w.Write(edit(rec.Body.Bytes()))
}

func syncErrors(t testing.TB, n *testNode, peer string) float64 {
	t.Helper()
	var m dto.Metric
	if err := n.fed.metrics.syncErrors.WithLabelValues(peer).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// logEntriesFrom counts n's change-log entries for records from origin.
func logEntriesFrom(t testing.TB, n *testNode, origin string) map[string]int {
	t.Helper()
	out := map[string]int{}
	after := uint64(0)
	for {
		es, err := n.repo.ReadLog(context.Background(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if e.Origin == origin {
				out[e.ID]++
			}
			after = e.Seq
		}
		if len(es) < 1000 {
			return out
		}
	}
}

// TestFaultyPeer: a peer answering 500s, hanging past the client timeout, sending a truncated page
// and a 429 is backed off and retried; in the end B holds everything once: nothing lost, nothing
// applied twice.
func TestFaultyPeer(t *testing.T) {
	c := &cluster{tune: func(id string, f *Member) { f.pageLimit = 7 }}
	c = c.with(t, map[string]storage.Bucket{"a": fsBucket(t), "b": fsBucket(t)})
	a, b := c.nodes["a"], c.nodes["b"]

	var calls atomic.Int64
	faults := []string{"500", "500", "hang", "truncate", "429", "ok", "truncate", "500", "ok", "hang", "ok", "truncate"}
	a.setWrap(onChanges(func(next http.Handler, w http.ResponseWriter, r *http.Request) {
		i := int(calls.Add(1)) - 1
		mode := "ok"
		if i < len(faults) {
			mode = faults[i]
		}
		switch mode {
		case "500":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "429":
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		case "hang":
			select {
			case <-r.Context().Done():
			case <-time.After(20 * time.Second):
			}
		case "truncate":
			rewritePage(next, w, r, func(b []byte) []byte { return b[:len(b)/2] })
		default:
			next.ServeHTTP(w, r)
		}
	}))
	var ids []string
	for i := range 40 {
		ids = append(ids, a.publish(fmt.Sprintf("practice %02d", i), practices.VisibilityNetwork).ID)
	}
	for _, id := range ids {
		eventually(t, 60*time.Second, hasVersion(b, a, id, 2))
	}
	if n := calls.Load(); n <= int64(len(faults)) {
		t.Fatalf("only %d feed requests: the faults were not all exercised", n)
	}
	if got := syncErrors(t, b, "a"); got < 8 {
		t.Errorf("sync errors counted = %v, want at least the 8 faults injected", got)
	}
	for id, n := range logEntriesFrom(t, b, a.url) {
		if n != 1 {
			t.Errorf("%s applied %d times", id, n)
		}
	}
	if got := len(logEntriesFrom(t, b, a.url)); got != len(ids) {
		t.Errorf("b logged %d of a's records, want %d", got, len(ids))
	}
}

// TestRetryAfterHonoured: a 429 with Retry-After makes the loop wait at least that long.
func TestRetryAfterHonoured(t *testing.T) {
	c := newCluster(t, map[string]storage.Bucket{"a": fsBucket(t), "b": fsBucket(t)}, nil)
	a, b := c.nodes["a"], c.nodes["b"]
	a.setWrap(onChanges(func(next http.Handler, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	a.publish("p", practices.VisibilityNetwork)
	eventually(t, converge, func() error {
		h := b.health("a")
		if h.Backoff < 120*time.Second || !strings.Contains(h.LastError, "503") {
			return fmt.Errorf("health = %+v", h)
		}
		return nil
	})
}

// TestPageAppliedTwice: applying the same page again changes nothing: no log entry, same bytes.
func TestPageAppliedTwice(t *testing.T) {
	c := newCluster(t, map[string]storage.Bucket{"a": fsBucket(t), "b": fsBucket(t)}, nil)
	a, b := c.nodes["a"], c.nodes["b"]
	ctx := context.Background()
	p1 := a.publish("one", practices.VisibilityNetwork)
	p2 := a.publish("two", practices.VisibilityNetwork)
	a.withdraw(p2.ID)
	eventually(t, converge, hasVersion(b, a, p1.ID, 2))
	eventually(t, converge, isTombstoned(b, a, p2.ID))

	pa := b.fed.byURL[a.url]
	page, err := pa.fetchPage(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 2 {
		t.Fatalf("page has %d items, want 2", len(page.Items))
	}
	end := b.repo.LogEnd()
	held, _ := b.repo.GetMirror(ctx, a.url, practices.KindPractice, p1.ID)
	for range 2 {
		n, err := pa.applyPage(ctx, page)
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("re-applying the page applied %d documents", n)
		}
	}
	if got := b.repo.LogEnd(); got != end {
		t.Errorf("log grew from %d to %d", end, got)
	}
	again, _ := b.repo.GetMirror(ctx, a.url, practices.KindPractice, p1.ID)
	if !bytes.Equal(held, again) {
		t.Errorf("held document changed")
	}
	if _, gone := b.mirrored(a, p2.ID); !gone {
		t.Errorf("tombstoned record came back")
	}
}

// forgePage replaces the items of a page with the given documents.
func forgePage(docs ...string) func([]byte) []byte {
	return func(body []byte) []byte {
		var p Page
		_ = json.Unmarshal(body, &p)
		p.Items = nil
		for i, d := range docs {
			p.Items = append(p.Items, PageItem{Cursor: fmt.Sprint(i), JWS: d})
		}
		out, _ := json.Marshal(p)
		return out
	}
}

// signDoc signs a document payload with n's key.
func signDoc(t testing.TB, n *testNode, d Document) string {
	t.Helper()
	payload, _ := json.Marshal(d)
	jws, err := n.fed.keys.sign(recordType, payload)
	if err != nil {
		t.Fatal(err)
	}
	return jws
}

// TestFeedAttacks: a page with one bad document is refused whole (the good documents in it are not
// applied) and the cursor stays; once the peer serves honest pages again, sync resumes.
func TestFeedAttacks(t *testing.T) {
	tests := []struct {
		name  string
		forge func(t *testing.T, a, cn *testNode, good string, rec *practices.Practice) string
	}{
		{"signed by a different node", func(t *testing.T, a, cn *testNode, good string, rec *practices.Practice) string {
			own := cn.publish("c's own", practices.VisibilityNetwork)
			jws, err := cn.fed.signRecord(own)
			if err != nil {
				t.Fatal(err)
			}
			return jws
		}},
		{"a different node's key claiming the peer's origin", func(t *testing.T, a, cn *testNode, good string, rec *practices.Practice) string {
			var d Document
			_ = json.Unmarshal(decodePayload(t, good), &d)
			return signDoc(t, cn, d)
		}},
		{"tampered payload", func(t *testing.T, a, cn *testNode, good string, rec *practices.Practice) string {
			parts := strings.Split(good, ".")
			payload := bytes.Replace(decodePayload(t, good), []byte(rec.Title), []byte("Something else entirely"), 1)
			return parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]
		}},
		{"tampered signature", func(t *testing.T, a, cn *testNode, good string, rec *practices.Practice) string {
			parts := strings.Split(good, ".")
			sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
			sig[0] ^= 1
			return parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
		}},
		{"id of the record differs", func(t *testing.T, a, cn *testNode, good string, rec *practices.Practice) string {
			var d Document
			_ = json.Unmarshal(decodePayload(t, good), &d)
			d.ID = "0190f5f5-0000-7000-8000-000000000001"
			return signDoc(t, a, d)
		}},
		{"record origin is another node", func(t *testing.T, a, cn *testNode, good string, rec *practices.Practice) string {
			cp := *rec
			cp.Origin = cn.url
			body, _ := json.Marshal(&cp)
			return signDoc(t, a, Document{Origin: a.url, Kind: practices.KindPractice, ID: rec.ID, Version: rec.Version, PublishedAt: *rec.PublishedAt, Record: body})
		}},
		{"draft record", func(t *testing.T, a, cn *testNode, good string, rec *practices.Practice) string {
			cp := *rec
			cp.Status = practices.StatusDraft
			body, _ := json.Marshal(&cp)
			return signDoc(t, a, Document{Origin: a.url, Kind: practices.KindPractice, ID: rec.ID, Version: rec.Version, PublishedAt: *rec.PublishedAt, Record: body})
		}},
		{"tombstone without a reason", func(t *testing.T, a, cn *testNode, good string, rec *practices.Practice) string {
			return signDoc(t, a, Document{Origin: a.url, Kind: practices.KindPractice, ID: rec.ID, Version: rec.Version + 1, Deleted: true, PublishedAt: time.Now()})
		}},
		{"wrong typ", func(t *testing.T, a, cn *testNode, good string, rec *practices.Practice) string {
			jws, err := a.fed.keys.sign(nodeTokenType, decodePayload(t, good))
			if err != nil {
				t.Fatal(err)
			}
			return jws
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCluster(t, map[string]storage.Bucket{"a": fsBucket(t), "b": fsBucket(t), "c": fsBucket(t)}, nil)
			a, b, cn := c.nodes["a"], c.nodes["b"], c.nodes["c"]
			// Let b finish its first pull of a before the forging wrapper goes in: a pull that entered
			// a's handler unwrapped could otherwise read the feed after the publish below and carry the
			// honest record, which b would rightly apply.
			eventually(t, converge, func() error {
				for _, h := range b.fed.Health() {
					if h.ID == "a" && !h.LastSuccess.IsZero() {
						return nil
					}
				}
				return errors.New("b has not finished its first pull of a")
			})
			var active atomic.Bool
			active.Store(true)
			var forged atomic.Pointer[string]
			a.setWrap(onChanges(func(next http.Handler, w http.ResponseWriter, r *http.Request) {
				if !active.Load() {
					next.ServeHTTP(w, r)
					return
				}
				f := forged.Load()
				if f == nil {
					// Not ready: hold the feed without counting as a refused document.
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				// The honest first document, then the forged one.
				rewritePage(next, w, r, func(body []byte) []byte {
					var p Page
					_ = json.Unmarshal(body, &p)
					docs := []string{}
					for _, it := range p.Items {
						docs = append(docs, it.JWS)
					}
					return forgePage(append(docs, *f)...)(body)
				})
			}))
			rec := a.publish("honest practice", practices.VisibilityNetwork)
			good, err := a.fed.signRecord(rec)
			if err != nil {
				t.Fatal(err)
			}
			f := tt.forge(t, a, cn, good, rec)
			forged.Store(&f)
			eventually(t, converge, func() error {
				var m dto.Metric
				_ = b.fed.metrics.rejectedDocs.WithLabelValues("a").Write(&m)
				if m.GetCounter().GetValue() < 2 {
					return errors.New("b has not refused the page twice yet")
				}
				return nil
			})
			if _, gone := b.mirrored(a, rec.ID); !gone {
				t.Fatalf("b applied a document from a page it refused")
			}
			if _, err := b.repo.GetMirror(context.Background(), a.url, practices.KindPractice, rec.ID); !errors.Is(err, practices.ErrNotFound) {
				t.Fatalf("b stored something from a refused page: %v", err)
			}
			if n := len(logEntriesFrom(t, b, a.url)); n != 0 {
				t.Fatalf("b logged %d entries from a refused page", n)
			}
			if h := b.health("a"); h.LastError == "" || h.LagRecords != 2 {
				t.Errorf("health after refusal = %+v", h)
			}
			// The same peer, honest again: the page goes through from the saved cursor.
			active.Store(false)
			a.publish("poke", practices.VisibilityNetwork) // notify b
			eventually(t, converge, hasVersion(b, a, rec.ID, 2))
		})
	}
}
