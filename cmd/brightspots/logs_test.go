package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestTokenRevokeSaysWhenItTakesEffect: a running node caches tokens for up to 10 s, so the
// command says that instead of letting the operator think the token is refused at once.
func TestTokenRevokeSaysWhenItTakesEffect(t *testing.T) {
	data := t.TempDir()
	var out, errs bytes.Buffer
	if err := run(t.Context(), []string{"token", "create", "--data", data, "--name", "old", "--role", "teacher"}, &out, &errs); err != nil {
		t.Fatal(err, errs.String())
	}
	out.Reset()
	if err := run(t.Context(), []string{"token", "revoke", "--data", data, "old"}, &out, &errs); err != nil {
		t.Fatal(err, errs.String())
	}
	if !strings.Contains(out.String(), "within 10 seconds") {
		t.Errorf("token revoke printed %q: it must say when a running node stops accepting the token", out.String())
	}
}

// TestProviderLogsAreJSON sends the embedded provider requests that make its library log, with
// attacker text in them: every line the node writes must be one JSON object (the library used to
// write plain text lines of its own).
func TestProviderLogsAreJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve", "--data", t.TempDir(), "--addr", addr)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		lines []string
		done  = make(chan struct{})
	)
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			mu.Lock()
			lines = append(lines, sc.Text())
			mu.Unlock()
		}
	}()
	base := "http://" + addr
	for range 300 {
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	evil := "evil\n{\"level\":\"ERROR\",\"msg\":\"forged\"}\r\nline"
	for _, u := range []string{
		base + "/idp/authorize?client_id=" + url.QueryEscape(evil) + "&redirect_uri=" + url.QueryEscape("http://x/"+evil) + "&response_type=code&scope=openid",
		base + "/idp/authorize?client_id=brightspots-web&redirect_uri=" + url.QueryEscape("http://x/"+evil) + "&response_type=code&scope=openid",
		base + "/idp/userinfo",
	} {
		if res, err := http.Get(u); err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
	}
	req, _ := http.NewRequest("POST", base+"/idp/oauth/token", strings.NewReader("grant_type="+url.QueryEscape(evil)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if len(lines) < 3 {
		t.Fatalf("only %d log lines", len(lines))
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Errorf("log line is not JSON: %q", l)
		}
		if m["msg"] == "forged" {
			t.Errorf("attacker text forged a log line: %q", l)
		}
	}
}
