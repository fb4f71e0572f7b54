package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brightspots-nic/brightspots/internal/testenv"
)

// needOAITools finds the standard harvester this test did not write (Perl HTTP::OAI) and xmllint.
func needOAITools(t *testing.T) (xmllint string) {
	t.Helper()
	if out, err := exec.Command("perl", "-MHTTP::OAI", "-e", "1").CombinedOutput(); err != nil {
		testenv.Missing(t, "the Perl HTTP::OAI harvester is not installed (apt-get install libhttp-oai-perl; scripts/tools.sh does it as root): %v %s", err, out)
	}
	xmllint = testenv.Tool("xmllint")
	if xmllint == "" {
		testenv.Missing(t, "xmllint is not installed (apt-get install libxml2-utils; scripts/tools.sh does it as root)")
	}
	return xmllint
}

// recordingProxy sits between the harvester and the node and keeps every response body, so each
// one can be checked with xmllint afterwards.
type recordingProxy struct {
	target string
	mu     sync.Mutex
	bodies [][]byte
	urls   []string
}

func (p *recordingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, _ := http.NewRequestWithContext(r.Context(), r.Method, p.target+r.URL.RequestURI(), r.Body)
	req.Header.Set("Content-Type", r.Header.Get("Content-Type"))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	p.mu.Lock()
	p.bodies = append(p.bodies, body)
	p.urls = append(p.urls, r.URL.RequestURI())
	p.mu.Unlock()
	w.Header().Set("Content-Type", res.Header.Get("Content-Type"))
	w.WriteHeader(res.StatusCode)
	_, _ = w.Write(body)
}

// seen returns how many responses the proxy has kept and the URLs asked, read under its lock (a
// handler may still be finishing when the harvester has exited).
func (p *recordingProxy) seen() (int, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.bodies), slices.Clone(p.urls)
}

type harvested struct{ id, datestamp, status, title string }

// runHarvester runs HTTP::OAI through the proxy and returns the records it saw.
func runHarvester(t *testing.T, proxyURL, prefix, from string) []harvested {
	t.Helper()
	args := []string{filepath.Join("testdata", "oai-harvest.pl"), proxyURL + "/oai", prefix}
	if from != "" {
		args = append(args, from)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "perl", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("HTTP::OAI harvest failed: %v\n%s", err, stderr.String())
	}
	var recs []harvested
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			t.Fatalf("harvester printed %q", line)
		}
		recs = append(recs, harvested{f[0], f[1], f[2], f[3]})
	}
	return recs
}

// checkWellFormed runs xmllint over every response the proxy saw since index `from`.
func checkWellFormed(t *testing.T, xmllint string, p *recordingProxy, from int) int {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	dir := t.TempDir()
	for i := from; i < len(p.bodies); i++ {
		file := filepath.Join(dir, fmt.Sprintf("response-%03d.xml", i))
		if err := os.WriteFile(file, p.bodies[i], 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(xmllint, "--noout", "--nonet", file).CombinedOutput(); err != nil {
			t.Errorf("response to %s is not well-formed XML: %v\n%s", p.urls[i], err, out)
		}
	}
	return len(p.bodies) - from
}

// TestOAIHarvestWithHTTPOAI: a standard harvester the tests did not write harvests a real node over
// several pages of resumption tokens, then incrementally with from, and sees a withdrawal as a
// deleted record and a new practice as added. Every response is well-formed XML.
func TestOAIHarvestWithHTTPOAI(t *testing.T) {
	xmllint := needOAITools(t)
	n := newTestNode(t)
	var public []string
	for i := range 450 { // ListRecords pages hold 200 records: three pages
		public = append(public, n.publishPractice(fmt.Sprintf("Public practice %03d", i), "public"))
	}
	hidden := n.publishPractice("District-only practice", "district")
	proxy := &recordingProxy{target: n.url}
	ps := httptest.NewServer(proxy)
	defer ps.Close()

	host := strings.Split(strings.TrimPrefix(n.url, "http://"), ":")[0]
	oaiID := func(id string) string { return "oai:" + host + ":practice/" + id }

	recs := runHarvester(t, ps.URL, "oai_dc", "")
	var got []string
	for _, r := range recs {
		if r.status != "-" || !strings.HasPrefix(r.title, "Public practice ") {
			t.Errorf("full harvest record %+v", r)
		}
		got = append(got, r.id)
	}
	var want []string
	for _, id := range public {
		want = append(want, oaiID(id))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("full harvest: %d records, want %d (first %v)", len(got), len(want), got[:min(3, len(got))])
	}
	if slices.Contains(got, oaiID(hidden)) {
		t.Fatal("a district-only practice was harvested")
	}
	pages := 0
	_, urls := proxy.seen()
	for _, u := range urls {
		if strings.Contains(u, "resumptionToken=") {
			pages++
		}
	}
	if pages < 2 {
		t.Fatalf("the harvest followed %d resumption tokens, want at least 2: %v", pages, urls)
	}
	checked := checkWellFormed(t, xmllint, proxy, 0)

	// Incremental: the harvester's next from is the time of its last harvest (seconds granularity).
	time.Sleep(1100 * time.Millisecond)
	from := time.Now().UTC().Format("2006-01-02T15:04:05Z")
	time.Sleep(1100 * time.Millisecond)
	if r := n.doJSON("math", "POST", "/api/v1/practices/"+public[7]+"/withdraw", nil); r.status != 200 {
		t.Fatalf("withdraw: %d %s", r.status, r.body)
	}
	added := n.publishPractice("Added after the first harvest", "public")
	before, _ := proxy.seen()
	recs = runHarvester(t, ps.URL, "oai_dc", from)
	status := map[string]harvested{}
	for _, r := range recs {
		status[r.id] = r
	}
	if len(recs) != 2 || status[oaiID(public[7])].status != "deleted" || status[oaiID(added)].title != "Added after the first harvest" {
		t.Fatalf("incremental harvest from %s = %+v", from, recs)
	}
	checked += checkWellFormed(t, xmllint, proxy, before)

	// Error responses are well-formed too.
	before, _ = proxy.seen()
	for _, q := range []string{"verb=Nope", "verb=ListRecords&metadataPrefix=marc21", "verb=ListRecords&resumptionToken=forged",
		"verb=GetRecord&metadataPrefix=oai_dc&identifier=" + oaiID(hidden), "verb=ListSets", "verb=ListMetadataFormats",
		"verb=GetRecord&metadataPrefix=lrmi&identifier=" + oaiID(public[0]), "verb=GetRecord&metadataPrefix=oai_dc&identifier=" + oaiID(public[7])} {
		res, err := http.Get(ps.URL + "/oai?" + q)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("%s: status %d", q, res.StatusCode)
		}
	}
	checked += checkWellFormed(t, xmllint, proxy, before)
	t.Logf("xmllint checked %d responses", checked)
}
