package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/brightspots-nic/brightspots/web/idp"
)

// signIn signs in through the node's real /login, the embedded provider's form and the callback,
// and returns a client holding the session cookie.
func (n *testNode) signIn(email, password string) *http.Client {
	n.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	res, err := c.Get(n.url + "/login")
	if err != nil {
		n.t.Fatal(err)
	}
	page := readAll(res)
	m := regexp.MustCompile(`name="authRequestID" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		n.t.Fatalf("no sign-in form: %s", page)
	}
	res, err = c.PostForm(n.url+"/idp/login", url.Values{"authRequestID": {m[1]}, "email": {email}, "password": {password}})
	if err != nil {
		n.t.Fatal(err)
	}
	readAll(res)
	return c
}

func readAll(res *http.Response) string {
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		k, err := res.Body.Read(buf)
		b.Write(buf[:k])
		if err != nil {
			return b.String()
		}
	}
}

func TestSignInThroughTheEmbeddedProvider(t *testing.T) {
	n := newTestNode(t)
	if _, err := idp.AddUser(context.Background(), n.srv.Repo().Bucket(), "ana@riverside.example", "publisher", "math-4", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	c := n.signIn("ana@riverside.example", "correct horse battery")
	res, err := c.Get(n.url + "/api/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(res)
	if res.StatusCode != 200 || !strings.Contains(body, `"kind":"session"`) || !strings.Contains(body, `"publisher"`) || !strings.Contains(body, `"math-4"`) {
		t.Fatalf("/me after sign-in: %d %s", res.StatusCode, body)
	}
	// A session may create (with its CSRF token) … the same checks as a token.
	req, _ := http.NewRequest("POST", n.url+"/api/v1/practices", strings.NewReader(`{"title":"From a browser","team":"math-4"}`))
	req.Header.Set("Content-Type", "application/json")
	res, _ = c.Do(req)
	if body := readAll(res); res.StatusCode != http.StatusForbidden {
		t.Fatalf("cookie POST without CSRF token: %d %s", res.StatusCode, body)
	}
	// Wrong password: no session.
	bad := n.signIn("ana@riverside.example", "wrong password!")
	res, _ = bad.Get(n.url + "/api/v1/me")
	if readAll(res); res.StatusCode != 401 {
		t.Fatalf("/me after a wrong password: %d", res.StatusCode)
	}
}

// TestAuthorizationMatrix checks every record route for every kind of caller against records in
// every visibility and status, against a table of expected outcomes kept here.
func TestAuthorizationMatrix(t *testing.T) {
	n := newTestNode(t)
	ctx := context.Background()
	if _, err := idp.AddUser(ctx, n.srv.Repo().Bucket(), "pat@riverside.example", "publisher", "math-4", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	session := n.signIn("pat@riverside.example", "correct horse battery")

	// Callers: token names of newTestNode, "" for anonymous, "session" for the signed-in publisher of math-4.
	callers := []string{"", "teacher", "math", "ela", "coordinator", "admin", "session"}
	// States of the record under test (a math-4 practice).
	type state struct{ name, visibility, status string }
	states := []state{
		{"draft", "network", "draft"},
		{"published-district", "district", "published"},
		{"published-network", "network", "published"},
		{"published-public", "public", "published"},
		{"withdrawn", "network", "withdrawn"},
	}
	// Expected status per route, state and caller (in the order of callers).
	type want map[string][7]int
	table := map[string]want{
		"GET": {
			"draft":              {404, 404, 200, 404, 404, 200, 200},
			"published-district": {404, 200, 200, 200, 200, 200, 200},
			"published-network":  {404, 200, 200, 200, 200, 200, 200},
			"published-public":   {200, 200, 200, 200, 200, 200, 200},
			"withdrawn":          {404, 404, 200, 404, 404, 200, 200},
		},
		"PUT": {
			"draft":              {401, 404, 200, 404, 404, 200, 200},
			"published-district": {401, 403, 200, 403, 403, 200, 200},
			"published-network":  {401, 403, 200, 403, 403, 200, 200},
			"published-public":   {401, 403, 200, 403, 403, 200, 200},
			"withdrawn":          {401, 404, 409, 404, 404, 409, 409},
		},
		"publish": {
			"draft":              {401, 404, 200, 404, 404, 200, 200},
			"published-district": {401, 403, 409, 403, 403, 409, 409},
			"published-network":  {401, 403, 409, 403, 403, 409, 409},
			"published-public":   {401, 403, 409, 403, 403, 409, 409},
			"withdrawn":          {401, 404, 200, 404, 404, 200, 200},
		},
		"withdraw": {
			"draft":              {401, 404, 409, 404, 404, 409, 409},
			"published-district": {401, 403, 200, 403, 403, 200, 200},
			"published-network":  {401, 403, 200, 403, 403, 200, 200},
			"published-public":   {401, 403, 200, 403, 403, 200, 200},
			"withdrawn":          {401, 404, 409, 404, 404, 409, 409},
		},
		"evidence": {
			"draft":              {404, 404, 200, 404, 404, 200, 200},
			"published-district": {404, 200, 200, 200, 200, 200, 200},
			"published-network":  {404, 200, 200, 200, 200, 200, 200},
			"published-public":   {200, 200, 200, 200, 200, 200, 200},
			"withdrawn":          {404, 404, 200, 404, 404, 200, 200},
		},
		"artifact-upload": {
			"draft":              {401, 404, 201, 404, 404, 201, 201},
			"published-district": {401, 403, 201, 403, 403, 201, 201},
			"published-network":  {401, 403, 201, 403, 403, 201, 201},
			"published-public":   {401, 403, 201, 403, 403, 201, 201},
			"withdrawn":          {401, 404, 409, 404, 404, 409, 409},
		},
	}
	csrf := n.csrfToken(session)
	for route, byState := range table {
		for _, st := range states {
			for i, who := range callers {
				id := n.practiceIn(st.visibility, st.status)
				var r response
				switch route {
				case "GET":
					r = n.as(session, csrf, who, "GET", "/api/v1/practices/"+id, "", "")
				case "PUT":
					edit := practiceJSON("Edited")
					edit["visibility"] = st.visibility
					raw, _ := json.Marshal(edit)
					body := string(raw)
					r = n.as(session, csrf, who, "PUT", "/api/v1/practices/"+id, body, "application/json", "If-Match", "*")
				case "publish", "withdraw":
					r = n.as(session, csrf, who, "POST", "/api/v1/practices/"+id+"/"+route, "", "")
				case "evidence":
					r = n.as(session, csrf, who, "GET", "/api/v1/practices/"+id+"/evidence", "", "")
				case "artifact-upload":
					r = n.as(session, csrf, who, "POST", "/api/v1/practices/"+id+"/artifacts?name=plan.pdf", string(pdfBytes), "application/pdf")
				}
				if w := byState[st.name][i]; r.status != w {
					t.Errorf("%s %s as %q: got %d, want %d (%s)", route, st.name, who, r.status, w, r.body)
				}
			}
		}
	}
	// Creating: practices and tests need a publisher of the named team; collections a coordinator.
	create := []struct {
		path, body string
		want       [7]int
	}{
		{"/api/v1/practices", `{"title":"x","team":"math-4"}`, [7]int{401, 403, 201, 403, 403, 201, 201}},
		{"/api/v1/tests", `{"team":"math-4","practice":{"uri":"http://x.test/practices/1"},"cycle":"pdsa","design":"single_group_pre_post","question":"q"}`, [7]int{401, 403, 201, 403, 403, 201, 201}},
		{"/api/v1/collections", `{"title":"c"}`, [7]int{401, 403, 403, 403, 201, 201, 403}},
	}
	for _, c := range create {
		for i, who := range callers {
			if r := n.as(session, csrf, who, "POST", c.path, c.body, "application/json"); r.status != c.want[i] {
				t.Errorf("create %s as %q: got %d, want %d (%s)", c.path, who, r.status, c.want[i], r.body)
			}
		}
	}
}

// practiceIn creates a math-4 practice and brings it to the given visibility and status.
func (n *testNode) practiceIn(visibility, status string) string {
	n.t.Helper()
	p := practiceJSON("Matrix")
	p["visibility"] = visibility
	id := n.doJSON("admin", "POST", "/api/v1/practices", p).json(n.t)["id"].(string)
	if status != "draft" {
		n.doJSON("admin", "POST", "/api/v1/practices/"+id+"/publish", nil)
	}
	if status == "withdrawn" {
		n.doJSON("admin", "POST", "/api/v1/practices/"+id+"/withdraw", nil)
	}
	return id
}

// csrfToken reads the session's CSRF token from /api/v1/me, as a script in the page would.
func (n *testNode) csrfToken(c *http.Client) string {
	n.t.Helper()
	res, err := c.Get(n.url + "/api/v1/me")
	if err != nil {
		n.t.Fatal(err)
	}
	m := regexp.MustCompile(`"csrf_token":"([^"]+)"`).FindStringSubmatch(readAll(res))
	if m == nil {
		n.t.Fatal("no csrf_token in /api/v1/me for a session")
	}
	return m[1]
}

// as sends a request as a token holder, anonymously, or as the signed-in session (with its CSRF token).
func (n *testNode) as(session *http.Client, csrf, who, method, path, body, ctype string, header ...string) response {
	n.t.Helper()
	if who != "session" {
		h := header
		if ctype != "" {
			h = append([]string{"Content-Type", ctype}, header...)
		}
		return n.do(who, method, path, strings.NewReader(body), h...)
	}
	req, _ := http.NewRequest(method, n.url+path, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("X-CSRF-Token", csrf)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := session.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	b := readAll(res)
	return response{res.StatusCode, res.Header, []byte(b)}
}
