package practices

import (
	"context"
	"errors"
	"time"

	"github.com/brightspots-nic/brightspots/practices/evidence"
)

// Dashboard is the aim's dashboard (IMPROVEMENT.md): the JSON of GET /api/v1/aims/{id}/dashboard
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
	// District names a district by its node URL: the configured peer (PROTOCOL.md, "Who a record
	// comes from"), or this node. Nil labels a district by the record's origin id alone.
	District func(origin string) DistrictLabel
}

// AimDashboard builds the dashboard of the aim uri names (local or mirrored) as p sees it.
// ErrNotFound when p may not see the aim, or it is withdrawn or deleted.
func (r *Repo) AimDashboard(ctx context.Context, p Principal, uri string, opt DashboardOptions) (*Dashboard, error) {
	return nil, errors.New("aim dashboard: not yet built")
}
