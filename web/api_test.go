package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"strings"
	"testing"

	"github.com/brightspots-nic/brightspots/internal/testenv"
	"github.com/brightspots-nic/brightspots/node"
	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
)

// testNode is one node on a real loopback listener with an fs store, and tokens for each role.
type testNode struct {
	logs    *testenv.LogBuffer
	dataDir string
	t       testing.TB
	srv     *node.Node
	url     string
	tokens  map[string]string
}

func newTestNode(t testing.TB, mutate ...func(*node.Config)) *testNode {
	t.Helper()
	cfg := node.Defaults()
	cfg.DataDir = t.TempDir()
	cfg.Node.ID = "riverside"
	cfg.RateLimit.PerSecond, cfg.RateLimit.Burst = 1e6, 1e6 // tests send bursts; the limiter has its own tests
	for _, m := range mutate {
		m(&cfg)
	}
	hs := httptest.NewUnstartedServer(nil)
	cfg.Node.URL = "http://" + hs.Listener.Addr().String()
	cfg.Listen = hs.Listener.Addr().String()
	if err := cfg.Check(); err != nil {
		t.Fatal(err)
	}
	logs := &testenv.LogBuffer{}
	var logw io.Writer = logs
	if testing.Verbose() {
		logw = io.MultiWriter(logs, os.Stderr)
	}
	logger := slog.New(slog.NewJSONHandler(logw, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := node.Open(context.Background(), cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = srv.Handler()
	hs.Start()
	ctx, cancel := context.WithCancel(context.Background())
	wait := srv.Start(ctx)
	t.Cleanup(func() { hs.Close(); cancel(); wait() })
	n := &testNode{t: t, srv: srv, url: hs.URL, tokens: map[string]string{}, logs: logs, dataDir: cfg.DataDir}
	for name, spec := range map[string][2]string{
		"teacher": {"teacher", ""}, "math": {"publisher", "math-4"}, "ela": {"publisher", "ela-3"},
		"coordinator": {"coordinator", ""}, "admin": {"admin", ""},
	} {
		secret, _, err := srv.Tokens().Create(context.Background(), name, spec[0], spec[1])
		if err != nil {
			t.Fatal(err)
		}
		n.tokens[name] = secret
	}
	return n
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not JSON (%d): %s", r.status, r.body)
	}
	return m
}

// do sends a request as `who` (a token name, or "" for anonymous).
func (n *testNode) do(who, method, path string, body io.Reader, header ...string) response {
	n.t.Helper()
	req, err := http.NewRequest(method, n.url+path, body)
	if err != nil {
		n.t.Fatal(err)
	}
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+n.tokens[who])
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, b}
}

func (n *testNode) doJSON(who, method, path string, v any, header ...string) response {
	n.t.Helper()
	var body io.Reader
	switch x := v.(type) {
	case nil:
	case string:
		body = strings.NewReader(x)
	default:
		b, _ := json.Marshal(x)
		body = bytes.NewReader(b)
	}
	return n.do(who, method, path, body, append([]string{"Content-Type", "application/json"}, header...)...)
}

func practiceJSON(title string) map[string]any {
	return map[string]any{
		"title": title, "team": "math-4", "visibility": "network",
		"summary":       "Students place fractions on a number line and justify placement.",
		"description":   "Step 1: draw the line. Step 2: place cards. Step 3: discuss.",
		"key_moves":     []string{"Justify aloud", "Record misconceptions"},
		"subjects":      []string{"math"},
		"grade_levels":  []string{"04"},
		"standards":     []map[string]string{{"code": "CCSS.MATH.CONTENT.4.NF.A.2"}},
		"origin_kind":   "team_designed",
		"time_required": "PT15M",
	}
}

func wantProblem(t *testing.T, r response, status int, field string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	p := r.json(t)
	if p["status"] != float64(status) || p["title"] == "" || p["type"] == "" {
		t.Fatalf("not a problem document: %s", r.body)
	}
	if field == "" {
		return
	}
	errs, _ := p["errors"].([]any)
	for _, e := range errs {
		if e.(map[string]any)["field"] == field {
			return
		}
	}
	t.Fatalf("problem does not name field %q: %s", field, r.body)
}

