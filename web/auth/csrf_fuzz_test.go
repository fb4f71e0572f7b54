package auth

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// FuzzPeekMultipartToken: whatever a multipart body holds, the look at its first part never
// panics, returns a token only when the first part is a csrf_token field, and leaves the body
// exactly as sent for the handler.
func FuzzPeekMultipartToken(f *testing.F) {
	f.Add("X", "--X\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\nabc\r\n--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\ndata\r\n--X--\r\n")
	f.Add("X", "--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\ndata\r\n--X--\r\n")
	f.Add("b", "--b\r\nContent-Disposition: form-data; name=\"csrf_token\"; filename=\"t\"\r\n\r\nabc\r\n--b--\r\n")
	f.Add("b", "--b\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"+strings.Repeat("t", 300)+"\r\n--b--\r\n")
	f.Add("b", "garbage")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, boundary, body string) {
		r, err := http.NewRequest(http.MethodPost, "http://node.test/upload", strings.NewReader(body))
		if err != nil {
			t.Skip()
		}
		r.Header.Set("Content-Type", "multipart/form-data; boundary=\""+strings.ReplaceAll(boundary, "\"", "")+"\"")
		token := peekMultipartToken(r)
		if len(token) > 256 {
			t.Fatalf("a token of %d bytes", len(token))
		}
		if token != "" && !strings.Contains(body, "csrf_token") {
			t.Fatalf("token %q from a body without a csrf_token field", token)
		}
		rest, err := io.ReadAll(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(rest, []byte(body)) {
			t.Fatalf("the body changed: %q, want %q", rest, body)
		}
	})
}
