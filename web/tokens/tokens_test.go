package tokens_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/storage/fs"
	"github.com/brightspots-nic/brightspots/web/tokens"
)

func TestTokens(t *testing.T) {
	ctx := context.Background()
	b, err := fs.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := tokens.New(b)
	secret, tok, err := s.Create(ctx, "nightly import", "publisher", "math-4")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, tokens.Prefix) || len(secret) < 40 {
		t.Fatalf("secret %q", secret)
	}
	// Only the hash is stored: the secret appears in no object.
	objs, _ := b.List(ctx, storage.ListOptions{Prefix: ""})
	for _, o := range objs {
		rc, _, _ := b.Get(ctx, o.Key)
		data, _ := io.ReadAll(rc)
		rc.Close()
		if strings.Contains(string(data), secret) || strings.Contains(string(data), secret[len(tokens.Prefix):]) {
			t.Fatalf("secret stored in %s", o.Key)
		}
	}
	p, err := s.Resolve(ctx, secret)
	ok := err == nil
	if !ok || p.Kind != "token" || !p.Has(practices.RolePublisher) || !p.InTeam("math-4") || p.Has(practices.RoleAdmin) {
		t.Fatalf("resolve: %v %+v", ok, p)
	}
	for _, bad := range []string{"", "bsk_", secret + "x", strings.ToUpper(secret), "Bearer " + secret} {
		if _, err := s.Resolve(ctx, bad); !errors.Is(err, tokens.ErrUnknown) {
			t.Errorf("resolved %q", bad)
		}
	}
	if _, err := s.Revoke(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resolve(ctx, secret); !errors.Is(err, tokens.ErrUnknown) {
		t.Fatal("revoked token still resolves")
	}
	list, _ := s.List(ctx)
	if len(list) != 1 || list[0].RevokedAt == nil || list[0].Name != "nightly import" {
		t.Fatalf("list: %+v", list)
	}
}

func TestTokenCreateRefusesBadInput(t *testing.T) {
	b, _ := fs.Open(t.TempDir())
	s := tokens.New(b)
	cases := []struct{ name, role, team, flag string }{
		{"", "teacher", "", "--name"},
		{"x", "superuser", "", "--role"},
		{"x", "publisher", "", "--team"},
		{"x", "teacher", "../etc", "--team"},
		{"x", "teacher", "bad\tteam", "--team"},
		{"bad\nname", "teacher", "", "--name"},
	}
	for _, c := range cases {
		if _, _, err := s.Create(context.Background(), c.name, c.role, c.team); err == nil || !strings.Contains(err.Error(), c.flag) {
			t.Errorf("Create(%q,%q,%q): %v, want an error naming %s", c.name, c.role, c.team, err, c.flag)
		}
	}
}

// A token takes every team name sign-in takes (practices.CheckTeam is the one rule), not a narrower
// set: a PLC named with accents or punctuation signs in and gets a token alike.
func TestTokenTakesTheTeamsSignInTakes(t *testing.T) {
	b, _ := fs.Open(t.TempDir())
	s := tokens.New(b)
	for _, team := range []string{"Équipe de mathématiques", "Grade 4 (Math) PLC", "ela+3"} {
		if err := practices.CheckTeam(team); err != nil {
			t.Fatalf("%q: %v", team, err)
		}
		if _, tok, err := s.Create(context.Background(), "x", "publisher", team); err != nil || tok.Team != team {
			t.Errorf("Create with team %q: %v", team, err)
		}
	}
}

// failingBucket is a store that cannot be reached.
type failingBucket struct{ storage.Bucket }

func (failingBucket) Get(context.Context, string) (io.ReadCloser, storage.ObjectInfo, error) {
	return nil, storage.ObjectInfo{}, fmt.Errorf("get: %w", storage.ErrUnavailable)
}

// A store that cannot be reached says nothing about a token: Resolve must not call it unknown (the
// API answered 401 "unknown or revoked" for valid tokens during a store outage).
func TestResolveDuringAStoreOutage(t *testing.T) {
	ctx := context.Background()
	b, err := fs.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := tokens.New(b).Create(ctx, "nightly import", "publisher", "math-4")
	if err != nil {
		t.Fatal(err)
	}
	_, err = tokens.New(failingBucket{b}).Resolve(ctx, secret)
	if err == nil || errors.Is(err, tokens.ErrUnknown) || !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("Resolve with the store unreachable: %v, want the store's error, not ErrUnknown", err)
	}
}