func TestPracticeLifecycleOverHTTP(t *testing.T) {
	n := newTestNode(t)
	r := n.doJSON("math", "POST", "/api/v1/practices", practiceJSON("Number line talks"))
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	rec := r.json(t)
	id := rec["id"].(string)
	if rec["version"] != float64(1) || rec["status"] != "draft" || rec["uri"] != n.url+"/practices/"+id || r.header.Get("ETag") != `"1"` {
		t.Fatalf("create response: %s (ETag %s)", r.body, r.header.Get("ETag"))
	}
	// Reads of a draft: the team sees it, nobody else learns it exists.
	if r := n.do("math", "GET", "/api/v1/practices/"+id, nil); r.status != 200 {
		t.Fatalf("team read: %d", r.status)
	}
	for _, who := range []string{"teacher", "ela", "coordinator", ""} {
		if r := n.do(who, "GET", "/api/v1/practices/"+id, nil); r.status != 404 {
			t.Errorf("%q read a draft: %d", who, r.status)
		}
	}
	// Update needs If-Match; stale is 412.
	edit := practiceJSON("Number line talks, grade 4")
	wantProblem(t, n.doJSON("math", "PUT", "/api/v1/practices/"+id, edit), http.StatusPreconditionRequired, "If-Match")
	if r := n.doJSON("math", "PUT", "/api/v1/practices/"+id, edit, "If-Match", `"1"`); r.status != 200 || r.header.Get("ETag") != `"2"` {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	wantProblem(t, n.doJSON("math", "PUT", "/api/v1/practices/"+id, edit, "If-Match", `"1"`), http.StatusPreconditionFailed, "")
	// A token for the wrong team cannot see the draft, so cannot change it either.
	if r := n.doJSON("ela", "PUT", "/api/v1/practices/"+id, edit, "If-Match", `"2"`); r.status != 404 {
		t.Fatalf("wrong team update of a draft: %d", r.status)
	}
	if r := n.doJSON("math", "POST", "/api/v1/practices/"+id+"/publish", nil); r.status != 200 || r.json(t)["status"] != "published" {
		t.Fatalf("publish: %d %s", r.status, r.body)
	}
	if r := n.do("teacher", "GET", "/api/v1/practices/"+id, nil); r.status != 200 {
		t.Fatalf("teacher read of published: %d", r.status)
	}
	// Published and visible: the wrong team now gets 403, a teacher too, anonymous 401.
	wantProblem(t, n.doJSON("ela", "PUT", "/api/v1/practices/"+id, edit, "If-Match", `"3"`), http.StatusForbidden, "")
	wantProblem(t, n.doJSON("teacher", "POST", "/api/v1/practices/"+id+"/withdraw", nil), http.StatusForbidden, "")
	wantProblem(t, n.doJSON("", "POST", "/api/v1/practices", practiceJSON("x")), http.StatusUnauthorized, "")
	if r := n.doJSON("math", "POST", "/api/v1/practices/"+id+"/withdraw", nil, "If-Match", `"3"`); r.status != 200 || r.json(t)["status"] != "withdrawn" {
		t.Fatalf("withdraw: %d %s", r.status, r.body)
	}
	if r := n.do("teacher", "GET", "/api/v1/practices/"+id, nil); r.status != 404 {
		t.Fatalf("withdrawn still readable by teachers: %d", r.status)
	}
	// Listing shows the team its records.
	r = n.do("math", "GET", "/api/v1/practices?team=math-4", nil)
	items, _ := r.json(t)["items"].([]any)
	if r.status != 200 || len(items) != 1 {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
}

func TestTestsAndCollectionsOverHTTP(t *testing.T) {
	n := newTestNode(t)
	r := n.doJSON("math", "POST", "/api/v1/tests", map[string]any{
		"team": "math-4", "practice": map[string]any{"uri": n.url + "/practices/0190a0a0-0000-7000-8000-000000000000", "version": 1},
		"cycle": "pdsa", "design": "single_group_pre_post", "question": "Does placing fractions aloud improve comparison?",
	})
	if r.status != 201 {
		t.Fatalf("create test: %d %s", r.status, r.body)
	}
	// Publishing a test without results is refused, naming results.
	id := r.json(t)["id"].(string)
	wantProblem(t, n.doJSON("math", "POST", "/api/v1/tests/"+id+"/publish", nil), http.StatusUnprocessableEntity, "results")

	// Collections: coordinators only.
	col := map[string]any{"title": "Fractions across the network", "aim": "Raise grade 4 fraction proficiency", "visibility": "network"}
	wantProblem(t, n.doJSON("math", "POST", "/api/v1/collections", col), http.StatusForbidden, "")
	if r := n.doJSON("coordinator", "POST", "/api/v1/collections", col); r.status != 201 {
		t.Fatalf("coordinator create collection: %d %s", r.status, r.body)
	}
}

func TestBadInputIsRefusedClearly(t *testing.T) {
	n := newTestNode(t, func(c *node.Config) { c.Limits.MaxJSONBytes = 4096 })
	cases := []struct {
		name   string
		body   string
		ctype  string
		status int
		field  string
	}{
		{"malformed JSON", `{"title": "x",`, "application/json", 400, "body"},
		{"not JSON at all", `title=x`, "application/json", 400, "body"},
		{"empty body", ``, "application/json", 400, "body"},
		{"two values", `{"title":"x","team":"math-4"} {}`, "application/json", 400, "body"},
		{"wrong type", `{"title": 7, "team": "math-4"}`, "application/json", 400, "title"},
		{"wrong list type", `{"title": "x", "team": "math-4", "key_moves": "one"}`, "application/json", 400, "key_moves"},
		{"unknown field", `{"title": "x", "team": "math-4", "colour": "red"}`, "application/json", 400, "colour"},
		{"wrong content type", `{"title": "x", "team": "math-4"}`, "text/plain", 415, "Content-Type"},
		{"over the body limit", `{"title": "` + strings.Repeat("x", 5000) + `", "team": "math-4"}`, "application/json", 413, ""},
		{"validation", `{"title": "", "team": "math-4", "subjects": ["maths"]}`, "application/json", 422, "subjects[0]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := n.do("math", "POST", "/api/v1/practices", strings.NewReader(tc.body), "Content-Type", tc.ctype)
			wantProblem(t, r, tc.status, tc.field)
		})
	}
	// And none of it was stored.
	r := n.do("admin", "GET", "/api/v1/practices", nil)
	if items, _ := r.json(t)["items"].([]any); len(items) != 0 {
		t.Fatalf("refused requests stored %d records", len(items))
	}
	logEntries, err := n.srv.Repo().ReadLog(context.Background(), 0, 10)
	if err != nil || len(logEntries) != 0 {
		t.Fatalf("refused requests wrote %d log entries (%v)", len(logEntries), err)
	}
}

func multipartBody(t *testing.T, filename string, content []byte) (io.Reader, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, filename))
	h.Set("Content-Type", "application/octet-stream")
	part, err := w.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(content)
	w.Close()
	return &buf, w.FormDataContentType()
}

