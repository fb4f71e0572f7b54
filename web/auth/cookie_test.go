package auth

import (
	"bytes"
	"net/url"
	"testing"
)

func testSealer(t testing.TB) *sealer {
	s, err := newSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSealRoundTripAndBinding(t *testing.T) {
	s := testSealer(t)
	v := s.seal("__Host-bs_session", []byte(`{"s":"x"}`))
	if got, err := s.open("__Host-bs_session", v); err != nil || string(got) != `{"s":"x"}` {
		t.Fatalf("open = %q, %v", got, err)
	}
	// A value sealed for one cookie does not open as another (login cookie → session cookie).
	if _, err := s.open("__Host-bs_login", v); err == nil {
		t.Error("value opened under another cookie's name")
	}
	// Another key does not open it.
	other, _ := newSealer(bytes.Repeat([]byte{8}, 32))
	if _, err := other.open("__Host-bs_session", v); err == nil {
		t.Error("value opened with another key")
	}
	// Two seals of one plaintext differ (random nonce).
	if first, second := s.seal("n", []byte("p")), s.seal("n", []byte("p")); first == second {
		t.Error("sealing is deterministic")
	}
}

func TestCookieRule(t *testing.T) {
	for _, tc := range []struct {
		url    string
		secure bool
	}{
		{"https://district.example", true},
		{"http://127.0.0.1:8080", true},
		{"http://127.4.5.6:8080", true},
		{"http://[::1]:8080", true},
		{"http://localhost:8080", true},
		{"http://node.localhost", true},
		{"http://district.example", false},
		{"http://10.0.0.5:8080", false},
	} {
		u, _ := url.Parse(tc.url)
		if got := secureCookies(u); got != tc.secure {
			t.Errorf("secureCookies(%s) = %v, want %v", tc.url, got, tc.secure)
		}
		want := "bs_session"
		if tc.secure {
			want = "__Host-bs_session"
		}
		if got := cookieName("bs_session", secureCookies(u)); got != want {
			t.Errorf("cookie name for %s = %s, want %s", tc.url, got, want)
		}
	}
}

// FuzzOpenCookie: opening any cookie value never panics, and only values this sealer made open.
func FuzzOpenCookie(f *testing.F) {
	s := testSealer(f)
	f.Add(s.seal("c", []byte(`{"s":"abc","t":1}`)))
	f.Add("")
	f.Add("AQ")
	f.Add("not base64!")
	f.Fuzz(func(t *testing.T, value string) {
		pt, err := s.open("c", value)
		if err != nil {
			return
		}
		// It opened: then it must be exactly a sealing of pt, and re-sealing round-trips.
		again, err := s.open("c", s.seal("c", pt))
		if err != nil || !bytes.Equal(again, pt) {
			t.Fatalf("round trip of %q failed", pt)
		}
	})
}
