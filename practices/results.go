package practices

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/brightspots-nic/brightspots/practices/evidence"
	"github.com/brightspots-nic/brightspots/storage"
)

// Results of a test live in two places:
//
//   - the published view (evidence.Results: suppressed, coarsened) inside the Test record, the only
//     form that ever leaves the district;
//   - the team's internal view (evidence.Analysis: unsuppressed aggregates, never rows) under
//     node/results/{test-id}/v{version}.json, with the audit entry under node/audit/results/….
//
// Score rows are never stored anywhere: they exist only in memory during the computation.

func internalResultsKey(id string, v int) string {
	return fmt.Sprintf("node/results/%s/v%08d.json", id, v)
}

// ResultsOptions builds the computation's options from the test's plan.
func ResultsOptions(t *Test, minimumN int) (evidence.Options, error) {
	var c checker
	if t.Assessment == nil {
		c.add("assessment", "required", "must be planned (name, score range, proficiency cut) before results are uploaded")
	} else if t.Assessment.ScoreMax <= t.Assessment.ScoreMin {
		c.add("assessment.score_max", "range", "must be greater than score_min before results are uploaded")
	}
	if t.Prediction == nil {
		c.add("prediction", "required", "must be stated before results are uploaded: a prediction is made before the data")
	}
	if err := c.err(); err != nil {
		return evidence.Options{}, err
	}
	return evidence.Options{
		Design: evidence.Design(t.Design), ScoreMin: t.Assessment.ScoreMin, ScoreMax: t.Assessment.ScoreMax,
		ProficiencyCut: t.Assessment.ProficiencyCut, MinimumN: minimumN,
	}, nil
}

