// Package tokens keeps API tokens for scripts and integrations: named, scoped to one role and
// optionally one team, stored only as SHA-256 hashes in the object store, shown once at creation and
// revocable. A token resolves to the same practices.Principal a browser session does, so one set of
// authorization checks serves both.
package tokens

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
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
)

// Prefix marks Bright Spots API tokens so secret scanners and people can recognise them.
const Prefix = "bsk_"

const keyPrefix = "node/tokens/"

// Token is what is stored about a token. The secret itself is never stored.
type Token struct {
	ID        string     `json:"id"`   // first 12 hex digits of the hash: safe to show and log
	Hash      string     `json:"hash"` // SHA-256 of the secret, hex
	Name      string     `json:"name"`
	Role      string     `json:"role"`
	Team      string     `json:"team,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Store creates, lists, revokes and resolves tokens.
type Store struct {
	bucket storage.Bucket
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]cached // by hash; short-lived so a revocation on another replica takes effect soon
}

type cached struct {
	tok Token
	at  time.Time
}

// cacheTTL bounds how long a revoked token can still be used on another replica.
const cacheTTL = 10 * time.Second

// New returns a Store over bucket.
func New(bucket storage.Bucket) *Store {
	return &Store{bucket: bucket, now: time.Now, cache: map[string]cached{}}
}

var namePattern = regexp.MustCompile(`^[\p{L}\p{N} ._-]{1,80}$`)

// Create makes a token and returns its secret (shown once) and its record.
func (s *Store) Create(ctx context.Context, name, role, team string) (string, Token, error) {
	if !namePattern.MatchString(name) {
		return "", Token{}, errors.New("--name: 1 to 80 letters, digits, spaces, dots, dashes or underscores")
	}
	r, ok := practices.ParseRole(role)
	if !ok {
		return "", Token{}, fmt.Errorf("--role: must be teacher, publisher, coordinator or admin (got %q)", role)
	}
	if r == practices.RolePublisher && team == "" {
		return "", Token{}, errors.New("--team: a publisher token must name its team")
	}
	if team != "" {
		var fe *practices.FieldError
		if errors.As(practices.CheckTeam(team), &fe) {
			return "", Token{}, errors.New("--team: " + fe.Message)
		}
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", Token{}, err
	}
	secret := Prefix + base64.RawURLEncoding.EncodeToString(raw)
	h := hashOf(secret)
	t := Token{ID: h[:12], Hash: h, Name: name, Role: string(r), Team: team, CreatedAt: s.now().UTC().Truncate(time.Second)}
	body, _ := json.Marshal(t)
	if _, err := s.bucket.Put(ctx, keyPrefix+h+".json", bytes.NewReader(body), int64(len(body)),
		storage.PutOptions{IfNoneMatch: true, ContentType: "application/json"}); err != nil {
		return "", Token{}, fmt.Errorf("store token: %w", err)
	}
	return secret, t, nil
}

func hashOf(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// List returns every token, revoked ones included.
func (s *Store) List(ctx context.Context) ([]Token, error) {
	var out []Token
	start := ""
	for {
		objs, err := s.bucket.List(ctx, storage.ListOptions{Prefix: keyPrefix, StartAfter: start, Limit: 1000})
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			start = o.Key
			t, err := s.read(ctx, o.Key)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
		if len(objs) < 1000 {
			return out, nil
		}
	}
}

func (s *Store) read(ctx context.Context, key string) (Token, error) {
	rc, _, err := s.bucket.Get(ctx, key)
	if err != nil {
		return Token{}, err
	}
	defer rc.Close()
	var t Token
	data, err := io.ReadAll(io.LimitReader(rc, 64<<10))
	if err != nil {
		return Token{}, err
	}
	if err := json.Unmarshal(data, &t); err != nil {
		return Token{}, fmt.Errorf("decode %s: %w", key, err)
	}
	return t, nil
}

// ErrUnknown: no such token.
var ErrUnknown = errors.New("no such token")

// Revoke marks the token whose id (or name, when unique) is given as revoked.
func (s *Store) Revoke(ctx context.Context, idOrName string) (Token, error) {
	all, err := s.List(ctx)
	if err != nil {
		return Token{}, err
	}
	var match []Token
	for _, t := range all {
		if t.ID == idOrName || t.Name == idOrName {
			match = append(match, t)
		}
	}
	switch len(match) {
	case 0:
		return Token{}, fmt.Errorf("%w: %q", ErrUnknown, idOrName)
	case 1:
	default:
		return Token{}, fmt.Errorf("%d tokens are named %q: revoke by id", len(match), idOrName)
	}
	t := match[0]
	if t.RevokedAt == nil {
		now := s.now().UTC().Truncate(time.Second)
		t.RevokedAt = &now
		body, _ := json.Marshal(t)
		if _, err := s.bucket.Put(ctx, keyPrefix+t.Hash+".json", bytes.NewReader(body), int64(len(body)),
			storage.PutOptions{ContentType: "application/json"}); err != nil {
			return Token{}, err
		}
	}
	s.mu.Lock()
	delete(s.cache, t.Hash)
	s.mu.Unlock()
	return t, nil
}

// Cached reports whether secret's record is in the cache, fresh: resolving it then reads nothing
// from the store. Callers limit the lookups that do reach the store.
func (s *Store) Cached(secret string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cache[hashOf(secret)]
	return ok && s.now().Sub(c.at) <= cacheTTL
}

// Resolve returns the principal of a bearer secret. An unknown or revoked token is ErrUnknown; any
// other error is the store's (unreachable, say) and says nothing about the token, so callers must
// not report it as an unknown token.
func (s *Store) Resolve(ctx context.Context, secret string) (practices.Principal, error) {
	if !strings.HasPrefix(secret, Prefix) || len(secret) > 100 {
		return practices.Principal{}, ErrUnknown
	}
	h := hashOf(secret)
	s.mu.Lock()
	c, ok := s.cache[h]
	s.mu.Unlock()
	if !ok || s.now().Sub(c.at) > cacheTTL {
		t, err := s.read(ctx, keyPrefix+h+".json")
		if errors.Is(err, storage.ErrNotFound) {
			return practices.Principal{}, ErrUnknown
		}
		if err != nil {
			return practices.Principal{}, fmt.Errorf("resolve token: %w", err)
		}
		c = cached{tok: t, at: s.now()}
		s.mu.Lock()
		if len(s.cache) > 10000 {
			clear(s.cache)
		}
		s.cache[h] = c
		s.mu.Unlock()
	}
	t := c.tok
	// The key is the hash, but compare anyway so a corrupted record cannot match another secret.
	if subtle.ConstantTimeCompare([]byte(t.Hash), []byte(h)) != 1 || t.RevokedAt != nil {
		return practices.Principal{}, ErrUnknown
	}
	p := practices.Principal{Kind: "token", Subject: "token:" + t.ID, Name: t.Name, Roles: []practices.Role{practices.Role(t.Role)}}
	if t.Team != "" {
		p.Teams = []string{t.Team}
	}
	return p, nil
}
