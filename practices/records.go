package practices

import (
	"time"

	"github.com/brightspots-nic/brightspots/practices/evidence"
)

// Kind names a record type. The strings appear in storage keys, URLs and federated documents.
type Kind string

const (
	KindPractice   Kind = "practice"
	KindTest       Kind = "test"
	KindCollection Kind = "collection"
	KindAim        Kind = "aim"
	KindProgress   Kind = "progress"
)

// Kinds lists every record kind, in a stable order.
var Kinds = []Kind{KindPractice, KindTest, KindCollection, KindAim, KindProgress}

// Plural is the URL path segment for the kind ("practices", "tests", "collections", "aims"; progress
// is its own plural).
func (k Kind) Plural() string {
	if k == KindProgress {
		return string(k)
	}
	return string(k) + "s"
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	switch k {
	case KindPractice, KindTest, KindCollection, KindAim, KindProgress:
		return true
	}
	return false
}

// Status is a record's lifecycle state.
type Status string

const (
	StatusDraft     Status = "draft"
	StatusPublished Status = "published"
	StatusWithdrawn Status = "withdrawn"
	// StatusDeleted marks the final version of a deleted record. It is never shown: a deleted record
	// reads as gone everywhere, and peers receive a "deleted" tombstone. Kept as a version (not by
	// removing the head) so no repair can ever bring the record back.
	StatusDeleted Status = "deleted"
)

// Visibility says who may see a published record.
type Visibility string

const (
	VisibilityDistrict Visibility = "district" // signed-in members of this district only (the default)
	VisibilityNetwork  Visibility = "network"  // this district and every peer
	VisibilityPeers    Visibility = "peers"    // this district and the peers named in SharedWith
	VisibilityPublic   Visibility = "public"   // everyone, including anonymous readers
)

