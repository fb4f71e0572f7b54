package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/storage/fs"
	"github.com/brightspots-nic/brightspots/storage/s3"
	"github.com/brightspots-nic/brightspots/storage/s3/miniotest"
)

// nodeConfig writes a configuration file for node riverside at url, listening on listen, with its
// store in dir (s3 == nil) or in a MinIO bucket.
func nodeConfig(t *testing.T, dir, id, url, listen string, s3c *s3.Config) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "node: {id: %s, url: %q}\nlisten: %q\ndata_dir: %q\n", id, url, listen, filepath.Join(dir, "data"))
	b.WriteString("log: {level: warn}\nrate_limit: {per_second: 100000, burst: 100000}\n")
	if s3c != nil {
		fmt.Fprintf(&b, "storage:\n  kind: s3\n  s3: {endpoint: %q, bucket: %q, access_key: %q, secret_key: %q}\n",
			s3c.Endpoint, s3c.Bucket, s3c.AccessKey, s3c.SecretKey)
	}
	path := filepath.Join(dir, "brightspots.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// serveConfig starts `brightspots serve --config cfg` and waits until it answers /readyz.
func serveConfig(t *testing.T, bin, cfg, addr string) *proc {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--config", cfg)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, stderr) }()
	p := &proc{cmd: cmd, addr: addr}
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get("http://" + addr + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return p
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("server did not become ready")
	return nil
}

func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("server exit: %v", err)
	}
}

// call sends a JSON request with a bearer token and returns the status, headers and body.
func call(t *testing.T, method, url, token string, body any, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "text/csv"
	default:
		data, _ := json.Marshal(b)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if rd != nil {
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, out
}

func mustCall(t *testing.T, want int, method, url, token string, body any, hdr ...string) (http.Header, map[string]any) {
	t.Helper()
	status, h, out := call(t, method, url, token, body, hdr...)
	if status != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, url, status, want, out)
	}
	var m map[string]any
	json.Unmarshal(out, &m)
	return h, m
}

