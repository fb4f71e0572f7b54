package web_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/brightspots-nic/brightspots/node"
)

// TestSlowBodiesAreCutOff sends request bodies one byte at a time, far below the minimum rate, to
// an anonymous endpoint (POST /idp/login) and an authenticated one: the node must end each request
// instead of holding the connection open for as long as the client trickles. It used to wait for
// ever.
func TestSlowBodiesAreCutOff(t *testing.T) {
	n := newTestNode(t, func(c *node.Config) {
		c.Limits.BodyTimeout = 500 * time.Millisecond
		c.Limits.BodyMinRate = 1000
	})
	u, _ := url.Parse(n.url)
	for _, tc := range []struct{ name, path, header string }{
		{"anonymous sign-in form", "/idp/login", "Content-Type: application/x-www-form-urlencoded\r\n"},
		{"API create", "/api/v1/practices", "Content-Type: application/json\r\nAuthorization: Bearer " + n.tokens["math"] + "\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", u.Host)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\n%sContent-Length: 10000\r\n\r\n", tc.path, u.Host, tc.header)
			stop := make(chan struct{})
			defer close(stop)
			go func() { // one byte every 300 ms: 3 bytes a second, against a minimum of 1000
				for {
					select {
					case <-stop:
						return
					case <-time.After(300 * time.Millisecond):
					}
					if _, err := conn.Write([]byte("a")); err != nil {
						return
					}
				}
			}()
			// Not a timing threshold: only a bound on how long the test waits for an answer that,
			// without the limit, never comes.
			conn.SetReadDeadline(time.Now().Add(time.Minute))
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			var ne net.Error
			switch {
			case err == nil:
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode < 400 {
					t.Errorf("a trickled body was accepted: %d", res.StatusCode)
				}
			case errors.As(err, &ne) && ne.Timeout():
				t.Fatal("the node still holds a connection whose body trickles in far below the minimum rate")
			default:
				// The node closed the connection: as good as an answer.
			}
		})
	}
}

// TestMetricsLabelsStayBounded sends requests with made-up methods and random paths: /metrics must
// not grow a label value per request. Methods the node does not serve count as "other", paths that
// match no route as "unmatched".
func TestMetricsLabelsStayBounded(t *testing.T) {
	n := newTestNode(t)
	before := len(n.do("", "GET", "/metrics", nil).body)
	for i := range 50 {
		method := "X" + strings.Repeat(fmt.Sprintf("M%d", i), 100)
		req, _ := http.NewRequest(method, n.url+fmt.Sprintf("/api/v1/practices/%d/nowhere%d", i, i), nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}
	body := string(n.do("", "GET", "/metrics", nil).body)
	if strings.Contains(body, "XM1M1") || strings.Contains(body, "nowhere") {
		t.Fatal("a request's method or path became a metrics label")
	}
	if !strings.Contains(body, `method="other"`) {
		t.Error(`no method="other" label for the made-up methods`)
	}
	// 50 requests may add a handful of series (other × unmatched × their codes), not 50.
	if grew := len(body) - before; grew > 20_000 {
		t.Errorf("/metrics grew by %d bytes for 50 odd requests", grew)
	}
}

// TestUnknownTokensAreLimitedBeforeLookup sends many requests with made-up bearer tokens from one
// address: each one that is not cached would cost a store read, so past the lookup burst the node
// answers 429 before looking, while a token it already knows keeps working.
func TestUnknownTokensAreLimitedBeforeLookup(t *testing.T) {
	n := newTestNode(t, func(c *node.Config) {
		c.RateLimit.TokenLookupsPerSecond, c.RateLimit.TokenLookupsBurst = 0.01, 5
	})
	if r := n.do("teacher", "GET", "/api/v1/me", nil); r.status != http.StatusOK { // now cached
		t.Fatalf("known token: %d", r.status)
	}
	limited := 0
	for i := range 20 {
		req, _ := http.NewRequest("GET", n.url+"/api/v1/me", nil)
		req.Header.Set("Authorization", fmt.Sprintf("Bearer bsk_madeup%040d", i))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		switch res.StatusCode {
		case http.StatusTooManyRequests:
			limited++
			if res.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		case http.StatusUnauthorized:
		default:
			t.Errorf("made-up token: %d", res.StatusCode)
		}
	}
	if limited < 20-5-1 {
		t.Errorf("%d of 20 made-up tokens were limited before lookup; want all past the burst of 5", limited)
	}
	if r := n.do("teacher", "GET", "/api/v1/me", nil); r.status != http.StatusOK {
		t.Errorf("a known token was limited by others' made-up tokens: %d", r.status)
	}
}

// TestIfMatchLists: a well-formed tag that matches nothing is 412 (RFC 9110), not 400; a list of
// tags is understood and matches when one of them is the current ETag; weak tags never match;
// only a header that is not a list of tags is 400.
func TestIfMatchLists(t *testing.T) {
	n := newTestNode(t)
	r := n.doJSON("math", "POST", "/api/v1/practices", practiceJSON("Number lines"))
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	id := r.json(t)["id"].(string)
	edit := practiceJSON("Number lines, again")
	for _, tc := range []struct {
		ifMatch string
		want    int
	}{
		{`"stale-etag"`, http.StatusPreconditionFailed},
		{`"7"`, http.StatusPreconditionFailed},
		{`W/"1"`, http.StatusPreconditionFailed},
		{`not an etag`, http.StatusBadRequest},
		{`"5", "1"`, http.StatusOK}, // the current one is in the list
		{`"1", "9"`, http.StatusPreconditionFailed},
		{`"9", "2"`, http.StatusOK},
	} {
		r := n.doJSON("math", "PUT", "/api/v1/practices/"+id, edit, "If-Match", tc.ifMatch)
		if r.status != tc.want {
			t.Errorf("If-Match %s: %d %s, want %d", tc.ifMatch, r.status, r.body, tc.want)
		}
	}
	if r := n.do("math", "POST", "/api/v1/practices/"+id+"/publish", nil, "If-Match", `"stale-etag"`); r.status != http.StatusPreconditionFailed {
		t.Errorf("publish with a stale tag: %d, want 412", r.status)
	}
}

// TestStaticServesFilesOnly: /static/ serves its files and lists no folder.
func TestStaticServesFilesOnly(t *testing.T) {
	n := newTestNode(t)
	for path, want := range map[string]int{
		"/static/":          http.StatusNotFound,
		"/static/style.css": http.StatusOK,
		"/static/nope.css":  http.StatusNotFound,
		"/static/..%2f":     http.StatusNotFound,
	} {
		r := n.do("", "GET", path, nil)
		if r.status != want || (want != http.StatusOK && strings.Contains(string(r.body), "style.css")) {
			t.Errorf("GET %s: %d (%d bytes), want %d", path, r.status, len(r.body), want)
		}
	}
}

// TestFormBodiesAreCapped: form posts (multipart included) are capped like every other body, before
// anything parses them; a form parser would otherwise spool a huge multipart body to disk.
func TestFormBodiesAreCapped(t *testing.T) {
	n := newTestNode(t)
	big := strings.Repeat("x", 2<<20)
	for _, path := range []string{"/workspace/practices/new", "/collections", "/admin/tokens", "/idp/login"} {
		body := "--b\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n" + big + "\r\n--b--\r\n"
		r := n.do("", "POST", path, strings.NewReader(body), "Content-Type", "multipart/form-data; boundary=b")
		if r.status != http.StatusRequestEntityTooLarge {
			t.Errorf("POST %s with a 2 MiB form: %d, want 413", path, r.status)
		}
	}
}
