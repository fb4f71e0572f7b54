package practices

import (
	"context"
	"strings"

	"github.com/brightspots-nic/brightspots/storage"
)

// RecordTeams returns the teams that own a local practice, test or collection in bucket (deleted
// ones included: a team that once wrote here is a team the node has seen), in no particular order.
// It reads every record's head, so it is for rare, deliberate acts — a token's creation, an admin's
// team picker — not for every request.
func RecordTeams(ctx context.Context, bucket storage.Bucket) (map[string]bool, error) {
	teams := map[string]bool{}
	for _, kind := range []Kind{KindPractice, KindTest, KindCollection} {
		prefix := "records/" + string(kind) + "/"
		start := ""
		for {
			objs, err := bucket.List(ctx, storage.ListOptions{Prefix: prefix, StartAfter: start, Limit: 1000})
			if err != nil {
				return nil, err
			}
			for _, o := range objs {
				start = o.Key
				if !strings.HasSuffix(o.Key, "/head.json") {
					continue
				}
				var head struct {
					Team string `json:"team"`
				}
				if err := getJSON(ctx, bucket, o.Key, &head); err != nil {
					continue // a head being replaced or damaged names no team; the next one may
				}
				if head.Team != "" {
					teams[head.Team] = true
				}
			}
			if len(objs) < 1000 {
				break
			}
		}
	}
	return teams, nil
}