// RecordResults stores freshly computed results for a test as a new version. Once the test is
// published its results are immutable except as a correction, which is refused when it changes a
// published count by less than the minimum (that difference would single out students).
func (r *Repo) RecordResults(ctx context.Context, p Principal, id string, a *evidence.Analysis) (*Test, error) {
	var previous map[string]int
	rec, err := r.Mutate(ctx, p, KindTest, id, func(cur Record) error {
		t := cur.(*Test)
		if t.Status == StatusWithdrawn {
			return &StateError{Msg: "a withdrawn test cannot take new results"}
		}
		if t.Status == StatusPublished && t.Results != nil {
			prev, err := r.InternalResults(ctx, id)
			if err != nil {
				return fmt.Errorf("load previous results: %w", err)
			}
			previous = prev.PublishedCounts
			if err := evidence.CheckCorrection(previous, a.PublishedCounts(), a.MinimumN); err != nil {
				return &StateError{Msg: "this correction changes a published count by fewer than " +
					fmt.Sprint(a.MinimumN) + " students, which would single students out; it is refused"}
			}
		}
		t.Results = a.Results()
		if t.PredictionMet == "" || t.Status != StatusPublished {
			t.PredictionMet = PredictionMet(t.Prediction, a)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	t := rec.(*Test)
	internal := InternalResults{Analysis: a, PublishedCounts: a.PublishedCounts(), Version: t.Version}
	if err := putJSON(ctx, r.bucket, internalResultsKey(id, t.Version), internal, storage.PutOptions{}); err != nil {
		return nil, err
	}
	audit := a.Audit(p.Subject, r.now().UTC())
	key := fmt.Sprintf("node/audit/results/%s/%s-v%08d.json", id, r.now().UTC().Format("20060102T150405.000Z"), t.Version)
	if err := putJSON(ctx, r.bucket, key, audit, storage.PutOptions{}); err != nil {
		return nil, err
	}
	return t, nil
}

// InternalResults is the team's view of a test's results, as stored inside the district.
type InternalResults struct {
	Analysis        *evidence.Analysis `json:"analysis"`
	PublishedCounts map[string]int     `json:"published_counts"` // for the correction rule
	Version         int                `json:"test_version"`
}

// InternalResults returns the team's unsuppressed view of a test's latest results. Callers must
// have checked that the principal may edit the test: this view never leaves the team.
func (r *Repo) InternalResults(ctx context.Context, id string) (*InternalResults, error) {
	if !validID(id) {
		return nil, ErrNotFound
	}
	objs, err := r.bucket.List(ctx, storage.ListOptions{Prefix: "node/results/" + id + "/"})
	if err != nil {
		return nil, err
	}
	if len(objs) == 0 {
		return nil, ErrNotFound
	}
	var in InternalResults
	if err := getJSON(ctx, r.bucket, objs[len(objs)-1].Key, &in); err != nil {
		return nil, err
	}
	return &in, nil
}

// PredictionMet compares the team's prediction with the computed results: "yes", "no", or "" when
// the results do not hold the metric (suppressed, or undefined).
func PredictionMet(pr *Prediction, a *evidence.Analysis) string {
	if pr == nil || a == nil {
		return ""
	}
	res := a.Results()
	var value float64
	switch pr.Metric {
	case "effect_size":
		if res.Effect == nil {
			return ""
		}
		value = res.Effect.G
	case "mean_gain", "pct_proficient_post":
		g := a.Group(evidence.Treatment)
		if g == nil {
			return ""
		}
		if pr.Metric == "mean_gain" {
			value = g.MeanGain
		} else {
			if g.PctProficientPost == nil {
				return ""
			}
			value = *g.PctProficientPost
		}
	default:
		return ""
	}
	met := (pr.Operator == ">=" && value >= pr.Value) || (pr.Operator == "<=" && value <= pr.Value)
	if met {
		return "yes"
	}
	return "no"
}

// Reverse references let evidence find every test of a practice (local or mirrored) and every
// adaptation of it without a scan: node/refs/{relation}/{hash of the target URI}/{origin-id}.{kind}.{id}.
func uriHash(uri string) string {
	s := sha256.Sum256([]byte(uri))
	return hex.EncodeToString(s[:16])
}

func refKey(relation, targetURI, originID string, kind Kind, id string) string {
	return "node/refs/" + relation + "/" + uriHash(targetURI) + "/" + originID + "." + string(kind) + "." + id
}

type refTarget struct {
	Origin string `json:"origin"`
	Kind   Kind   `json:"kind"`
	ID     string `json:"id"`
}

// NoteReferences records which records a record points at (a test's practice; a practice's
// adaptation_of lineage; a progress record's aim; an aim's change ideas' practices), so Evidence,
// the aim's dashboard and a practice's "belongs to aims" can find them. Federation calls it for mirrored records too.
func (r *Repo) NoteReferences(ctx context.Context, originID string, rec Record) error {
	m := rec.RecordMeta()
	target := refTarget{Origin: m.Origin, Kind: m.Kind, ID: m.ID}
	switch x := rec.(type) {
	case *Test:
		if x.Practice.URI != "" {
			if err := putJSON(ctx, r.bucket, refKey("tests-of", x.Practice.URI, originID, m.Kind, m.ID), target, storage.PutOptions{}); err != nil {
				return err
			}
		}
		if x.Follows != nil && x.Follows.URI != "" {
			return putJSON(ctx, r.bucket, refKey("follows", x.Follows.URI, originID, m.Kind, m.ID), target, storage.PutOptions{})
		}
	case *Progress:
		if x.Aim.URI != "" {
			return putJSON(ctx, r.bucket, refKey("progress-of", x.Aim.URI, originID, m.Kind, m.ID), target, storage.PutOptions{})
		}
	case *Aim:
		seen := map[string]bool{}
		for _, ci := range x.ChangeIdeas {
			for _, u := range ci.Practices {
				if u == "" || seen[u] {
					continue
				}
				seen[u] = true
				if err := putJSON(ctx, r.bucket, refKey("aims-of", u, originID, m.Kind, m.ID), target, storage.PutOptions{}); err != nil {
					return err
				}
			}
		}
	case *Practice:
		for _, b := range x.BasedOn {
			if b.Relation == "adaptation_of" && b.URI != "" {
				if err := putJSON(ctx, r.bucket, refKey("adaptations-of", b.URI, originID, m.Kind, m.ID), target, storage.PutOptions{}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (r *Repo) referrers(ctx context.Context, relation, uri string) ([]refTarget, error) {
	objs, err := r.bucket.List(ctx, storage.ListOptions{Prefix: "node/refs/" + relation + "/" + uriHash(uri) + "/", Limit: 5000})
	if err != nil {
		return nil, err
	}
	out := make([]refTarget, 0, len(objs))
	for _, o := range objs {
		var t refTarget
		if err := getJSON(ctx, r.bucket, o.Key, &t); err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				continue
			}
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// Evidence pools every published test of the practice at uri that p may see — local and mirrored,
// with tests of the practice's adaptations marked as such — into the practice-level summary.
func (r *Repo) Evidence(ctx context.Context, p Principal, uri string, minimumN int) (evidence.Summary, error) {
	sum, _, err := r.EvidenceWithTests(ctx, p, uri, minimumN)
	return sum, err
}

// EvidenceWithTests is Evidence, also returning the tests it pooled (for search facets: designs
// and decisions).
func (r *Repo) EvidenceWithTests(ctx context.Context, p Principal, uri string, minimumN int) (evidence.Summary, []*Test, error) {
	type source struct {
		ref     refTarget
		target  string // the practice URI the test must name
		adapted bool
	}
	var sources []source
	direct, err := r.referrers(ctx, "tests-of", uri)
	if err != nil {
		return evidence.Summary{}, nil, err
	}
	for _, t := range direct {
		sources = append(sources, source{t, uri, false})
	}
	adaptations, err := r.referrers(ctx, "adaptations-of", uri)
	if err != nil {
		return evidence.Summary{}, nil, err
	}
	for _, a := range adaptations {
		prac, gone, err := r.Load(ctx, a.Origin, a.Kind, a.ID)
		if err != nil || gone || !CanRead(p, prac.RecordMeta(), r.node) {
			continue
		}
		tests, err := r.referrers(ctx, "tests-of", prac.RecordMeta().URI)
		if err != nil {
			return evidence.Summary{}, nil, err
		}
		for _, t := range tests {
			sources = append(sources, source{t, prac.RecordMeta().URI, true})
		}
	}
	var (
		pooled []evidence.TestEvidence
		tests  []*Test
	)
	seen := map[string]bool{}
	for _, s := range sources {
		rec, gone, err := r.Load(ctx, s.ref.Origin, KindTest, s.ref.ID)
		if err != nil || gone {
			continue
		}
		t := rec.(*Test)
		if seen[t.URI] || t.Practice.URI != s.target || t.Status != StatusPublished || t.Results == nil || !CanRead(p, &t.Meta, r.node) {
			continue
		}
		seen[t.URI] = true
		te := evidence.FromResults(t.Results)
		// Districts are counted by authenticated origin: the node the test came from, never a
		// label inside it.
		te.Test, te.District, te.Adapted = t.URI, r.DistrictID(t.Origin), s.adapted
		te.Label = t.Title
		if te.Label == "" {
			te.Label = t.OriginID + " · " + t.Team
		}
		pooled = append(pooled, te)
		tests = append(tests, t)
	}
	sum, err := evidence.Summarize(pooled, minimumN)
	if errors.Is(err, evidence.ErrNoTests) {
		return evidence.Summary{Level: evidence.LevelDescribed, MinimumN: minimumN}, nil, nil
	}
	return sum, tests, err
}

// Adaptations returns the published practices p may see that declare themselves an adaptation of the practice
// at uri (local or mirrored).
func (r *Repo) Adaptations(ctx context.Context, p Principal, uri string) ([]*Practice, error) {
	refs, err := r.referrers(ctx, "adaptations-of", uri)
	if err != nil {
		return nil, err
	}
	var out []*Practice
	for _, a := range refs {
		rec, gone, err := r.Load(ctx, a.Origin, a.Kind, a.ID)
		if err != nil || gone || !CanRead(p, rec.RecordMeta(), r.node) {
			continue
		}
		pr, ok := rec.(*Practice)
		if !ok || pr.Status != StatusPublished { // a team's draft adaptation is listed once published
			continue
		}
		for _, b := range pr.BasedOn { // the marker may be stale: the record must still say so
			if b.URI == uri && b.Relation == "adaptation_of" {
				out = append(out, pr)
				break
			}
		}
	}
	return out, nil
}

// ParseURI splits a record URI ({node URL}/{kind}s/{id}) into its origin, kind and id.
func ParseURI(uri string) (origin string, kind Kind, id string, ok bool) {
	for _, k := range Kinds {
		seg := "/" + k.Plural() + "/"
		if i := strings.LastIndex(uri, seg); i > 0 {
			id := uri[i+len(seg):]
			if validID(id) {
				return uri[:i], k, id, true
			}
		}
	}
	return "", "", "", false
}
