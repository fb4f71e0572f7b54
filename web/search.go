package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"

	"github.com/labstack/echo/v4"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/search"
	"github.com/brightspots-nic/brightspots/search/bleve"
	"github.com/brightspots-nic/brightspots/search/meili"
)

// OpenIndex opens the search index cfg names.
func OpenIndex(ctx context.Context, cfg Config) (search.Index, error) {
	syn, err := search.LoadSynonyms(cfg.Search.SynonymsFile)
	if err != nil {
		return nil, fmt.Errorf("search.synonyms_file: %w", err)
	}
	switch cfg.Search.Kind {
	case "meilisearch":
		mc := cfg.Search.Meilisearch
		mc.Synonyms = syn
		idx, err := meili.Open(ctx, mc)
		if err != nil {
			return nil, fmt.Errorf("search.meilisearch: %w", err)
		}
		return idx, nil
	default:
		idx, err := bleve.Open(bleve.Config{Dir: filepath.Join(cfg.DataDir, "search"), Synonyms: syn})
		if err != nil {
			return nil, fmt.Errorf("search index in data_dir: %w", err)
		}
		return idx, nil
	}
}

// indexPrincipal is the view the index is built with: a member of the district, who sees every
// published record (the search filter then narrows by the caller's audience).
var indexPrincipal = practices.Principal{Kind: "session", Subject: "system:indexer"}

// practiceEvidence gives the indexer a practice's pooled evidence for its search document.
func (s *Server) indexEvidence(ctx context.Context, p *practices.Practice) (search.Evidence, error) {
	sum, tests, err := s.repo.EvidenceWithTests(ctx, indexPrincipal, p.URI, s.cfg.Privacy.MinN)
	if err != nil {
		return search.Evidence{}, err
	}
	ev := search.Evidence{Level: sum.Level, TestCount: sum.Tests, DistrictCount: sum.Districts}
	// The pooled effect shown and sorted on is the strongest design family's: comparison designs
	// when there are any, otherwise single-group pre/post.
	for _, pool := range sum.Pools {
		est := pool.Result.Estimate
		if ev.PooledEffect == nil || pool.Family != "single_group" {
			ev.PooledEffect = &est
		}
	}
	seenD, seenDec := map[string]bool{}, map[string]bool{}
	for _, t := range tests {
		if !seenD[t.Design] {
			seenD[t.Design] = true
			ev.Designs = append(ev.Designs, t.Design)
		}
		if t.Decision != "" && !seenDec[t.Decision] {
			seenDec[t.Decision] = true
			ev.Decisions = append(ev.Decisions, t.Decision)
		}
	}
	return ev, nil
}

// search answers GET /api/v1/search with only what the caller may see.
func (s *Server) search(c echo.Context) error {
	q, err := search.ParseQuery(c.QueryParams())
	if err != nil {
		return searchProblem(err)
	}
	q.Audience = search.AudienceOf(principal(c))
	res, err := s.index.Search(c.Request().Context(), q)
	if err != nil {
		return searchProblem(err)
	}
	return c.JSON(http.StatusOK, res)
}

func searchProblem(err error) error {
	var qe *search.QueryError
	if errors.As(err, &qe) {
		return fieldProblem(http.StatusBadRequest, "search-query", qe.Param, "invalid", qe.Rule)
	}
	return err // an engine error: logged with the request id, never shown
}
