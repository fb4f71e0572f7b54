package practices

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/brightspots-nic/brightspots/practices/evidence"
)

// Dashboard is the aim's dashboard (docs/aims.md): the JSON of GET /api/v1/aims/{id}/dashboard
// and what the dashboard page draws. Every node that can see the aim builds the same one from the
// records it holds.
type Dashboard struct {
	Aim          DashboardAim          `json:"aim"`
	Diagram      DriverDiagram         `json:"diagram"`
	ChangeIdeas  []DashboardChangeIdea `json:"change_ideas"`
	Districts    []DistrictProgress    `json:"districts"`
	Network      []NetworkPoint        `json:"network"`
	NotReporting []DistrictLabel       `json:"not_reporting"` // no point in the last NotReportingDays days
	Today        string                `json:"today"`         // the date "the last 60 days" count back from
}

// DashboardAim is the aim's own part of the dashboard.
type DashboardAim struct {
	URI            string          `json:"uri"`
	ID             string          `json:"id"`
	Version        int             `json:"version"`
	Origin         string          `json:"origin"`
	District       DistrictLabel   `json:"district"`
	Title          string          `json:"title"`
	Statement      string          `json:"statement"`
	OutcomeMeasure *OutcomeMeasure `json:"outcome_measure,omitempty"`
	Target         *AimTarget      `json:"target,omitempty"`
	Curator        string          `json:"curator,omitempty"`
	Collections    []string        `json:"collections,omitempty"`
}

// DistrictLabel names a district: its node id (as configured for peers) and display name.
type DistrictLabel struct {
	ID     string `json:"id"`
	Name   string `json:"name,omitempty"`
	Origin string `json:"origin"` // node URL
}

// DriverDiagram is the tree aim → primary drivers → secondary drivers → change ideas, in the
// aim's order. A change idea appears under every driver it names.
type DriverDiagram struct {
	Primary []DiagramDriver `json:"primary"`
}

// DiagramDriver is one driver with what hangs under it.
type DiagramDriver struct {
	ID          string          `json:"id"`
	Text        string          `json:"text"`
	Secondary   []DiagramDriver `json:"secondary,omitempty"`    // primary drivers only
	ChangeIdeas []string        `json:"change_ideas,omitempty"` // ids of change ideas naming this driver
}

// DashboardChangeIdea is a change idea with its practices resolved.
type DashboardChangeIdea struct {
	ID        string              `json:"id"`
	Text      string              `json:"text"`
	Drivers   []string            `json:"drivers"`
	Practices []DashboardPractice `json:"practices"`
}

// DashboardPractice is a practice linked by a change idea, as this node sees it. Found is false for
// a practice this node does not hold (not shared with it, or not yet mirrored): only the URI is known.
type DashboardPractice struct {
	URI       string          `json:"uri"`
	Found     bool            `json:"found"`
	Title     string          `json:"title,omitempty"`
	District  DistrictLabel   `json:"district"`
	Level     string          `json:"evidence_level,omitempty"`
	Tests     int             `json:"tests"`
	Districts int             `json:"districts"`
	Learning  *LatestLearning `json:"latest_learning,omitempty"`
}

// LatestLearning is the most recent published learning of a practice's tests.
type LatestLearning struct {
	Text     string        `json:"text"`
	Date     string        `json:"date"` // the test's end date, else its publication date
	TestURI  string        `json:"test_uri"`
	District DistrictLabel `json:"district"`
}

// DistrictProgress is one district's progress series: its published points (every progress record
// of the district towards this aim, merged by date, the latest report winning), with the run-chart
// rules applied (evidence.AnalyzeMeasure).
type DistrictProgress struct {
	District   DistrictLabel             `json:"district"`
	Progress   []string                  `json:"progress"` // URIs of the district's progress records
	Points     []evidence.MeasurePoint   `json:"points"`
	Withheld   int                       `json:"withheld,omitempty"`
	Analysis   *evidence.MeasureAnalysis `json:"analysis,omitempty"`
	Sentence   string                    `json:"sentence"` // what the rules found, in words
	Notes      []evidence.MeasureNote    `json:"notes,omitempty"`
	PhaseScore []PhaseScore              `json:"phase_score,omitempty"`
	LastReport string                    `json:"last_report,omitempty"` // date of the latest point
	Reporting  bool                      `json:"reporting"`             // a point in the last NotReportingDays days
}

