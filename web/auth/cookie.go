package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Cookies.
//
// The rule: cookies are named with the __Host- prefix and marked Secure whenever the node's public
// URL is https, or is http on a loopback host (127.0.0.0/8, ::1, localhost), where browsers treat
// plain http as a secure context and accept Secure cookies (Chromium, Firefox and Go's cookiejar
// do). Only a plain-http public URL on any other host, which no production node should use, gets
// unprefixed names without Secure, because a browser would drop the cookie otherwise; New logs a
// warning then. Every cookie is HttpOnly, Path=/, SameSite=Lax, and has no Domain.
const (
	sessionCookieName = "bs_session"
	loginCookieName   = "bs_login"
	hostPrefix        = "__Host-"
	maxCookieLen      = 4096
)

// secureCookies reports whether cookies for publicURL get __Host- and Secure (see above).
func secureCookies(publicURL *url.URL) bool {
	if publicURL.Scheme == "https" {
		return true
	}
	host := strings.ToLower(publicURL.Hostname())
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func cookieName(base string, secure bool) string {
	if secure {
		return hostPrefix + base
	}
	return base
}

func (a *Authenticator) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   int(maxAge / time.Second),
		Secure:   a.secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
}

func (a *Authenticator) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: "", Path: "/", MaxAge: -1,
		Secure: a.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// sealer encrypts and authenticates cookie values with AES-256-GCM. The cookie's name is the
// additional data, so a value sealed for one cookie does not open as another.
//
// Wire form: base64url(version byte 1 || 12-byte nonce || ciphertext and tag).
type sealer struct{ aead cipher.AEAD }

const sealVersion = 1

var errBadCookie = errors.New("auth: cookie does not open")

func newSealer(key []byte) (*sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("auth: cookie key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("auth: cookie cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("auth: cookie cipher: %w", err)
	}
	return &sealer{aead: aead}, nil
}

func (s *sealer) seal(name string, plaintext []byte) string {
	buf := make([]byte, 1+s.aead.NonceSize(), 1+s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	buf[0] = sealVersion
	if _, err := rand.Read(buf[1:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	out := s.aead.Seal(buf, buf[1:], plaintext, []byte(name))
	return base64.RawURLEncoding.EncodeToString(out)
}

func (s *sealer) open(name, value string) ([]byte, error) {
	if len(value) > maxCookieLen {
		return nil, errBadCookie
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(value) // Strict: one encoding per value
	if err != nil || len(raw) < 1+s.aead.NonceSize()+s.aead.Overhead() || raw[0] != sealVersion {
		return nil, errBadCookie
	}
	n := 1 + s.aead.NonceSize()
	pt, err := s.aead.Open(nil, raw[1:n], raw[n:], []byte(name))
	if err != nil {
		return nil, errBadCookie
	}
	return pt, nil
}

// deriveKey derives a purpose-specific key from the node's auth master key.
func deriveKey(master []byte, purpose string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("brightspots auth v1: " + purpose))
	return m.Sum(nil)
}