func practiceBody(title, visibility string) map[string]any {
	return map[string]any{
		"title": title, "team": "math-4", "visibility": visibility,
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

func uploadFile(t *testing.T, base, token, id, name string, blob []byte) string {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, _ := w.CreateFormFile("file", name)
	fw.Write(blob)
	w.Close()
	req, _ := http.NewRequest("POST", base+"/api/v1/practices/"+id+"/artifacts", &buf)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", w.FormDataContentType())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var ref map[string]any
	if res.StatusCode != 201 || json.NewDecoder(res.Body).Decode(&ref) != nil {
		t.Fatalf("upload %s: %d", name, res.StatusCode)
	}
	return ref["sha256"].(string)
}

func pdf(n int) []byte {
	b := make([]byte, n)
	copy(b, "%PDF-1.4\n")
	rand.Read(b[16:])
	return b
}

// seedDistrict fills a node with what a district has: published practices with artifacts (one file
// shared by two practices, one practice edited after publishing), a draft, a withdrawn and a deleted
// practice, a published test with results, and a collection. It returns how many records search shows.
func seedDistrict(t *testing.T, base, pub, coord string) int {
	t.Helper()
	shared := pdf(300 << 10)
	var uris []string
	for i, title := range []string{"Fraction number line talks", "Estimation warm-ups", "Peer explanation pairs"} {
		_, rec := mustCall(t, 201, "POST", base+"/api/v1/practices", pub, practiceBody(title, "network"))
		id := rec["id"].(string)
		uris = append(uris, rec["uri"].(string))
		uploadFile(t, base, pub, id, "plan.pdf", shared)
		uploadFile(t, base, pub, id, fmt.Sprintf("slides-%d.pdf", i), pdf(64<<10+i))
		mustCall(t, 200, "POST", base+"/api/v1/practices/"+id+"/publish", pub, nil)
		if i == 0 { // edited after publishing: more versions
			h, cur := mustCall(t, 200, "GET", base+"/api/v1/practices/"+id, pub, nil)
			cur["summary"] = "Revised: students place fractions and justify aloud."
			mustCall(t, 200, "PUT", base+"/api/v1/practices/"+id, pub, cur, "If-Match", h.Get("ETag"))
		}
	}
	mustCall(t, 201, "POST", base+"/api/v1/practices", pub, practiceBody("Draft practice never published", "network"))
	_, w := mustCall(t, 201, "POST", base+"/api/v1/practices", pub, practiceBody("Withdrawn choral counting", "district"))
	mustCall(t, 200, "POST", base+"/api/v1/practices/"+w["id"].(string)+"/publish", pub, nil)
	mustCall(t, 200, "POST", base+"/api/v1/practices/"+w["id"].(string)+"/withdraw", pub, nil)
	_, d := mustCall(t, 201, "POST", base+"/api/v1/practices", pub, practiceBody("Deleted gallery walk", "public"))
	mustCall(t, 200, "POST", base+"/api/v1/practices/"+d["id"].(string)+"/publish", pub, nil)
	mustCall(t, 204, "DELETE", base+"/api/v1/practices/"+d["id"].(string), pub, nil)

	_, tst := mustCall(t, 201, "POST", base+"/api/v1/tests", pub, map[string]any{
		"team": "math-4", "visibility": "network", "title": "Number line, spring cycle",
		"practice": map[string]any{"uri": uris[0], "version": 1},
		"cycle":    "pdsa", "design": "single_group_pre_post",
		"question":   "Do number line talks raise fraction comparison scores?",
		"prediction": map[string]any{"text": "Effect of at least 0.3", "metric": "effect_size", "operator": ">=", "value": 0.3},
		"assessment": map[string]any{"name": "Unit 5 fractions", "score_min": 0, "score_max": 100, "proficiency_cut": 65, "form": "parallel"},
		"cohort":     map[string]any{"grade_levels": []string{"04"}, "subjects": []string{"math"}, "classrooms": 2, "students_planned": 24},
		"start_date": "2026-02-01", "end_date": "2026-03-15",
		"dosage": map[string]any{"sessions_planned": 12, "sessions_delivered": 11, "minutes_per_session": 15},
	})
	testID := tst["id"].(string)
	pre := []string{"55", "62", "48", "70", "66", "58", "73", "51", "64", "60", "68", "57"}
	post := []string{"61", "72", "50", "74", "75", "60", "79", "60", "66", "70", "70", "66"}
	csv := "pre,post\n"
	for i := range pre {
		csv += pre[i] + "," + post[i] + "\n"
	}
	h, res := mustCall(t, 200, "POST", base+"/api/v1/tests/"+testID+"/results", pub, csv)
	rec := res["test"].(map[string]any)
	rec["learnings"], rec["decision"] = "Worked for most students.", "adopt"
	mustCall(t, 200, "PUT", base+"/api/v1/tests/"+testID, pub, rec, "If-Match", h.Get("ETag"))
	mustCall(t, 200, "POST", base+"/api/v1/tests/"+testID+"/publish", pub, nil)

	_, col := mustCall(t, 201, "POST", base+"/api/v1/collections", coord, map[string]any{
		"title": "Fractions sense-making", "visibility": "network", "description": "Practices that build fraction sense.",
		"items": []map[string]any{{"practice_uri": uris[0]}, {"practice_uri": uris[1]}},
	})
	mustCall(t, 200, "POST", base+"/api/v1/collections/"+col["id"].(string)+"/publish", coord, nil)
	return 4 // three practices and the collection
}

// searchQueries cover relevance, filters, facets and sorting.
var searchQueries = []string{
	"q=fraction", "q=number+line", "q=estimation", "q=justify", "sort=newest", "subject=math&sort=newest",
	"evidence=tested", "q=choral", "q=gallery", "q=draft", "kind=collection",
}

// searchSnapshot runs every query and keeps what must be the same on any node with the same data.
func searchSnapshot(t *testing.T, base, token string) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, q := range searchQueries {
		status, _, body := call(t, "GET", base+"/api/v1/search?"+q, token, nil)
		if status != 200 {
			t.Fatalf("search %s: %d %s", q, status, body)
		}
		var res map[string]any
		json.Unmarshal(body, &res)
		delete(res, "took_ms")
		if hits, ok := res["hits"].([]any); ok {
			for _, h := range hits {
				delete(h.(map[string]any), "score") // relevance scores depend on index segment history
			}
		}
		out[q] = res
	}
	return out
}

// storeObjects reads every object under the district-data prefixes of b, by key.
func storeObjects(t *testing.T, b storage.Bucket, prefixes ...string) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	out := map[string][]byte{}
	for _, p := range prefixes {
		start := ""
		for {
			objs, err := b.List(ctx, storage.ListOptions{Prefix: p, StartAfter: start, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range objs {
				start = o.Key
				rc, _, err := b.Get(ctx, o.Key)
				if err != nil {
					t.Fatal(err)
				}
				data, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					t.Fatal(err)
				}
				out[o.Key] = data
			}
			if len(objs) < 1000 {
				break
			}
		}
	}
	return out
}

func countObjects(t *testing.T, b storage.Bucket) int {
	t.Helper()
	objs, err := b.List(context.Background(), storage.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return len(objs)
}

// TestExportImportAcrossBackends: a district on a local directory exports its data; a fresh node on
// MinIO with the same identity imports it and has every record version, head, results document and
// artifact byte for byte, and answers every search the same. Tampered archives are refused and leave
// their target empty.
func TestExportImportAcrossBackends(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary, and MinIO")
	}
	bin := buildBinary(t)
	mio := miniotest.Start(t)
	addr := freeAddr(t)
	url := "http://" + addr
	srcDir := t.TempDir()
	srcCfg := nodeConfig(t, srcDir, "riverside", url, addr, nil)
	pub := runCLI(t, bin, "token", "create", "--config", srcCfg, "--name", "pub", "--role", "publisher", "--team", "math-4", "--new-team")
	coord := runCLI(t, bin, "token", "create", "--config", srcCfg, "--name", "coord", "--role", "coordinator")
	teacher := runCLI(t, bin, "token", "create", "--config", srcCfg, "--name", "teacher", "--role", "teacher")

	p := serveConfig(t, bin, srcCfg, addr)
	want := seedDistrict(t, url, pub, coord)
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, _, body := call(t, "GET", url+"/api/v1/search?sort=newest", teacher, nil)
		var res struct{ Total int }
		json.Unmarshal(body, &res)
		if res.Total == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("source index shows %d records, want %d: %s", res.Total, want, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	before := searchSnapshot(t, url, teacher)
	p.stop(t)

	archive := filepath.Join(t.TempDir(), "riverside.tar")
	out := runCLI(t, bin, "export", "--config", srcCfg, "--out", archive)
	if !strings.Contains(out, "exported node riverside") || !strings.Contains(out, "signed with key") {
		t.Fatalf("export printed %q", out)
	}
	kid := out[strings.LastIndex(out, "--kid ")+len("--kid "):]
	if _, err := os.Stat(archive + ".partial"); !os.IsNotExist(err) {
		t.Fatalf("export left its partial file behind: %v", err)
	}

	dataPrefixes := []string{"records/", "artifacts/sha256/", "node/results/", "node/audit/"}
	srcStore, err := fs.Open(filepath.Join(srcDir, "data", "store"))
	if err != nil {
		t.Fatal(err)
	}
	srcObjs := storeObjects(t, srcStore, dataPrefixes...)
	counts := map[string]int{}
	for k := range srcObjs {
		switch {
		case strings.HasSuffix(k, "/head.json"):
			counts["head"]++
		case strings.HasPrefix(k, "records/"):
			counts["version"]++
		case strings.HasPrefix(k, "artifacts/"):
			counts["artifact"]++
		default:
			counts["results"]++
		}
	}
	// 6 practices, 1 test, 1 collection; 4 artifacts (one shared); results and their audit entry.
	if counts["head"] != 8 || counts["version"] < 20 || counts["artifact"] != 4 || counts["results"] < 2 {
		t.Fatalf("the seeded store is not what the test needs: %v", counts)
	}

	newTarget := func(t *testing.T, id string) (string, *s3.Bucket) {
		t.Helper()
		c := mio.Config(mio.NewBucketName())
		cfg := nodeConfig(t, t.TempDir(), id, url, addr, &c)
		b, err := s3.Open(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		return cfg, b
	}
	importCmd := func(cfg, in string, extra ...string) (string, error) {
		out, err := exec.Command(bin, append([]string{"import", "--config", cfg, "--in", in}, extra...)...).CombinedOutput()
		return string(out), err
	}

	t.Run("import reproduces everything", func(t *testing.T) {
		dstCfg, dst := newTarget(t, "riverside")
		out, err := importCmd(dstCfg, archive, "--kid", kid)
		if err != nil {
			t.Fatalf("import: %v\n%s", err, out)
		}
		dstObjs := storeObjects(t, dst, dataPrefixes...)
		for k, v := range srcObjs {
			got, ok := dstObjs[k]
			switch {
			case !ok:
				t.Errorf("%s is missing after import", k)
			case !bytes.Equal(got, v):
				t.Errorf("%s differs after import (%d bytes, source %d)", k, len(got), len(v))
			}
		}
		for k := range dstObjs {
			if _, ok := srcObjs[k]; !ok {
				t.Errorf("%s appeared after import but is not in the source", k)
			}
		}
		// The log names every version once, gap-free, with this node as origin.
		logObjs := storeObjects(t, dst, "log/")
		if len(logObjs) != counts["version"] {
			t.Errorf("the imported log has %d entries, want one per version (%d)", len(logObjs), counts["version"])
		}
		for i := 1; i <= len(logObjs); i++ {
			var e practices.LogEntry
			if err := json.Unmarshal(logObjs[fmt.Sprintf("log/%020d.json", i)], &e); err != nil || e.Seq != uint64(i) || e.Origin != url {
				t.Errorf("log entry %d: %+v %v", i, e, err)
			}
		}

		p := serveConfig(t, bin, dstCfg, addr)
		defer p.stop(t)
		teacher2 := runCLI(t, bin, "token", "create", "--config", dstCfg, "--name", "teacher", "--role", "teacher")
		var after map[string]any
		deadline := time.Now().Add(30 * time.Second)
		for {
			after = searchSnapshot(t, url, teacher2)
			if reflect.DeepEqual(before, after) || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if !reflect.DeepEqual(before, after) {
			b1, _ := json.MarshalIndent(before, "", " ")
			b2, _ := json.MarshalIndent(after, "", " ")
			t.Fatalf("search results differ after import:\nbefore %s\nafter %s", b1, b2)
		}
		if hits := before["q=fraction"].(map[string]any)["total"]; hits == float64(0) {
			t.Fatal("the search comparison compares nothing")
		}
		// An artifact downloads with the same bytes through the API.
		for k, v := range srcObjs {
			if sum, ok := strings.CutPrefix(k, "artifacts/sha256/"); ok {
				status, _, body := call(t, "GET", url+"/api/v1/artifacts/"+sum, teacher2, nil)
				if status != 200 || !bytes.Equal(body, v) {
					t.Errorf("download %s after import: %d, %d bytes", sum, status, len(body))
				}
			}
		}

		t.Run("a non-empty target is refused", func(t *testing.T) {
			out, err := importCmd(dstCfg, archive)
			if err == nil || !strings.Contains(out, "not empty") {
				t.Fatalf("import into a used node: %v\n%s", err, out)
			}
		})
	})

	// firstEntry changes the first entry whose name has prefix.
	firstEntry := func(prefix string, f func([]byte) []byte) func([]string, map[string][]byte) {
		return func(names []string, bodies map[string][]byte) {
			for _, n := range names {
				if strings.HasPrefix(n, prefix) {
					bodies[n] = f(bodies[n])
					return
				}
			}
			t.Fatalf("no entry %s… in the archive", prefix)
		}
	}
	for _, tc := range []struct {
		name, want string
		change     func(names []string, bodies map[string][]byte)
		id         string
		extra      []string
	}{
		{"record byte flipped", "does not match the manifest", firstEntry("records/practice/", flip), "riverside", nil},
		{"test byte flipped", "does not match the manifest", firstEntry("records/test/", flip), "riverside", nil},
		{"artifact byte flipped", "does not match the manifest", firstEntry("artifacts/", flip), "riverside", nil},
		{"manifest byte flipped", "signature over manifest.json does not verify", firstEntry("manifest.json", flip), "riverside", nil},
		{"signature byte flipped", "signature over manifest.json does not verify", firstEntry("manifest.jws", func(b []byte) []byte {
			b = bytes.Clone(b)
			i := bytes.LastIndexByte(b, '.') + 10 // inside the signature, a different base64url letter
			if b[i] == 'A' {
				b[i] = 'B'
			} else {
				b[i] = 'A'
			}
			return b
		}), "riverside", nil},
		{"record and its manifest hash changed", "signature over manifest.json does not verify", forge(t, false), "riverside", nil},
		// Re-signed with a new key that replaces node/jwks.json, the forgery is self-consistent: only a
		// pinned key catches it, which is why export prints the kid.
		{"re-signed by another key", "not by", forge(t, true), "riverside", []string{"--kid", kid}},
		{"entry added", "not listed in the manifest", func(names []string, bodies map[string][]byte) {
			bodies["records/practice/00000000-0000-7000-8000-000000000000/v00000001.json"] = []byte("{}")
		}, "riverside", nil},
		{"truncated", "refused", nil, "riverside", nil},
		{"another node's identity", "it was made by node", func([]string, map[string][]byte) {}, "lakeview", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "bad.tar")
			if tc.change == nil { // truncated
				data, _ := os.ReadFile(archive)
				os.WriteFile(bad, data[:len(data)-3000], 0o600)
			} else {
				rewriteArchive(t, archive, bad, tc.change)
			}
			if tc.name == "re-signed by another key" {
				// The forgery is well made: it verifies against its own JWKS, so only the pinned kid refuses it.
				open := func() (io.ReadCloser, error) { return os.Open(bad) }
				if _, err := practices.VerifyArchive(context.Background(), open, verifyArchiveSignature("")); err != nil {
					t.Fatalf("the forged archive does not even verify unpinned: %v", err)
				}
			}
			cfg, dst := newTarget(t, tc.id)
			out, err := importCmd(cfg, bad, tc.extra...)
			if err == nil || !strings.Contains(out, tc.want) {
				t.Fatalf("import of a bad archive: err %v, want a message with %q:\n%s", err, tc.want, out)
			}
			t.Logf("refused as it should be: %s", strings.TrimSpace(out))
			if n := countObjects(t, dst); n != 0 {
				t.Fatalf("a refused import left %d objects in the target", n)
			}
		})
	}
}

func flip(b []byte) []byte {
	b = bytes.Clone(b)
	b[len(b)/2] ^= 0x01
	return b
}

// rewriteArchive copies the archive src to dst after change has edited its entries (names in archive
// order; bodies by name; an added name is written at the start). Test archives are small, so entries
// are held in memory here.
func rewriteArchive(t *testing.T, src, dst string, change func(names []string, bodies map[string][]byte)) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	tr := tar.NewReader(in)
	var names []string
	hdrs := map[string]*tar.Header{}
	bodies := map[string][]byte{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		names = append(names, hdr.Name)
		hdrs[hdr.Name], bodies[hdr.Name] = hdr, body
	}
	change(names, bodies)
	for n := range bodies {
		if hdrs[n] == nil {
			names = append([]string{n}, names...)
			hdrs[n] = &tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: 0o644}
		}
	}
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	tw := tar.NewWriter(out)
	for _, n := range names {
		hdrs[n].Size = int64(len(bodies[n]))
		if err := tw.WriteHeader(hdrs[n]); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(bodies[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

// forge changes a practice version and updates its hash in the manifest without re-signing; with
// resign, it also signs the manifest with a new key that replaces node/jwks.json.
func forge(t *testing.T, resign bool) func([]string, map[string][]byte) {
	return func(names []string, bodies map[string][]byte) {
		var m practices.Manifest
		if err := json.Unmarshal(bodies["manifest.json"], &m); err != nil {
			t.Fatal(err)
		}
		set := func(path string, body []byte) {
			bodies[path] = body
			sum := sha256.Sum256(body)
			for i, e := range m.Entries {
				if e.Path == path {
					m.Entries[i].SHA256, m.Entries[i].Size = hex.EncodeToString(sum[:]), int64(len(body))
				}
			}
		}
		for _, n := range names {
			if strings.HasPrefix(n, "records/practice/") {
				set(n, bytes.Replace(bodies[n], []byte(`"title":"`), []byte(`"title":"Forged `), 1))
				break
			}
		}
		if resign {
			_, priv, _ := ed25519.GenerateKey(rand.Reader)
			pub := jose.JSONWebKey{Key: priv.Public()}
			tp, _ := pub.Thumbprint(crypto.SHA256)
			kid := base64.RawURLEncoding.EncodeToString(tp)
			pub.KeyID, pub.Algorithm, pub.Use = kid, "EdDSA", "sig"
			jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}})
			set("node/jwks.json", jwks)
			manifest, _ := json.MarshalIndent(m, "", "  ")
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: jose.JSONWebKey{Key: priv, KeyID: kid}},
				(&jose.SignerOptions{}).WithType(archiveSigType))
			if err != nil {
				t.Fatal(err)
			}
			obj, _ := signer.Sign(manifest)
			sig, _ := obj.DetachedCompactSerialize()
			bodies["manifest.json"], bodies["manifest.jws"] = manifest, []byte(sig)
			return
		}
		bodies["manifest.json"], _ = json.MarshalIndent(m, "", "  ")
	}
}
