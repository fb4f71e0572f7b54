package idp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/brightspots-nic/brightspots/web/idp"
)

// TestTenThousandWrongPasswords: 10,000 wrong passwords against one account are throttled (only
// the first few are even checked), the real password is refused while the throttle holds (so
// guessing gains nothing), and works once the window has passed.
func TestTenThousandWrongPasswords(t *testing.T) {
	e := startEnv(t, idp.Config{}, nil)
	pw := addUser(t, e.Bucket, "lee@district.example", "teacher", "")
	id := e.authorize(oauth2.GenerateVerifier(), "n")

	counts := map[int]int{}
	for i := range 10_000 {
		r := e.login(id, "lee@district.example", "guess-number-"+strings.Repeat("x", i%7), nil)
		counts[r.Status]++
		if counts[http.StatusUnprocessableEntity] > 50 {
			t.Fatalf("attempt %d: %v — not throttled", i, counts) // stop before 10,000 argon2 checks
		}
		if r.Status == http.StatusTooManyRequests && r.Header.Get("Retry-After") == "" {
			t.Fatal("throttled answer without Retry-After")
		}
	}
	// The default account budget: 5 checked guesses, then refusals without checking.
	if counts[http.StatusUnprocessableEntity] != 5 || counts[http.StatusTooManyRequests] != 9_995 || len(counts) != 2 {
		t.Fatalf("answers: %v, want 5 checked (422) and 9995 throttled (429)", counts)
	}
	if r := e.login(id, "lee@district.example", pw, nil); r.Status != http.StatusTooManyRequests {
		t.Fatalf("the real password during the throttle: %d, want 429", r.Status)
	}

	// Two minutes later one more guess is allowed, not more.
	e.Clock.Advance(2 * time.Minute)
	if r := e.login(id, "lee@district.example", "one more guess", nil); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("after 2m: %d, want one checked guess", r.Status)
	}
	if r := e.login(id, "lee@district.example", "and another", nil); r.Status != http.StatusTooManyRequests {
		t.Fatalf("second guess after 2m: %d, want 429", r.Status)
	}

	// Once the window has passed, the real password works (with a fresh authorization request: the
	// old one expired on the same clock).
	e.Clock.Advance(2 * time.Minute)
	id = e.authorize(oauth2.GenerateVerifier(), "n")
	if r := e.login(id, "lee@district.example", pw, nil); r.Status != http.StatusSeeOther {
		t.Fatalf("real password after the window: %d %s", r.Status, r.Body)
	}
	// And success refills the account's budget.
	id = e.authorize(oauth2.GenerateVerifier(), "n")
	for range 5 {
		if r := e.login(id, "lee@district.example", "wrong", nil); r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("after a success the budget should be full again: %d", r.Status)
		}
	}
}

// TestThrottlePerAddress: one address guessing across many accounts is throttled too, rotating
// X-Forwarded-For does not help when no proxy is trusted, and other addresses are unaffected
// (here, through a trusted proxy's X-Forwarded-For).
func TestThrottlePerAddress(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted []string
	}{{"direct", nil}, {"behind a proxy", []string{"127.0.0.1"}}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := idp.Config{Throttle: idp.Throttle{AddressBurst: 5}}
			if tc.trusted != nil {
				// The same extractor the server uses (auth.IPExtractor builds this one).
				cfg.ClientIP = echo.ExtractIPFromXFFHeader(echo.TrustLoopback(true), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false))
			}
			e := startEnv(t, cfg, nil)
			id := e.authorize(oauth2.GenerateVerifier(), "n")
			attacker := map[string]string{"X-Forwarded-For": "203.0.113.7"}
			throttled := 0
			for i := range 12 {
				// A different account each time, and a different forged X-Forwarded-For when direct.
				h := attacker
				if tc.trusted == nil {
					h = map[string]string{"X-Forwarded-For": "198.51.100." + string(rune('0'+i%10))}
				}
				r := e.login(id, "user"+string(rune('a'+i%26))+string(rune('a'+i/26))+"@district.example", "wrong", h)
				if r.Status == http.StatusTooManyRequests {
					throttled++
				}
			}
			if throttled != 7 {
				t.Errorf("12 guesses over 12 accounts from one address: %d throttled, want 7", throttled)
			}
			if tc.trusted != nil {
				r := e.login(id, "someone@district.example", "wrong", map[string]string{"X-Forwarded-For": "192.0.2.50"})
				if r.Status != http.StatusUnprocessableEntity {
					t.Errorf("another client behind the proxy: %d, want its own budget (422)", r.Status)
				}
			}
		})
	}
}