var pdfBytes = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

func TestArtifacts(t *testing.T) {
	n := newTestNode(t, func(c *node.Config) { c.Limits.MaxArtifactBytes = 64 << 10 })
	r := n.doJSON("math", "POST", "/api/v1/practices", practiceJSON("With a lesson plan"))
	id := r.json(t)["id"].(string)
	path := "/api/v1/practices/" + id + "/artifacts"

	body, ctype := multipartBody(t, "lesson plan.pdf", pdfBytes)
	r = n.do("math", "POST", path, body, "Content-Type", ctype)
	if r.status != 201 {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	sum := sha256.Sum256(pdfBytes)
	ref := r.json(t)
	if ref["sha256"] != hex.EncodeToString(sum[:]) || ref["media_type"] != "application/pdf" || ref["size"] != float64(len(pdfBytes)) || ref["name"] != "lesson plan.pdf" {
		t.Fatalf("artifact ref: %s", r.body)
	}
	// The same bytes again (raw body this time) are stored once.
	r = n.do("math", "POST", path+"?name=copy.pdf", bytes.NewReader(pdfBytes), "Content-Type", "application/pdf")
	if r.status != 201 {
		t.Fatalf("raw upload: %d %s", r.status, r.body)
	}
	objs, _ := n.srv.Repo().Bucket().List(context.Background(), storage.ListOptions{Prefix: "artifacts/sha256/"})
	if len(objs) != 1 {
		t.Fatalf("%d artifact objects, want 1", len(objs))
	}
	rec := n.do("math", "GET", "/api/v1/practices/"+id, nil).json(t)
	if mats, _ := rec["materials"].([]any); len(mats) != 1 {
		t.Fatalf("materials: %v", rec["materials"])
	}

	// Download: the team can, with the right headers; a teacher cannot while it is a draft (404).
	dl := "/api/v1/artifacts/" + hex.EncodeToString(sum[:])
	r = n.do("math", "GET", dl, nil)
	if r.status != 200 || !bytes.Equal(r.body, pdfBytes) {
		t.Fatalf("download: %d", r.status)
	}
	if cd := r.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") || !strings.Contains(cd, "lesson plan.pdf") {
		t.Errorf("Content-Disposition %q", cd)
	}
	if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("ETag") != `"`+hex.EncodeToString(sum[:])+`"` {
		t.Errorf("headers: %v", r.header)
	}
	r = n.do("math", "GET", dl, nil, "Range", "bytes=5-9")
	if r.status != 206 || string(r.body) != string(pdfBytes[5:10]) || r.header.Get("Content-Range") != fmt.Sprintf("bytes 5-9/%d", len(pdfBytes)) {
		t.Fatalf("range: %d %q %s", r.status, r.body, r.header.Get("Content-Range"))
	}
	if r := n.do("teacher", "GET", dl, nil); r.status != 404 {
		t.Fatalf("teacher downloaded a draft's artifact: %d", r.status)
	}
	if r := n.do("math", "GET", "/api/v1/artifacts/"+strings.Repeat("0", 64), nil); r.status != 404 {
		t.Fatalf("unknown artifact: %d", r.status)
	}

	bad := []struct {
		name    string
		file    string
		content []byte
		status  int
	}{
		{"zero bytes", "empty.pdf", nil, 422},
		{"disallowed type", "page.html", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"), 415},
		{"svg", "x.svg", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), 415},
		{"executable", "run.exe", append([]byte("MZ\x90\x00"), bytes.Repeat([]byte{0}, 100)...), 415},
		{"over the limit", "big.pdf", append(append([]byte{}, pdfBytes...), bytes.Repeat([]byte("x"), 70<<10)...), 413},
		{"path separator", "../../etc/passwd.pdf", pdfBytes, 422},
		{"backslash", `..\evil.pdf`, pdfBytes, 422},
		{"control character", "evil\x07.pdf", pdfBytes, 422},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			body, ctype := multipartBody(t, tc.file, tc.content)
			wantProblem(t, n.do("math", "POST", path, body, "Content-Type", ctype), tc.status, "")
		})
	}
	objs, _ = n.srv.Repo().Bucket().List(context.Background(), storage.ListOptions{Prefix: "artifacts/"})
	for _, o := range objs {
		if strings.HasPrefix(o.Key, "artifacts/tmp/") {
			t.Errorf("temporary upload left behind: %s", o.Key)
		}
		if strings.HasPrefix(o.Key, "artifacts/sha256/") && o.Key != "artifacts/sha256/"+hex.EncodeToString(sum[:]) {
			t.Errorf("refused upload stored: %s", o.Key)
		}
	}
	// Wrong team cannot upload.
	body, ctype = multipartBody(t, "x.pdf", pdfBytes)
	if r := n.do("ela", "POST", path, body, "Content-Type", ctype); r.status != 404 {
		t.Fatalf("other team upload to a draft: %d", r.status)
	}
}