// NetworkPoint is one month of the network series: Σ(n·value)/Σn over each district's latest point
// in that month, districts below the minimum n left out.
type NetworkPoint struct {
	Month     string  `json:"month"` // YYYY-MM
	Value     float64 `json:"value"`
	N         int     `json:"n"`         // Σn
	Districts int     `json:"districts"` // districts counted
}

// AimProgress is a progress record as its district's pages show it, with whether the aim it refers
// to is still there.
type AimProgress struct {
	Progress *Progress `json:"progress"`
	// AimWithdrawn is true when the aim the record refers to was withdrawn or deleted (or, for a
	// mirrored aim, its origin sent a tombstone): the record remains, marked as such.
	AimWithdrawn bool   `json:"aim_withdrawn"`
	AimTitle     string `json:"aim_title,omitempty"`
}

// DashboardOptions are what the dashboard needs from outside the repository.
type DashboardOptions struct {
	// Today is the date "not reporting in the last 60 days" counts back from.
	Today time.Time
	// District names a district by its node URL: the configured peer (docs/protocol.md, "Who a record
	// comes from"), or this node. Nil labels a district by the record's origin id alone.
	District func(origin string) DistrictLabel
	// Network lists the network's districts (this node and its peers): those without a point in the
	// last NotReportingDays days are listed as not reporting. Nil: only districts that ever reported.
	Network []DistrictLabel
}

// AimDashboard builds the dashboard of the aim uri names (local or mirrored) as p sees it, from the
// records this node holds: the aim, every published progress record towards it (reverse references
// "progress-of", local and mirrored), and each linked practice with its evidence. ErrNotFound when
// p may not see the aim, or it is withdrawn or deleted.
//
// Dashboards are cached: a dashboard reads every linked practice, its tests and every progress
// record, and a whole network's coordinators and teachers read the same one. A cached dashboard is
// used while the change log has not moved (every local write and every mirrored copy appends to
// it), for the same day, the same kind of reader (what a member of the district sees, or what an
// anonymous visitor sees: the dashboard shows only published records, so nothing else differs)
// and the same district names. The returned dashboard is shared: callers must not modify it.
func (r *Repo) AimDashboard(ctx context.Context, p Principal, uri string, opt DashboardOptions) (*Dashboard, error) {
	aim, err := r.LoadAim(ctx, p, uri)
	if err != nil {
		return nil, err
	}
	if aim.Status == StatusWithdrawn {
		return nil, ErrNotFound
	}
	if aim.Status != StatusPublished || p.Kind == "node" {
		// A draft, seen by those who may edit it, or a peer asking: not cached.
		return r.buildAimDashboard(ctx, p, aim, opt)
	}
	today := opt.Today
	if today.IsZero() {
		today = r.now()
	}
	opt.Today = today
	key := dashboardKey{uri: aim.URI, members: p.Authenticated(), day: today.UTC().Format(time.DateOnly), labels: labelsKey(opt)}
	e := r.dashboards.entry(key)
	e.mu.Lock()
	defer e.mu.Unlock()
	end := r.log.Last()
	if e.d != nil && e.logEnd == end {
		return e.d, nil
	}
	d, err := r.buildAimDashboard(ctx, p, aim, opt)
	if err != nil {
		return nil, err
	}
	e.d, e.logEnd = d, end
	return d, nil
}

// dashboardCache holds one entry per aim and kind of reader, bounded in size.
type dashboardCache struct {
	mu sync.Mutex
	m  map[dashboardKey]*dashboardEntry
}

type dashboardKey struct {
	uri     string
	members bool
	day     string
	labels  string
}