// TestSignInPage: plain, accessible HTML: labelled fields, errors beside the field they concern and
// tied to it, no script or inline style, a strict CSP; unknown emails answer exactly like wrong
// passwords.
func TestSignInPage(t *testing.T) {
	e := startEnv(t, idp.Config{}, nil)
	addUser(t, e.Bucket, "max@district.example", "teacher", "")
	id := e.authorize(oauth2.GenerateVerifier(), "n")
	page := e.get(e.URL + "/idp/login?authRequestID=" + id)
	for _, want := range []string{`<label for="email">`, `<input id="email" name="email" type="email" autocomplete="username"`,
		`<label for="password">`, `<input id="password" name="password" type="password" autocomplete="current-password"`,
		`<html lang="en">`, `<button type="submit">`} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("sign-in page lacks %s", want)
		}
	}
	for _, r := range []response{page, e.login(id, "", "", nil)} {
		if regexp.MustCompile(`(?i)<script|\sstyle=|\son[a-z]+=|javascript:`).MatchString(r.Body) {
			t.Errorf("page has script or inline style: %s", r.Body)
		}
		csp := r.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe") {
			t.Errorf("CSP %q", csp)
		}
	}

	empty := e.login(id, "", "", nil)
	if empty.Status != http.StatusUnprocessableEntity ||
		!regexp.MustCompile(`<p class="field-error" id="email-error">Enter your email address.</p>\s*<input id="email"[^>]*aria-invalid="true" aria-describedby="email-error">`).MatchString(empty.Body) ||
		!strings.Contains(empty.Body, `<p class="field-error" id="password-error">Enter your password.</p>`) {
		t.Errorf("empty form: %d %s", empty.Status, empty.Body)
	}

	wrong := e.login(id, "max@district.example", "wrong password", nil)
	unknown := e.login(id, "nobody@district.example", "wrong password", nil)
	strip := func(s string) string { return strings.ReplaceAll(s, "nobody@district.example", "max@district.example") }
	if wrong.Status != http.StatusUnprocessableEntity || wrong.Status != unknown.Status || wrong.Body != strip(unknown.Body) {
		t.Errorf("unknown email answers differently from a wrong password:\n%d %s\n%d %s", wrong.Status, wrong.Body, unknown.Status, unknown.Body)
	}
	if !strings.Contains(wrong.Body, `aria-describedby="password-error"`) || !strings.Contains(wrong.Body, `value="max@district.example"`) {
		t.Errorf("wrong password: error not beside the password field, or email not kept: %s", wrong.Body)
	}

	// Expired or unknown requests, and cross-site posts, are refused.
	if r := e.get(e.URL + "/idp/login?authRequestID=nope"); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "expired") {
		t.Errorf("unknown request: %d", r.Status)
	}
	if r := e.login(id, "max@district.example", "correct horse battery staple", map[string]string{"Sec-Fetch-Site": "cross-site"}); r.Status != http.StatusForbidden {
		t.Errorf("cross-site sign-in post: %d, want 403", r.Status)
	}
	// A completed request cannot be completed again.
	if r := e.login(id, "max@district.example", "correct horse battery staple", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("sign in: %d", r.Status)
	}
	if r := e.login(id, "max@district.example", "correct horse battery staple", nil); r.Status != http.StatusBadRequest {
		t.Errorf("second sign-in on one request: %d, want 400", r.Status)
	}
}