// Meta is the part of every record the server owns: identity, version, lifecycle and ownership.
// Clients may set only Team, Visibility and SharedWith (on create; Team never changes afterwards).
type Meta struct {
	ID          string     `json:"id"`
	Kind        Kind       `json:"kind"`
	URI         string     `json:"uri"`
	Version     int        `json:"version"`
	Origin      string     `json:"origin"`    // node URL of the district that owns the record
	OriginID    string     `json:"origin_id"` // that district's node id (a display label)
	Status      Status     `json:"status"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	PublishedAt *time.Time `json:"published_at,omitempty"`
	WithdrawnAt *time.Time `json:"withdrawn_at,omitempty"`
	Team        string     `json:"team"`
	Visibility  Visibility `json:"visibility"`
	SharedWith  []string   `json:"shared_with,omitempty"` // peer node ids, when Visibility is "peers"
	CreatedBy   string     `json:"created_by,omitempty"`  // principal subject; never shared with peers
	UpdatedBy   string     `json:"updated_by,omitempty"`
}

// Record is implemented by *Practice, *Test, *Collection, *Aim and *Progress.
type Record interface {
	RecordMeta() *Meta
}

func (p *Practice) RecordMeta() *Meta   { return &p.Meta }
func (t *Test) RecordMeta() *Meta       { return &t.Meta }
func (c *Collection) RecordMeta() *Meta { return &c.Meta }

// Standard is an alignment to a learning standard.
type Standard struct {
	Code      string `json:"code"`
	Framework string `json:"framework,omitempty"` // CCSS.MATH, CCSS.ELA-LITERACY, NGSS, or free text
	URI       string `json:"uri,omitempty"`       // CASE CFItem URI when known
	Alignment string `json:"alignment,omitempty"` // teaches (default) | assesses
	// From an imported CASE framework (practices/standards), when the code is one of its items: the
	// CFItem identifier and its full statement, so search and peers have the words without the framework.
	CaseID    string `json:"case_id,omitempty"`
	Statement string `json:"statement,omitempty"`
}

// BasedOn is lineage across districts.
type BasedOn struct {
	URI      string `json:"uri"`
	Relation string `json:"relation"` // adaptation_of | inspired_by
	Changes  string `json:"changes,omitempty"`
}

// BrightSpotEvidence says how the bright spot was found. It never names a teacher without consent.
type BrightSpotEvidence struct {
	Method             string   `json:"method"`
	MeasureName        string   `json:"measure_name"`
	ClassroomsCompared int      `json:"classrooms_compared"`
	ZScore             *float64 `json:"z_score,omitempty"`
	Narrative          string   `json:"narrative,omitempty"`
	TeacherConsent     bool     `json:"teacher_consent,omitempty"`
	AttributedTo       string   `json:"attributed_to,omitempty"` // only with TeacherConsent
}

// ArtifactRef points at a content-addressed file. The signature of a federated record covers it.
type ArtifactRef struct {
	SHA256    string `json:"sha256"`
	Name      string `json:"name"`
	MediaType string `json:"media_type"`
	Size      int64  `json:"size"`
}

// Practice is a shareable bright spot (a change idea).
type Practice struct {
	Meta
	Title              string              `json:"title"`
	Summary            string              `json:"summary,omitempty"`
	Description        string              `json:"description,omitempty"`
	KeyMoves           []string            `json:"key_moves,omitempty"`
	Subjects           []string            `json:"subjects,omitempty"`
	GradeLevels        []string            `json:"grade_levels,omitempty"`
	Standards          []Standard          `json:"standards,omitempty"`
	OriginKind         string              `json:"origin_kind,omitempty"`
	BasedOn            []BasedOn           `json:"based_on,omitempty"`
	BrightSpotEvidence *BrightSpotEvidence `json:"bright_spot_evidence,omitempty"`
	TimeRequired       string              `json:"time_required,omitempty"`
	ContextNotes       string              `json:"context_notes,omitempty"`
	Materials          []ArtifactRef       `json:"materials,omitempty"`
	License            string              `json:"license,omitempty"`
	Evidence           *evidence.Summary   `json:"evidence,omitempty"` // computed by the server
}

// PracticeRef points at a specific version of a local or mirrored practice.
type PracticeRef struct {
	URI     string `json:"uri"`
	Version int    `json:"version,omitempty"`
}

// Prediction is made before results exist.
type Prediction struct {
	Text     string  `json:"text"`
	Metric   string  `json:"metric"`   // mean_gain | pct_proficient_post | effect_size
	Operator string  `json:"operator"` // >= | <=
	Value    float64 `json:"value"`
}

// Assessment describes the measure a test uses.
type Assessment struct {
	Name           string   `json:"name"`
	Kind           string   `json:"kind,omitempty"`
	ScoreMin       float64  `json:"score_min"`
	ScoreMax       float64  `json:"score_max"`
	ProficiencyCut *float64 `json:"proficiency_cut,omitempty"`
	Form           string   `json:"form,omitempty"` // same | parallel | different
}

// Cohort holds aggregates only: never a student.
type Cohort struct {
	GradeLevels     []string `json:"grade_levels,omitempty"`
	Subjects        []string `json:"subjects,omitempty"`
	Classrooms      int      `json:"classrooms,omitempty"`
	StudentsPlanned int      `json:"students_planned,omitempty"`
	ContextTags     []string `json:"context_tags,omitempty"`
}

// Dosage is how much of the practice students received.
type Dosage struct {
	SessionsPlanned   int `json:"sessions_planned,omitempty"`
	SessionsDelivered int `json:"sessions_delivered,omitempty"`
	MinutesPerSession int `json:"minutes_per_session,omitempty"`
}

// Fidelity is how closely the key moves were followed.
type Fidelity struct {
	Method       string   `json:"method,omitempty"` // self_report | peer_observation | coach_observation
	AdherencePct *float64 `json:"adherence_pct,omitempty"`
}

// Test is one STEP-Confirm or PDSA cycle of a practice, run by one team.
type Test struct {
	Meta
	Title       string            `json:"title,omitempty"`
	Practice    PracticeRef       `json:"practice"`
	Cycle       string            `json:"cycle"`  // step | pdsa
	Design      string            `json:"design"` // single_group_pre_post | pre_post_with_comparison | post_only_comparison
	Question    string            `json:"question"`
	Prediction  *Prediction       `json:"prediction,omitempty"`
	Assessment  *Assessment       `json:"assessment,omitempty"`
	Cohort      *Cohort           `json:"cohort,omitempty"`
	StartDate   string            `json:"start_date,omitempty"` // YYYY-MM-DD
	EndDate     string            `json:"end_date,omitempty"`
	Dosage      *Dosage           `json:"dosage,omitempty"`
	Fidelity    *Fidelity         `json:"fidelity,omitempty"`
	Adaptations string            `json:"adaptations,omitempty"`
	Deviations  string            `json:"deviations,omitempty"`
	Learnings   string            `json:"learnings,omitempty"`
	Results     *evidence.Results `json:"results,omitempty"` // computed by the server
	// Measures are practical measures taken repeatedly during the cycle (docs/measures.md). In the
	// record they are the published view: see measures.go.
	Measures      []evidence.Measure `json:"measures,omitempty"`
	PredictionMet string             `json:"prediction_met,omitempty"` // yes | partly | no
	Decision      string             `json:"decision,omitempty"`       // adopt | adapt | abandon
	// Follows names the earlier cycle this one follows, making a ramp of cycles (docs/cycles.md).
	// An addition to protocol version 1: older nodes ignore it.
	Follows *TestRef `json:"follows,omitempty"`
}

// TestRef points at a specific version of a local or mirrored test.
type TestRef struct {
	URI     string `json:"uri"`
	Version int    `json:"version,omitempty"`
}

// CollectionItem is one curated practice with the curator's note.
type CollectionItem struct {
	PracticeURI string `json:"practice_uri"`
	Note        string `json:"note,omitempty"`
}

// Collection is curated by a NIC coordinator around a network aim.
type Collection struct {
	Meta
	Title       string           `json:"title"`
	Description string           `json:"description,omitempty"`
	Aim         string           `json:"aim,omitempty"`
	Items       []CollectionItem `json:"items,omitempty"`
	Curator     string           `json:"curator,omitempty"` // display name
}

// NewRecord returns an empty record of kind k.
func NewRecord(k Kind) Record {
	switch k {
	case KindPractice:
		return &Practice{}
	case KindTest:
		return &Test{}
	case KindCollection:
		return &Collection{}
	case KindAim:
		return &Aim{}
	case KindProgress:
		return &Progress{}
	}
	return nil
}