func TestOperationalEndpoints(t *testing.T) {
	n := newTestNode(t)
	for _, p := range []string{"/healthz", "/readyz"} {
		if r := n.do("", "GET", p, nil); r.status != 200 {
			t.Errorf("%s: %d", p, r.status)
		}
	}
	n.do("", "GET", "/api/v1/practices/nope", nil)
	r := n.do("", "GET", "/metrics", nil)
	if r.status != 200 || !bytes.Contains(r.body, []byte(`brightspots_http_requests_total{code="404"`)) {
		t.Fatalf("metrics: %d %s", r.status, r.body[:min(len(r.body), 300)])
	}
	if r := n.do("", "GET", "/api/v1/me", nil); r.status != 401 || r.header.Get("WWW-Authenticate") == "" {
		t.Fatalf("anonymous /me: %d", r.status)
	}
	r = n.do("math", "GET", "/api/v1/me", nil)
	me := r.json(t)
	if r.status != 200 || me["teams"].([]any)[0] != "math-4" {
		t.Fatalf("/me: %s", r.body)
	}
	req, _ := http.NewRequest("GET", n.url+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer bsk_not-a-real-token")
	res, _ := http.DefaultClient.Do(req)
	if res.StatusCode != 401 {
		t.Fatalf("bad token: %d", res.StatusCode)
	}
	res.Body.Close()
}

func TestRevokedTokenStopsWorking(t *testing.T) {
	n := newTestNode(t)
	if _, err := n.srv.Tokens().Revoke(context.Background(), "math"); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, n.do("math", "GET", "/api/v1/me", nil), 401, "")
}

