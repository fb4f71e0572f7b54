package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/brightspots-nic/brightspots/storage"
)

// PeerStatus is what an operator can learn about a peer without the running server's memory: when
// this node last applied a page from it (kept in the store), and whether its discovery documents
// answer now and name the URL configured for it.
type PeerStatus struct {
	PeerConfig
	LastPageAt time.Time `json:"last_page_at,omitzero"` // zero: never synced
	Reachable  bool      `json:"reachable"`
	// Problem says in one line what is wrong with the peer's discovery, or is empty.
	Problem string `json:"problem,omitempty"`
}

// Status probes every configured peer (and only those) and reads the stored sync state.
func (f *Member) Status(ctx context.Context) []PeerStatus {
	out := make([]PeerStatus, len(f.peers))
	for i, p := range f.peers {
		st := PeerStatus{PeerConfig: p.cfg}
		if s, err := p.loadState(ctx); err == nil {
			st.LastPageAt = s.UpdatedAt
		}
		st.Problem = p.probe(ctx)
		st.Reachable = !strings.HasPrefix(st.Problem, "unreachable")
		out[i] = st
	}
	return out
}

func (p *peer) loadState(ctx context.Context) (syncState, error) {
	var st syncState
	rc, _, err := p.f.repo.Bucket().Get(ctx, p.stateKey())
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return st, nil
		}
		return st, err
	}
	defer rc.Close()
	err = json.NewDecoder(io.LimitReader(rc, 64<<10)).Decode(&st)
	if st.URL != p.cfg.URL {
		return syncState{}, err
	}
	return st, err
}

// probe fetches the peer's node and OpenID discovery documents and checks that both name the URL
// configured for it, returning "" when all is well or a one-line reason.
func (p *peer) probe(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var info NodeInfo
	if err := getDoc(ctx, p.client, p.cfg.URL+"/.well-known/brightspots-node", &info); err != nil {
		return "unreachable: " + err.Error()
	}
	if info.NodeURL != p.cfg.URL {
		return fmt.Sprintf("its node document names %q, not the configured %q", info.NodeURL, p.cfg.URL)
	}
	if !slices.Contains(info.Protocol, "1") {
		return fmt.Sprintf("it speaks protocol %v, not 1", info.Protocol)
	}
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := getDoc(ctx, p.client, p.cfg.URL+"/.well-known/openid-configuration", &disc); err != nil {
		return "OpenID discovery: " + err.Error()
	}
	if disc.Issuer != p.cfg.URL {
		return fmt.Sprintf("its discovery document names issuer %q, not the configured %q", disc.Issuer, p.cfg.URL)
	}
	if disc.JWKSURI == "" {
		return "its discovery document has no jwks_uri"
	}
	return ""
}

func getDoc(ctx context.Context, c *http.Client, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %d", url, res.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(v); err != nil {
		return fmt.Errorf("%s: %w", url, err)
	}
	return nil
}