type dashboardEntry struct {
	mu     sync.Mutex // one build at a time per key: concurrent readers of a stale entry wait for it
	logEnd uint64
	d      *Dashboard
}

// maxCachedDashboards bounds the cache; past it the cache starts over.
const maxCachedDashboards = 256

func (c *dashboardCache) entry(k dashboardKey) *dashboardEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedDashboards {
		c.m = map[dashboardKey]*dashboardEntry{}
	}
	e := c.m[k]
	if e == nil {
		e = &dashboardEntry{}
		c.m[k] = e
	}
	return e
}

// labelsKey identifies the district names and network of opt, so that a change of configuration
// is not served from the cache.
func labelsKey(opt DashboardOptions) string {
	var b strings.Builder
	for _, n := range opt.Network {
		l := n
		if opt.District != nil {
			l = opt.District(n.Origin)
		}
		b.WriteString(n.Origin + "\x00" + l.ID + "\x00" + l.Name + "\x00")
	}
	return b.String()
}

func (r *Repo) buildAimDashboard(ctx context.Context, p Principal, aim *Aim, opt DashboardOptions) (*Dashboard, error) {
	progress, err := r.ProgressOf(ctx, p, aim.URI)
	if err != nil {
		return nil, err
	}
	practices, err := r.dashboardPractices(ctx, p, aim)
	if err != nil {
		return nil, err
	}
	return BuildDashboard(DashboardInput{Aim: aim, Progress: progress, Practices: practices, MinimumN: r.minimumN,
		Today: opt.Today, District: r.districtLabeller(opt.District), Network: opt.Network}), nil
}

func (r *Repo) districtLabeller(f func(origin string) DistrictLabel) func(origin string) DistrictLabel {
	return func(origin string) DistrictLabel {
		if f != nil {
			if l := f(origin); l.ID != "" {
				return l
			}
		}
		return DistrictLabel{ID: r.DistrictID(origin), Origin: origin}
	}
}

// ProgressOf returns the published progress records towards the aim at aimURI that p may see,
// local and mirrored, in creation order of their district and id.
func (r *Repo) ProgressOf(ctx context.Context, p Principal, aimURI string) ([]*Progress, error) {
	refs, err := r.referrers(ctx, "progress-of", aimURI)
	if err != nil {
		return nil, err
	}
	var out []*Progress
	seen := map[string]bool{}
	for _, ref := range refs {
		rec, gone, err := r.Load(ctx, ref.Origin, KindProgress, ref.ID)
		if errors.Is(err, ErrNotFound) || gone {
			continue
		}
		if err != nil {
			return nil, err
		}
		pr := rec.(*Progress)
		// A reference is only a hint: the record must still point at this aim.
		if seen[pr.URI] || pr.Aim.URI != aimURI || pr.Status != StatusPublished || !CanRead(p, &pr.Meta, r.node) {
			continue
		}
		seen[pr.URI] = true
		out = append(out, pr)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].URI < out[j].URI })
	return out, nil
}

// AimsOf returns the published aims p may see (local and mirrored) whose change ideas link the
// practice at uri: what a practice page's "belongs to aims" lists.
func (r *Repo) AimsOf(ctx context.Context, p Principal, practiceURI string) ([]*Aim, error) {
	refs, err := r.referrers(ctx, "aims-of", practiceURI)
	if err != nil {
		return nil, err
	}
	var out []*Aim
	seen := map[string]bool{}
	for _, ref := range refs {
		rec, gone, err := r.Load(ctx, ref.Origin, KindAim, ref.ID)
		if errors.Is(err, ErrNotFound) || gone {
			continue
		}
		if err != nil {
			return nil, err
		}
		a := rec.(*Aim)
		if seen[a.URI] || a.Status != StatusPublished || !CanRead(p, &a.Meta, r.node) || len(a.ChangeIdeasOf(practiceURI)) == 0 {
			continue
		}
		seen[a.URI] = true
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].URI < out[j].URI })
	return out, nil
}