var _ = practices.KindPractice

func TestArtifactWithDeclaredDigest(t *testing.T) {
	n := newTestNode(t)
	id := n.doJSON("math", "POST", "/api/v1/practices", practiceJSON("Digest")).json(t)["id"].(string)
	path := "/api/v1/practices/" + id + "/artifacts?name=plan.pdf"
	sum := sha256.Sum256(pdfBytes)
	good := "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
	if r := n.do("math", "POST", path, bytes.NewReader(pdfBytes), "Content-Type", "application/pdf", "Content-Digest", good); r.status != 201 || r.json(t)["sha256"] != hex.EncodeToString(sum[:]) {
		t.Fatalf("declared digest upload: %d %s", r.status, r.body)
	}
	// A body that does not match its declared digest stores nothing, whether or not the digest's
	// artifact exists — knowing a hash is not enough to attach a file.
	other := append(append([]byte{}, pdfBytes...), []byte("tampered")...)
	otherSum := sha256.Sum256(other)
	for _, declared := range [][32]byte{sum, otherSum} {
		body := append(append([]byte{}, pdfBytes[:len(pdfBytes)-3]...), 'X', 'Y', 'Z')
		hdr := "sha-256=:" + base64.StdEncoding.EncodeToString(declared[:]) + ":"
		wantProblem(t, n.do("math", "POST", path, bytes.NewReader(body), "Content-Type", "application/pdf", "Content-Digest", hdr), 422, "Content-Digest")
	}
	objs, _ := n.srv.Repo().Bucket().List(context.Background(), storage.ListOptions{Prefix: "artifacts/sha256/"})
	if len(objs) != 1 {
		t.Fatalf("%d artifacts stored, want only the verified one", len(objs))
	}
	wantProblem(t, n.do("math", "POST", path, bytes.NewReader(pdfBytes), "Content-Type", "application/pdf", "Content-Digest", "sha-256=:bm90IGEgZGlnZXN0:"), 400, "Content-Digest")
}

// TestATestWaitsForItsPractice: a test of a draft practice cannot be published (422 naming
// "practice"); once the practice is published the same request gets past that rule.
func TestATestWaitsForItsPractice(t *testing.T) {
	n := newTestNode(t)
	r := n.doJSON("math", "POST", "/api/v1/practices", practiceJSON("Number line talks"))
	if r.status != 201 {
		t.Fatalf("create practice: %d %s", r.status, r.body)
	}
	pid, puri := r.json(t)["id"].(string), r.json(t)["uri"].(string)
	r = n.doJSON("math", "POST", "/api/v1/tests", map[string]any{
		"team": "math-4", "practice": map[string]any{"uri": puri, "version": 1},
		"cycle": "pdsa", "design": "single_group_pre_post", "question": "Does placing fractions aloud improve comparison?",
	})
	if r.status != 201 {
		t.Fatalf("create test: %d %s", r.status, r.body)
	}
	tid := r.json(t)["id"].(string)
	wantProblem(t, n.doJSON("math", "POST", "/api/v1/tests/"+tid+"/publish", nil), http.StatusUnprocessableEntity, "practice")
	if r := n.doJSON("math", "POST", "/api/v1/practices/"+pid+"/publish", nil); r.status != 200 {
		t.Fatalf("publish practice: %d %s", r.status, r.body)
	}
	// The practice rule no longer applies; what is left is the test's own (no results yet).
	wantProblem(t, n.doJSON("math", "POST", "/api/v1/tests/"+tid+"/publish", nil), http.StatusUnprocessableEntity, "results")
}
