package idp

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
)

// Errors callers branch on.
var (
	// ErrAccountExists: AddUser or AddAccount for an email that already has an account.
	ErrAccountExists = errors.New("idp: account exists")
	// ErrInvalidAccount: the account's email, role, team or password is not acceptable.
	ErrInvalidAccount = errors.New("idp: invalid account")
)

// MinPasswordLength is the shortest password AddUser accepts.
const MinPasswordLength = 12

const accountPrefix = "node/accounts/"

// Account is a local account of the embedded provider, as stored at node/accounts/{ID}.json.
type Account struct {
	ID    string `json:"id"` // the OIDC subject; derived from the email by AccountID
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
	// Roles beyond teacher, emitted in the "roles" claim.
	Roles []practices.Role `json:"roles,omitempty"`
	// Teams (PLCs), emitted in the "teams" claim.
	Teams []string `json:"teams,omitempty"`
	// Groups, emitted in the "groups" claim: free-form, for a provider that plays an external IdP.
	Groups       []string  `json:"groups,omitempty"`
	PasswordHash string    `json:"password_hash"` // argon2id, PHC string form
	Created      time.Time `json:"created"`
}

// AccountID returns the account id (and OIDC subject) for email: a hash of the lower-cased address,
// so the key reveals nothing and every spelling of one address names one account.
func AccountID(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return hex.EncodeToString(sum[:16])
}

func accountKey(id string) string { return accountPrefix + id + ".json" }

// AddUser creates a local account with one role and, optionally, one team. It is what
// `brightspots user add --email E --role R [--team T]` calls. When password is empty a random one is
// generated and returned (once: only its hash is stored); otherwise generated is empty. A publisher
// needs a team. An existing account is an ErrAccountExists error.
func AddUser(ctx context.Context, bucket storage.Bucket, email, role, team, password string) (generated string, err error) {
	r, ok := practices.ParseRole(role)
	if !ok {
		return "", fmt.Errorf("add user: role %q is not one of teacher, publisher, coordinator, admin: %w", role, ErrInvalidAccount)
	}
	if r == practices.RolePublisher && team == "" {
		return "", fmt.Errorf("add user: a publisher needs a team: %w", ErrInvalidAccount)
	}
	a := Account{Email: email}
	if r != practices.RoleTeacher {
		a.Roles = []practices.Role{r}
	}
	if team != "" {
		a.Teams = []string{team}
	}
	if password == "" {
		generated = newPassword()
		password = generated
	}
	if err := AddAccount(ctx, bucket, a, password); err != nil {
		return "", fmt.Errorf("add user: %w", err)
	}
	return generated, nil
}

// AddAccount stores a, with the argon2id hash of password, under a.Email. ID, PasswordHash and
// Created are set here; the email is lower-cased. It never overwrites an existing account.
func AddAccount(ctx context.Context, bucket storage.Bucket, a Account, password string) error {
	addr, err := mail.ParseAddress(a.Email)
	if err != nil || addr.Address != strings.TrimSpace(a.Email) {
		return fmt.Errorf("account %q: not a plain email address: %w", a.Email, ErrInvalidAccount)
	}
	if len(password) < MinPasswordLength {
		return fmt.Errorf("account %s: password shorter than %d characters: %w", addr.Address, MinPasswordLength, ErrInvalidAccount)
	}
	for _, r := range a.Roles {
		if _, ok := practices.ParseRole(string(r)); !ok {
			return fmt.Errorf("account %s: unknown role %q: %w", addr.Address, r, ErrInvalidAccount)
		}
	}
	for _, t := range slices.Concat(a.Teams, a.Groups) {
		if err := practices.CheckTeam(t); err != nil {
			return fmt.Errorf("account %s: team or group %q: %v: %w", addr.Address, t, err, ErrInvalidAccount)
		}
	}
	a.Email = strings.ToLower(addr.Address)
	a.ID = AccountID(a.Email)
	a.PasswordHash = hashPassword(password)
	if a.Created.IsZero() {
		a.Created = time.Now().UTC()
	}
	body, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("account %s: encode: %w", a.Email, err)
	}
	_, err = bucket.Put(ctx, accountKey(a.ID), bytes.NewReader(body), int64(len(body)),
		storage.PutOptions{IfNoneMatch: true, ContentType: "application/json"})
	if errors.Is(err, storage.ErrConflict) {
		return fmt.Errorf("account %s: %w", a.Email, ErrAccountExists)
	}
	if err != nil {
		return fmt.Errorf("account %s: store: %w", a.Email, err)
	}
	return nil
}

// loadAccount reads the account with id; a missing account is storage.ErrNotFound.
func loadAccount(ctx context.Context, bucket storage.Bucket, id string) (Account, error) {
	var a Account
	if !isHex(id) {
		return a, fmt.Errorf("account %q: %w", id, storage.ErrNotFound)
	}
	rc, _, err := bucket.Get(ctx, accountKey(id))
	if err != nil {
		return a, fmt.Errorf("account %s: %w", id, err)
	}
	defer rc.Close()
	if err := json.NewDecoder(io.LimitReader(rc, 1<<20)).Decode(&a); err != nil {
		return a, fmt.Errorf("account %s: decode: %w", id, err)
	}
	return a, nil
}

func isHex(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// newPassword returns a random password of 20 characters from an unambiguous alphabet (~115 bits).
func newPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	return randomString(alphabet, 20)
}

func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	buf := make([]byte, 1)
	for i := 0; i < n; {
		if _, err := rand.Read(buf); err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
		// Rejection sampling keeps the choice uniform.
		if int(buf[0]) >= 256-256%len(alphabet) {
			continue
		}
		b[i] = alphabet[int(buf[0])%len(alphabet)]
		i++
	}
	return string(b)
}

// argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

func hashPassword(password string) string {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		panic(err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// dummyHash is verified against when an email has no account, so the answer takes as long.
var dummyHash = hashPassword("not a password anyone has")

// verifyPassword reports whether password matches the PHC-encoded argon2id hash.
func verifyPassword(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	// Bound the cost so a corrupted record cannot make one sign-in exhaust the machine.
	if m == 0 || m > 1<<20 || t == 0 || t > 10 || p == 0 || p > 16 {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 64 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// AccountTeams returns the teams named by the local accounts in bucket.
func AccountTeams(ctx context.Context, bucket storage.Bucket) (map[string]bool, error) {
	teams := map[string]bool{}
	start := ""
	for {
		objs, err := bucket.List(ctx, storage.ListOptions{Prefix: accountPrefix, StartAfter: start, Limit: 1000})
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			start = o.Key
			id := strings.TrimSuffix(strings.TrimPrefix(o.Key, accountPrefix), ".json")
			a, err := loadAccount(ctx, bucket, id)
			if err != nil {
				continue // not an account file
			}
			for _, t := range a.Teams {
				teams[t] = true
			}
		}
		if len(objs) < 1000 {
			return teams, nil
		}
	}
}