// ChangeIdeasOf returns the change ideas of the aim that link the practice at uri.
func (a *Aim) ChangeIdeasOf(practiceURI string) []ChangeIdea {
	var out []ChangeIdea
	for _, ci := range a.ChangeIdeas {
		if slices.Contains(ci.Practices, practiceURI) {
			out = append(out, ci)
		}
	}
	return out
}

// AimProgressOf marks a progress record with whether its aim is still there for p (not withdrawn,
// deleted or tombstoned by its origin).
func (r *Repo) AimProgressOf(ctx context.Context, p Principal, pr *Progress) AimProgress {
	out := AimProgress{Progress: pr, AimWithdrawn: true}
	aim, err := r.LoadAim(ctx, p, pr.Aim.URI)
	if err == nil && aim.Status != StatusWithdrawn {
		out.AimWithdrawn, out.AimTitle = false, aim.Title
	}
	return out
}

// dashboardWorkers bounds how many linked practices are resolved at once.
const dashboardWorkers = 8

// dashboardPractices resolves every practice the aim's change ideas link, once each, with its
// evidence: the practice (local or mirrored) if p may see it, its level, tests, districts and the
// most recent learning.
func (r *Repo) dashboardPractices(ctx context.Context, p Principal, aim *Aim) (map[string]PracticeEvidence, error) {
	var uris []string
	seen := map[string]bool{}
	for _, ci := range aim.ChangeIdeas {
		for _, u := range ci.Practices {
			if !seen[u] {
				seen[u] = true
				uris = append(uris, u)
			}
		}
	}
	out := make(map[string]PracticeEvidence, len(uris))
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr error
	)
	work := make(chan string)
	for range min(dashboardWorkers, len(uris)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range work {
				pe, err := r.practiceEvidence(ctx, p, u)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				out[u] = pe
				mu.Unlock()
			}
		}()
	}
	for _, u := range uris {
		work <- u
	}
	close(work)
	wg.Wait()
	return out, firstErr
}

// PracticeEvidence is what the dashboard shows of one linked practice.
type PracticeEvidence struct {
	Practice *Practice // nil when p cannot see it on this node
	Summary  evidence.Summary
	Tests    []*Test
}

func (r *Repo) practiceEvidence(ctx context.Context, p Principal, uri string) (PracticeEvidence, error) {
	pr, err := r.LoadPractice(ctx, p, uri)
	if errors.Is(err, ErrNotFound) || (err == nil && pr.Status != StatusPublished) {
		// A dashboard shows published practices only (a team's draft is not the network's).
		return PracticeEvidence{}, nil
	}
	if err != nil {
		return PracticeEvidence{}, err
	}
	sum, tests, err := r.EvidenceWithTests(ctx, p, uri, r.minimumN)
	if err != nil {
		return PracticeEvidence{}, err
	}
	return PracticeEvidence{Practice: pr, Summary: sum, Tests: tests}, nil
}

// DashboardInput is everything BuildDashboard draws on.
type DashboardInput struct {
	Aim       *Aim
	Progress  []*Progress                 // published progress records towards the aim
	Practices map[string]PracticeEvidence // by practice URI
	MinimumN  int
	Today     time.Time
	District  func(origin string) DistrictLabel
	Network   []DistrictLabel // the network's districts, for "not reporting"; nil: those that reported
}

