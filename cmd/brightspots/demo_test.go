package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/brightspots-nic/brightspots/internal/testenv"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// threeFreePorts finds a base port whose next two are free too.
func threeFreePorts(t *testing.T) int {
	for attempt := 0; attempt < 50; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		base := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		ok := true
		for i := 1; i < 3 && ok; i++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base+i))
			if err != nil {
				ok = false
			} else {
				l.Close()
			}
		}
		if ok && base+2 < 65536 {
			return base
		}
	}
	t.Fatal("no three consecutive free ports")
	return 0
}

// TestDemoFederatesThreeDistricts runs the demo command, signs in to the second district as its
// teacher, and finds every district's practices in its search.
func TestDemoFederatesThreeDistricts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three nodes")
	}
	base := threeFreePorts(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut testenv.LogBuffer
	dataDir := t.TempDir()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--data", dataDir, "--port", fmt.Sprint(base), "--practices", "6"}, &out, &errOut)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo exited with %v", err)
		}
	}()
	deadline := time.Now().Add(90 * time.Second)
	for !strings.Contains(out.String(), "Stop with Ctrl-C") {
		if time.Now().After(deadline) {
			t.Fatalf("demo did not come up: %s\n%s", out.String(), errOut.String())
		}
		select {
		case err := <-done:
			t.Fatalf("demo exited: %v\n%s", err, errOut.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	lakeview := fmt.Sprintf("http://127.0.0.1:%d", base+1)
	// The first screen has no warnings (a sync racing the seed once logged "sync failed … mkdir").
	if strings.Contains(errOut.String(), "level=WARN") || strings.Contains(errOut.String(), "level=ERROR") {
		t.Errorf("the demo's first screen has warnings:\n%s", errOut.String())
	}
	// The banner's token command works as printed while the demo runs: run it through the real
	// command line, then search with the token it prints.
	secret := runBannerTokenCommand(t, out.String())
	checkDemoSeed(t, dataDir, fmt.Sprintf("http://127.0.0.1:%d", base))
	req, _ := http.NewRequest(http.MethodGet, lakeview+"/api/v1/search?q=fractoins", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("search with the banner's token: %s", res.Status)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	res, err = c.Get(lakeview + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`name="authRequestID" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no sign-in form: %s", page)
	}
	res, err = c.PostForm(lakeview+"/idp/login", url.Values{"authRequestID": {string(m[1])}, "email": {"teacher@lakeview.example"}, "password": {DemoPassword}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var body string
	for time.Now().Before(deadline) {
		res, err := c.Get(lakeview + "/api/v1/search?per_page=1")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		body = string(b)
		if strings.Contains(body, `"value":"riverside"`) && strings.Contains(body, `"value":"hillcrest"`) && strings.Contains(body, `"value":"lakeview"`) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(body, `"value":"lakeview"`) || !strings.Contains(body, `"value":"riverside"`) || !strings.Contains(body, `"value":"hillcrest"`) {
		t.Fatalf("lakeview's search does not show all three districts: %s", body)
	}
	// The story of cycles: Riverside's ramp reached Lakeview, and a phrase only Riverside's third
	// cycle wrote finds Riverside's practice there, with the snippet of what that team learned.
	for time.Now().Before(deadline) {
		res, err := c.Get(lakeview + "/api/v1/search?q=" + url.QueryEscape("debrief disputed card"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		body = string(b)
		// The hit carries the snippet of what the team learned, with the matched word marked.
		if strings.Contains(body, `"title":"Fraction number line talks"`) && strings.Contains(body, `\u003cmark\u003edebrief`) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(body, `\u003cmark\u003edebrief`) {
		t.Fatalf("lakeview does not find Riverside's practice by what its cycles learned: %s", body)
	}
	// The network aim: Lakeview's own progress names Riverside's aim, whose dashboard at Lakeview
	// shows all three districts' progress, the network series, and practices of every district.
	get := func(path string) string {
		res, err := c.Get(lakeview + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	aimRef := regexp.MustCompile(`"aim":\{"uri":"http://127\.0\.0\.1:\d+/aims/([^"]+)"`)
	for time.Now().Before(deadline) {
		body = get("/api/v1/progress")
		if m := aimRef.FindStringSubmatch(body); m != nil {
			body = get("/api/v1/aims/" + m[1] + "/dashboard")
			if strings.Count(body, `"reporting":`) == 3 && strings.Contains(body, `"network":[{"month":"2026-09"`) &&
				strings.Contains(body, `"id":"riverside"`) && strings.Contains(body, `"id":"lakeview"`) && strings.Contains(body, `"id":"hillcrest"`) {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("lakeview does not show the network aim's dashboard with three districts: %s", body)
}

// runBannerTokenCommand finds the `go run ./cmd/brightspots token create …` line the demo printed,
// runs its arguments through run (the same flag sets as the binary) and returns the secret.
func runBannerTokenCommand(t *testing.T, banner string) string {
	t.Helper()
	const prefix = "go run ./cmd/brightspots "
	for _, line := range strings.Split(banner, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, prefix+"token create") {
			continue
		}
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), strings.Fields(strings.TrimPrefix(line, prefix)), &stdout, &stderr); err != nil {
			t.Fatalf("the banner's command %q fails: %v\n%s", line, err, stderr.String())
		}
		secret := strings.TrimSpace(stdout.String())
		if !strings.HasPrefix(secret, "bsk_") {
			t.Fatalf("the banner's command printed %q, not a token", secret)
		}
		return secret
	}
	t.Fatalf("the banner prints no token command:\n%s", banner)
	return ""
}

// checkDemoSeed reads Riverside's seed through its API with a token of its own: the collection mixes
// fractions practices of several districts with a note each, and most practices have materials.
func checkDemoSeed(t *testing.T, dataDir, riverside string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"token", "create", "--data", filepath.Join(dataDir, "riverside"), "--name", "check", "--role", "teacher"}, &stdout, &stderr); err != nil {
		t.Fatalf("riverside token: %v %s", err, stderr.String())
	}
	get := func(path string, v any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, riverside+path, nil)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(stdout.String()))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if err := json.NewDecoder(res.Body).Decode(v); err != nil || res.StatusCode != 200 {
			t.Fatalf("GET %s: %d %v", path, res.StatusCode, err)
		}
	}
	var cols struct {
		Items []struct {
			Title string `json:"title"`
			Items []struct {
				PracticeURI string `json:"practice_uri"`
				Note        string `json:"note"`
			} `json:"items"`
		} `json:"items"`
	}
	get("/api/v1/collections?status=published", &cols)
	if len(cols.Items) != 1 || !strings.HasPrefix(cols.Items[0].Title, "Fractions") {
		t.Fatalf("riverside's collections: %+v", cols.Items)
	}
	origins, notes := map[string]bool{}, map[string]bool{}
	for _, it := range cols.Items[0].Items {
		u, _ := url.Parse(it.PracticeURI)
		origins[u.Host] = true
		notes[it.Note] = true
	}
	if len(origins) < 2 || len(notes) != len(cols.Items[0].Items) {
		t.Errorf("the collection holds %d practices from %d districts with %d distinct notes: %+v", len(cols.Items[0].Items), len(origins), len(notes), cols.Items[0].Items)
	}
	var prs struct {
		Items []struct {
			Title     string `json:"title"`
			Materials []struct {
				Name string `json:"name"`
			} `json:"materials"`
		} `json:"items"`
	}
	get("/api/v1/practices?status=published&limit=200", &prs)
	with := 0
	for _, p := range prs.Items {
		if len(p.Materials) > 0 {
			with++
		}
	}
	if len(prs.Items) == 0 || with*2 <= len(prs.Items) {
		t.Errorf("%d of %d published practices have materials, want most", with, len(prs.Items))
	}
}