func TestAddUser(t *testing.T) {
	ctx := context.Background()
	b := newBucket(t)
	gen, err := idp.AddUser(ctx, b, "Nia@District.Example", "publisher", "plc-math-4", "")
	if err != nil || len(gen) != 20 {
		t.Fatalf("generated password %q, %v", gen, err)
	}
	if pw, err := idp.AddUser(ctx, b, "ola@district.example", "admin", "", "a chosen passphrase"); err != nil || pw != "" {
		t.Fatalf("given password: %q, %v", pw, err)
	}
	for _, tc := range []struct {
		email, role, team, pw string
		want                  error
	}{
		{"nia@district.example", "teacher", "", "another long password", idp.ErrAccountExists},
		{"NIA@district.example", "teacher", "", "another long password", idp.ErrAccountExists},
		{"not an email", "teacher", "", "another long password", idp.ErrInvalidAccount},
		{"Name <x@district.example>", "teacher", "", "another long password", idp.ErrInvalidAccount},
		{"x@district.example", "owner", "", "another long password", idp.ErrInvalidAccount},
		{"x@district.example", "publisher", "", "another long password", idp.ErrInvalidAccount},
		{"x@district.example", "teacher", "", "short", idp.ErrInvalidAccount},
		{"x@district.example", "teacher", "bad\nteam", "another long password", idp.ErrInvalidAccount},
	} {
		if _, err := idp.AddUser(ctx, b, tc.email, tc.role, tc.team, tc.pw); !errors.Is(err, tc.want) {
			t.Errorf("AddUser(%q, %q, %q): %v, want %v", tc.email, tc.role, tc.team, err, tc.want)
		}
	}

	// Stored: argon2id hash, never the password; the generated password signs in.
	rc, _, err := b.Get(ctx, "node/accounts/"+idp.AccountID("nia@district.example")+".json")
	if err != nil {
		t.Fatal(err)
	}
	var stored idp.Account
	if err := jsonDecode(rc, &stored); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stored.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(stored.PasswordHash, gen) ||
		stored.Email != "nia@district.example" || string(stored.Roles[0]) != "publisher" || stored.Teams[0] != "plc-math-4" {
		t.Errorf("stored account %+v", stored)
	}
	e := startEnv(t, idp.Config{}, b)
	id := e.authorize(oauth2.GenerateVerifier(), "n")
	if r := e.login(id, "NIA@district.example", gen, nil); r.Status != http.StatusSeeOther {
		t.Errorf("generated password does not sign in: %d", r.Status)
	}
}

// TestOthersCannotLockTheOwnerOut: someone guessing an account's password from their own address,
// or from many, cannot stop its owner signing in from the owner's usual address. Five wrong
// passwords from anywhere used to lock the account for everyone, renewably for ever.
func TestOthersCannotLockTheOwnerOut(t *testing.T) {
	cfg := idp.Config{ClientIP: echo.ExtractIPFromXFFHeader(echo.TrustLoopback(true), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false))}
	e := startEnv(t, cfg, nil)
	pw := addUser(t, e.Bucket, "kim@district.example", "teacher", "")
	from := func(addr string) map[string]string { return map[string]string{"X-Forwarded-For": addr} }
	owner := from("192.0.2.10")
	if r := e.login(e.authorize(oauth2.GenerateVerifier(), "n"), "kim@district.example", pw, owner); r.Status != http.StatusSeeOther {
		t.Fatalf("owner's first sign-in: %d %s", r.Status, r.Body)
	}

	// One guesser, many guesses: they back off, exponentially.
	id := e.authorize(oauth2.GenerateVerifier(), "n")
	counts := map[int]int{}
	for range 200 {
		counts[e.login(id, "kim@district.example", "guess", from("203.0.113.7")).Status]++
	}
	if counts[http.StatusUnprocessableEntity] != 5 {
		t.Errorf("one address guessing: %v, want 5 checked and the rest throttled", counts)
	}
	// The guesser's wait grows: one more guess after 30 s, then 60 s.
	e.Clock.Advance(31 * time.Second)
	if r := e.login(id, "kim@district.example", "guess", from("203.0.113.7")); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("guesser after the first backoff: %d, want one more checked guess", r.Status)
		// Guessing spread over many addresses uses up the account's budget for strangers.
		for i := range 60 {
			e.login(id, "kim@district.example", "guess", from(fmt.Sprintf("198.51.100.%d", i)))
		}
		if r := e.login(id, "kim@district.example", pw, from("192.0.2.99")); r.Status != http.StatusTooManyRequests {
			t.Errorf("the right password from a new address while the account is under attack: %d, want 429", r.Status)
		}
		// The owner, at their usual address, signs in.
		if r := e.login(e.authorize(oauth2.GenerateVerifier(), "n"), "kim@district.example", pw, owner); r.Status != http.StatusSeeOther {
			t.Fatalf("the owner at their usual address during the attack: %d, want to sign in", r.Status)
		}
	}
	e.Clock.Advance(31 * time.Second)
	if r := e.login(id, "kim@district.example", "guess", from("203.0.113.7")); r.Status != http.StatusTooManyRequests {
		t.Errorf("guesser 31 s after the sixth failure: %d, want 429 (the wait doubled to 60 s)", r.Status)
	}
}