// BuildDashboard assembles the dashboard from records already loaded: a pure function, so every
// node holding the same records builds the same dashboard.
func BuildDashboard(in DashboardInput) *Dashboard {
	a := in.Aim
	label := in.District
	if label == nil {
		label = func(origin string) DistrictLabel { return DistrictLabel{Origin: origin} }
	}
	today := in.Today.UTC()
	if today.IsZero() {
		today = time.Now().UTC()
	}
	d := &Dashboard{
		Aim: DashboardAim{URI: a.URI, ID: a.ID, Version: a.Version, Origin: a.Origin, District: label(a.Origin),
			Title: a.Title, Statement: a.Statement, OutcomeMeasure: a.OutcomeMeasure, Target: a.Target,
			Curator: a.Curator, Collections: a.Collections},
		Diagram:      BuildDriverDiagram(a),
		ChangeIdeas:  make([]DashboardChangeIdea, 0, len(a.ChangeIdeas)),
		Districts:    []DistrictProgress{},
		Network:      []NetworkPoint{},
		NotReporting: []DistrictLabel{},
		Today:        today.Format(time.DateOnly),
	}
	for _, ci := range a.ChangeIdeas {
		dci := DashboardChangeIdea{ID: ci.ID, Text: ci.Text, Drivers: ci.Drivers, Practices: make([]DashboardPractice, 0, len(ci.Practices))}
		for _, u := range ci.Practices {
			dci.Practices = append(dci.Practices, dashboardPractice(u, in.Practices[u], label))
		}
		d.ChangeIdeas = append(d.ChangeIdeas, dci)
	}
	d.Districts = districtSeries(a.OutcomeMeasure, in.Progress, label, today)
	d.Network = NetworkSeries(d.Districts, in.MinimumN)
	reported := map[string]bool{}
	for _, ds := range d.Districts {
		if ds.Reporting {
			reported[ds.District.Origin] = true
		} else {
			d.NotReporting = append(d.NotReporting, ds.District)
		}
	}
	listed := map[string]bool{}
	for _, ds := range d.Districts {
		listed[ds.District.Origin] = true
	}
	for _, n := range in.Network {
		if !listed[n.Origin] && !reported[n.Origin] {
			d.NotReporting = append(d.NotReporting, n)
		}
	}
	return d
}

// BuildDriverDiagram arranges the aim's drivers as the tree aim → primary → secondary, each with the
// change ideas that name it, in the aim's order.
func BuildDriverDiagram(a *Aim) DriverDiagram {
	ideas := map[string][]string{}
	for _, ci := range a.ChangeIdeas {
		for _, drv := range ci.Drivers {
			ideas[drv] = append(ideas[drv], ci.ID)
		}
	}
	dd := DriverDiagram{Primary: []DiagramDriver{}}
	for _, pd := range a.Drivers {
		if pd.Level != DriverPrimary {
			continue
		}
		node := DiagramDriver{ID: pd.ID, Text: pd.Text, ChangeIdeas: ideas[pd.ID]}
		for _, sd := range a.Drivers {
			if sd.Level == DriverSecondary && sd.Parent == pd.ID {
				node.Secondary = append(node.Secondary, DiagramDriver{ID: sd.ID, Text: sd.Text, ChangeIdeas: ideas[sd.ID]})
			}
		}
		dd.Primary = append(dd.Primary, node)
	}
	return dd
}

func dashboardPractice(uri string, pe PracticeEvidence, label func(string) DistrictLabel) DashboardPractice {
	dp := DashboardPractice{URI: uri}
	if origin, _, _, ok := ParseURI(uri); ok {
		dp.District = label(origin)
	}
	if pe.Practice == nil {
		return dp
	}
	dp.Found, dp.Title = true, pe.Practice.Title
	dp.Level, dp.Tests, dp.Districts = pe.Summary.Level, pe.Summary.Tests, pe.Summary.Districts
	var latest *Test
	latestDate := ""
	for _, t := range pe.Tests {
		if t.Learnings == "" {
			continue
		}
		date := t.EndDate
		if date == "" && t.PublishedAt != nil {
			date = t.PublishedAt.UTC().Format(time.DateOnly)
		}
		if latest == nil || date > latestDate || (date == latestDate && t.URI > latest.URI) {
			latest, latestDate = t, date
		}
	}
	if latest != nil {
		dp.Learning = &LatestLearning{Text: latest.Learnings, Date: latestDate, TestURI: latest.URI, District: label(latest.Origin)}
	}
	return dp
}

