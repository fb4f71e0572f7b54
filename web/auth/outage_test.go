package auth_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/brightspots-nic/brightspots/storage"
)

// outageBucket is a store whose reads fail as an unreachable store's do while down is set.
type outageBucket struct {
	storage.Bucket
	down *atomic.Bool
}

func (b outageBucket) Get(ctx context.Context, key string) (io.ReadCloser, storage.ObjectInfo, error) {
	if b.down.Load() {
		return nil, storage.ObjectInfo{}, fmt.Errorf("get %q: %w", key, storage.ErrUnavailable)
	}
	return b.Bucket.Get(ctx, key)
}

// A store that does not answer for a moment must not sign anyone out: the session cookie stays, the
// request is not served as anonymous (an error, not a 401 or a signed-out page), and once the store
// is back the same session works. It used to clear the cookie on any store error.
func TestSessionSurvivesAStoreOutage(t *testing.T) {
	down := new(atomic.Bool)
	n := startNode(t, nodeOptions{bucket: outageBucket{newBucket(t), down}})
	pw := addUser(t, n.Bucket, "dee@district.example", "teacher", "")
	b := newBrowser(t)
	b.signIn(n.URL, "dee@district.example", pw, "/")
	if got := str(b.me(n.URL)["Subject"]); got == "" {
		t.Fatal("signed in, but /me shows no subject")
	}

	down.Store(true)
	p := b.get(n.URL + "/me")
	if p.Status == http.StatusOK || p.Status == http.StatusUnauthorized || strings.Contains(p.Body, "anonymous") {
		t.Errorf("/me with the store down: %d %q, want an error that is not a sign-out", p.Status, p.Body)
	}
	for _, c := range p.Header.Values("Set-Cookie") {
		if strings.Contains(c, "bs_session") {
			t.Errorf("the store outage changed the session cookie: %s", c)
		}
	}
	down.Store(false)
	if got := str(b.me(n.URL)["Subject"]); got == "" {
		t.Fatal("after the outage the session is gone")
	}
}
