package web

import (
	"context"
	"slices"

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
