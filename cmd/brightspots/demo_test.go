package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
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

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDemoFederatesThreeDistricts runs the demo command, signs in to the second district as its
// teacher, and finds every district's practices in its search.
func TestDemoFederatesThreeDistricts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three nodes")
	}
	base := threeFreePorts(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--data", t.TempDir(), "--port", fmt.Sprint(base), "--practices", "6"}, &out, &errOut)
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
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	res, err := c.Get(lakeview + "/login")
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