// districtSeries merges each district's published progress records into one series (a date
// reported twice takes the most recently updated record's point) and applies the run-chart rules.
func districtSeries(om *OutcomeMeasure, progress []*Progress, label func(string) DistrictLabel, today time.Time) []DistrictProgress {
	byOrigin := map[string][]*Progress{}
	var origins []string
	for _, pr := range progress {
		if _, ok := byOrigin[pr.Origin]; !ok {
			origins = append(origins, pr.Origin)
		}
		byOrigin[pr.Origin] = append(byOrigin[pr.Origin], pr)
	}
	cutoff := today.AddDate(0, 0, -NotReportingDays).Format(time.DateOnly)
	out := make([]DistrictProgress, 0, len(origins))
	for _, origin := range origins {
		recs := byOrigin[origin]
		// Oldest update first, so a later report's point for the same date wins.
		sort.SliceStable(recs, func(i, j int) bool {
			if !recs[i].UpdatedAt.Equal(recs[j].UpdatedAt) {
				return recs[i].UpdatedAt.Before(recs[j].UpdatedAt)
			}
			return recs[i].URI < recs[j].URI
		})
		ds := DistrictProgress{District: label(origin), Progress: []string{}, Points: []evidence.MeasurePoint{}}
		byDate := map[string]evidence.MeasurePoint{}
		for _, pr := range recs {
			ds.Progress = append(ds.Progress, pr.URI)
			ds.Withheld += pr.Withheld
			for _, pt := range pr.Points {
				byDate[pt.Date] = pt
			}
			ds.Notes = append(ds.Notes, pr.Notes...)
			ds.PhaseScore = append(ds.PhaseScore, pr.PhaseScore...)
		}
		for _, pt := range byDate {
			ds.Points = append(ds.Points, pt)
		}
		sort.Slice(ds.Points, func(i, j int) bool { return ds.Points[i].Date < ds.Points[j].Date })
		sort.SliceStable(ds.Notes, func(i, j int) bool { return ds.Notes[i].Date < ds.Notes[j].Date })
		sort.SliceStable(ds.PhaseScore, func(i, j int) bool { return ds.PhaseScore[i].Date < ds.PhaseScore[j].Date })
		kind := ""
		if om != nil {
			kind = om.Kind
		}
		ds.Analysis = evidence.AnalyzeMeasure(kind, 0, ds.Points)
		m := ProgressMeasure(om, ds.Points, ds.Notes)
		m.Analysis, m.Withheld = ds.Analysis, ds.Withheld
		ds.Sentence = evidence.MeasureSentence(m)
		if n := len(ds.Points); n > 0 {
			ds.LastReport = ds.Points[n-1].Date
			ds.Reporting = ds.LastReport >= cutoff
		}
		out = append(out, ds)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].District.ID != out[j].District.ID {
			return out[i].District.ID < out[j].District.ID
		}
		return out[i].District.Origin < out[j].District.Origin
	})
	return out
}

// NetworkSeries is the network series of docs/aims.md: for each calendar month in which at least
// one district reported, Σ(n·value)/Σn over each district's latest point in that month. A district
// whose latest point of a month has n below minimumN is left out of that month.
func NetworkSeries(districts []DistrictProgress, minimumN int) []NetworkPoint {
	type acc struct {
		sum       float64
		n         int
		districts int
	}
	months := map[string]*acc{}
	for _, ds := range districts {
		latest := map[string]evidence.MeasurePoint{}
		for _, pt := range ds.Points {
			if len(pt.Date) < 7 {
				continue
			}
			month := pt.Date[:7]
			if cur, ok := latest[month]; !ok || pt.Date > cur.Date {
				latest[month] = pt
			}
		}
		for month, pt := range latest {
			if pt.N < minimumN || pt.N <= 0 {
				continue
			}
			a := months[month]
			if a == nil {
				a = &acc{}
				months[month] = a
			}
			a.sum += float64(pt.N) * pt.Value
			a.n += pt.N
			a.districts++
		}
	}
	out := make([]NetworkPoint, 0, len(months))
	for month, a := range months {
		out = append(out, NetworkPoint{Month: month, Value: a.sum / float64(a.n), N: a.n, Districts: a.districts})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Month < out[j].Month })
	return out
}
