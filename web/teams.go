package web

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/web/idp"
	"github.com/brightspots-nic/brightspots/web/tokens"
)

// KnownTeams returns, sorted, every team the node has seen: the owners of its records, the teams of
// its local accounts and of its API tokens. The token pickers offer these, and `brightspots token
// create` refuses any other team unless told --new-team, so a typo ("Math 5th grde PLC") does not
// become a team of its own.
func KnownTeams(ctx context.Context, bucket storage.Bucket) ([]string, error) {
	seen, err := practices.RecordTeams(ctx, bucket)
	if err != nil {
		return nil, err
	}
	accounts, err := idp.AccountTeams(ctx, bucket)
	if err != nil {
		return nil, err
	}
	for t := range accounts {
		seen[t] = true
	}
	all, err := tokens.New(bucket).List(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range all {
		if t.Team != "" {
			seen[t.Team] = true
		}
	}
	out := make([]string, 0, len(seen))
	for t := range seen {
		out = append(out, t)
	}
	slices.Sort(out)
	return out, nil
}

// teamsCache keeps KnownTeams for a minute: finding them lists every record's index key and every
// account and token (8 ms for 1,000 records on a folder store, BENCHMARKS.md; every head on a store
// without a listing index), more than each view of the token page should pay. A team made in that
// minute can still be typed in the form's "new team" field.
type teamsCache struct {
	mu    sync.Mutex
	teams []string
	at    time.Time
}

const knownTeamsTTL = time.Minute

// teams returns the node's known teams, reading them again when the cached list is older than a
// minute or was dropped by forget.
func (s *Server) teams(ctx context.Context) ([]string, error) {
	c := &s.knownTeams
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.teams != nil && time.Since(c.at) < knownTeamsTTL {
		return c.teams, nil
	}
	teams, err := KnownTeams(ctx, s.repo.Bucket())
	if err != nil {
		return nil, err
	}
	c.teams, c.at = teams, time.Now()
	return teams, nil
}

// teamSuggestions are the teams a form offers a caller who belongs to none (an admin), who types the
// team a new record belongs to: the node's known teams, as suggestions beside the free text. Nil for
// everyone else, and when the teams cannot be read (the field still takes any team).
func (s *Server) teamSuggestions(ctx context.Context, p practices.Principal) []string {
	if len(p.Teams) > 0 {
		return nil
	}
	teams, err := s.teams(ctx)
	if err != nil {
		s.logger.Warn("known teams for a form", "err", err)
		return nil
	}
	return teams
}

// forgetTeams drops the cached list (a token for a new team was just made).
func (s *Server) forgetTeams() {
	s.knownTeams.mu.Lock()
	s.knownTeams.teams = nil
	s.knownTeams.mu.Unlock()
}
