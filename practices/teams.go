package practices

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/brightspots-nic/brightspots/storage"
)

// RecordTeams returns the teams that own a local practice, test or collection in bucket, in no
// particular order: the teams the node has seen. It lists the listing index (listindex.go) — key
// names only, a head read only for a team name too long to be written in a key — and falls back to
// reading every head in a store whose index has not been built yet. It is for deliberate acts (a
// token's creation, the admin's team picker), not for every request.
func RecordTeams(ctx context.Context, bucket storage.Bucket) (map[string]bool, error) {
	if _, err := bucket.Stat(ctx, listIndexMarker); errors.Is(err, storage.ErrNotFound) {
		return recordTeamsFromHeads(ctx, bucket)
	} else if err != nil {
		return nil, err
	}
	teams := map[string]bool{}
	for _, kind := range []Kind{KindPractice, KindTest, KindCollection} {
		err := eachKey(ctx, bucket, indexAllPrefix(kind), func(o storage.ObjectInfo) error {
			e, ok := parseEntry(o.Key[strings.LastIndexByte(o.Key, '/')+1:])
			if !ok || e.Team == "" {
				return nil
			}
			if !strings.HasPrefix(e.Team, "%h") {
				if team, err := url.PathUnescape(e.Team); err == nil {
					teams[team] = true
					return nil
				}
			}
			var head struct {
				Team string `json:"team"`
			}
			if err := getJSON(ctx, bucket, headKey(kind, e.ID), &head); err == nil && head.Team != "" {
				teams[head.Team] = true
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return teams, nil
}

// recordTeamsFromHeads is RecordTeams for a store without a listing index: every head is read.
func recordTeamsFromHeads(ctx context.Context, bucket storage.Bucket) (map[string]bool, error) {
	teams := map[string]bool{}
	for _, kind := range []Kind{KindPractice, KindTest, KindCollection} {
		err := eachKey(ctx, bucket, "records/"+string(kind)+"/", func(o storage.ObjectInfo) error {
			if !strings.HasSuffix(o.Key, "/head.json") {
				return nil
			}
			var head struct {
				Team   string `json:"team"`
				Status Status `json:"status"`
			}
			if err := getJSON(ctx, bucket, o.Key, &head); err != nil {
				return nil // a head being replaced or damaged names no team; the next one may
			}
			if head.Team != "" && head.Status != StatusDeleted {
				teams[head.Team] = true
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return teams, nil
}
