package practices

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Level says how complete a record must be: enough to create a draft, or everything publishing needs.
type Level int

const (
	LevelCreate Level = iota
	LevelPublish
)

// FieldError is one failed rule, naming the field by its JSON path ("key_moves[2]", "assessment.score_max").
type FieldError struct {
	Field   string `json:"field"`
	Rule    string `json:"rule"` // machine-readable: required, max_length, one_of, format, range …
	Message string `json:"message"`
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// ValidationError lists every failed rule of a record, not just the first.
type ValidationError struct {
	Problems []FieldError
}

func (e *ValidationError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Field + ": " + p.Message
	}
	return "invalid record: " + strings.Join(msgs, "; ")
}

type checker struct{ problems []FieldError }

func (c *checker) add(field, rule, format string, args ...any) {
	c.problems = append(c.problems, FieldError{Field: field, Rule: rule, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) err() error {
	if len(c.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: c.problems}
}

func (c *checker) text(field, v string, max int, required bool) {
	if strings.TrimSpace(v) == "" {
		if required {
			c.add(field, "required", "is required")
		}
		return
	}
	if !utf8.ValidString(v) {
		c.add(field, "format", "must be valid UTF-8 text")
		return
	}
	if max > 0 && utf8.RuneCountInString(v) > max {
		c.add(field, "max_length", "must be at most %d characters (got %d)", max, utf8.RuneCountInString(v))
	}
	if hasControl(v) {
		c.add(field, "format", "must not contain control characters")
	}
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' || r == 0x7f {
			return true
		}
	}
	return false
}

func (c *checker) oneOf(field, v string, allowed []string, required bool) {
	if v == "" {
		if required {
			c.add(field, "required", "is required (one of %s)", strings.Join(allowed, ", "))
		}
		return
	}
	if !slices.Contains(allowed, v) {
		c.add(field, "one_of", "must be one of %s", strings.Join(allowed, ", "))
	}
}

func (c *checker) url(field, v string, required bool) {
	if v == "" {
		if required {
			c.add(field, "required", "is required")
		}
		return
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(v) > 2000 {
		c.add(field, "format", "must be an http or https URL")
	}
}

const (
	maxMarkdown = 20000
	maxShort    = 200
)

var visibilities = []string{string(VisibilityDistrict), string(VisibilityNetwork), string(VisibilityPeers), string(VisibilityPublic)}

func (c *checker) meta(m *Meta, needTeam bool) {
	if needTeam || m.Team != "" {
		var fe *FieldError
		if errors.As(CheckTeam(m.Team), &fe) {
			c.problems = append(c.problems, *fe)
		}
	}
	c.oneOf("visibility", string(m.Visibility), visibilities, false)
	if m.Visibility == VisibilityPeers && len(m.SharedWith) == 0 {
		c.add("shared_with", "required", "must name at least one peer when visibility is peers")
	}
	if m.Visibility != VisibilityPeers && len(m.SharedWith) > 0 {
		c.add("shared_with", "not_allowed", "is only allowed when visibility is peers")
	}
	c.maxItems("shared_with", len(m.SharedWith), maxSharedWith, "peers")
	for i, id := range m.SharedWith {
		if !ValidNodeID(id) {
			c.add(fmt.Sprintf("shared_with[%d]", i), "format", "must be a peer node id (lower-case letters, digits and dashes)")
		}
	}
}

// Validate checks rec against the rules of docs/records.md for level, reporting every failure.
func Validate(rec Record, level Level) error {
	var c checker
	switch r := rec.(type) {
	case *Practice:
		c.meta(&r.Meta, true)
		validatePractice(&c, r, level)
	case *Test:
		c.meta(&r.Meta, true)
		validateTest(&c, r, level)
	case *Collection:
		c.meta(&r.Meta, false)
		validateCollection(&c, r, level)
	case *Aim:
		c.meta(&r.Meta, false)
		validateAim(&c, r, level)
	case *Progress:
		c.meta(&r.Meta, false)
		validateProgress(&c, r, level)
	default:
		c.add("kind", "one_of", "must be practice, test, collection, aim or progress")
	}
	return c.err()
}

// Caps on how many entries a list field may hold: a record is read whole by every page, feed and
// peer, so no list may grow without bound (issue 12). Key moves (10) and collection items (500)
// have their own, older caps below.
const (
	maxStandards   = 30
	maxBasedOn     = 20
	maxContextTags = 20
	maxSharedWith  = 100
	maxMaterials   = 50 // as the artifact upload refuses the 51st
)

// maxItems reports a list over its cap and says whether it was within it.
func (c *checker) maxItems(field string, n, limit int, what string) bool {
	if n > limit {
		c.add(field, "max_items", "must list at most %d %s (got %d)", limit, what, n)
		return false
	}
	return true
}

var originKinds = []string{"bright_spot", "research_based", "adapted", "team_designed"}

// ISO 8601 duration, as used for time_required (PT15M, PT1H30M, P1D).
var durationPattern = regexp.MustCompile(`^P(?:\d+W|(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+S)?)?)$`)

func validatePractice(c *checker, p *Practice, level Level) {
	pub := level == LevelPublish
	c.text("title", p.Title, 120, true)
	c.text("summary", p.Summary, 500, pub)
	c.text("description", p.Description, maxMarkdown, pub)
	c.text("context_notes", p.ContextNotes, maxMarkdown, false)
	if len(p.KeyMoves) > 10 {
		c.add("key_moves", "max_items", "must list at most 10 key moves (got %d)", len(p.KeyMoves))
	}
	if pub && len(p.KeyMoves) == 0 {
		c.add("key_moves", "required", "must list 1 to 10 observable key moves")
	}
	for i, k := range p.KeyMoves {
		c.text(fmt.Sprintf("key_moves[%d]", i), k, 300, true)
	}
	codes(c, "subjects", p.Subjects, ValidSubject, SubjectCodes, pub)
	codes(c, "grade_levels", p.GradeLevels, ValidGrade, GradeCodes, pub)
	if c.maxItems("standards", len(p.Standards), maxStandards, "standards") {
		for i, s := range p.Standards {
			validateStandard(c, fmt.Sprintf("standards[%d]", i), s)
		}
	}
	c.maxItems("based_on", len(p.BasedOn), maxBasedOn, "practices")
	c.maxItems("materials", len(p.Materials), maxMaterials, "materials")
	c.oneOf("origin_kind", p.OriginKind, originKinds, pub)
	if p.OriginKind == "adapted" && len(p.BasedOn) == 0 && pub {
		c.add("based_on", "required", "must name the practice this one adapts")
	}
	for i, b := range p.BasedOn {
		f := fmt.Sprintf("based_on[%d]", i)
		c.url(f+".uri", b.URI, true)
		c.oneOf(f+".relation", b.Relation, []string{"adaptation_of", "inspired_by"}, true)
		c.text(f+".changes", b.Changes, maxMarkdown, false)
	}
	if p.OriginKind == "bright_spot" && pub && p.BrightSpotEvidence == nil {
		c.add("bright_spot_evidence", "required", "is required when origin_kind is bright_spot")
	}
	if e := p.BrightSpotEvidence; e != nil {
		c.text("bright_spot_evidence.method", e.Method, maxShort, true)
		c.text("bright_spot_evidence.measure_name", e.MeasureName, maxShort, true)
		if e.ClassroomsCompared < 0 {
			c.add("bright_spot_evidence.classrooms_compared", "range", "must not be negative")
		}
		c.text("bright_spot_evidence.narrative", e.Narrative, maxMarkdown, false)
		if e.AttributedTo != "" && !e.TeacherConsent {
			c.add("bright_spot_evidence.attributed_to", "consent", "may name a teacher only with teacher_consent")
		}
	}
	if p.TimeRequired == "" {
		if pub {
			c.add("time_required", "required", "is required as an ISO 8601 duration, e.g. PT15M")
		}
	} else if !durationPattern.MatchString(p.TimeRequired) || p.TimeRequired == "P" || strings.HasSuffix(p.TimeRequired, "T") {
		c.add("time_required", "format", "must be an ISO 8601 duration, e.g. PT15M")
	}
	c.url("license", p.License, pub)
	for i, a := range p.Materials {
		c.text(fmt.Sprintf("materials[%d].name", i), a.Name, 255, true)
	}
}

func codes(c *checker, field string, vs []string, valid func(string) bool, allowed []string, required bool) {
	if required && len(vs) == 0 {
		c.add(field, "required", "must list at least one of %s", strings.Join(allowed, ", "))
	}
	seen := map[string]bool{}
	for i, v := range vs {
		f := fmt.Sprintf("%s[%d]", field, i)
		if !valid(v) {
			c.add(f, "one_of", "must be one of %s", strings.Join(allowed, ", "))
		} else if seen[v] {
			c.add(f, "duplicate", "is listed twice")
		}
		seen[v] = true
	}
}

// Standards frameworks with a known code shape. Codes of other frameworks are kept as free codes.
var standardPatterns = map[string]*regexp.Regexp{
	"CCSS.MATH":         regexp.MustCompile(`^CCSS\.MATH\.(CONTENT\.(K|[1-8]|HS[A-Z]{1,2})\.[A-Z]{1,4}(-[A-Z]{1,4})?\.[A-Z]\.\d{1,2}[A-Z]?(\.[A-Z])?|PRACTICE\.MP[1-8])$`),
	"CCSS.ELA-LITERACY": regexp.MustCompile(`^CCSS\.ELA-LITERACY\.[A-Z]{1,4}(-[A-Z]{1,4})?\.(K|[1-9]|1[0-2]|6-8|9-10|11-12)\.\d{1,2}[A-Z]?(\.[A-Z])?$`),
	"NGSS":              regexp.MustCompile(`^(K|[1-5]|MS|HS)-(PS|LS|ESS|ETS)\d-\d{1,2}$`),
}

// StandardFramework infers the framework of a code, or "" when it is a free code.
func StandardFramework(code string) string {
	switch {
	case strings.HasPrefix(code, "CCSS.MATH."):
		return "CCSS.MATH"
	case strings.HasPrefix(code, "CCSS.ELA-LITERACY."):
		return "CCSS.ELA-LITERACY"
	case standardPatterns["NGSS"].MatchString(code):
		return "NGSS"
	}
	return ""
}

func validateStandard(c *checker, f string, s Standard) {
	c.text(f+".code", s.Code, 100, true)
	if s.Code != strings.ToUpper(s.Code) {
		c.add(f+".code", "format", "must be upper-case (codes are normalised on save)")
	}
	fw := s.Framework
	if fw == "" {
		fw = StandardFramework(s.Code)
	}
	if re, ok := standardPatterns[fw]; ok && !re.MatchString(s.Code) {
		c.add(f+".code", "format", "is not a valid %s code", fw)
	}
	c.oneOf(f+".alignment", s.Alignment, []string{"teaches", "assesses"}, false)
	if s.URI != "" {
		c.url(f+".uri", s.URI, false)
	}
}

var (
	cycles     = []string{"step", "pdsa"}
	metrics    = []string{"mean_gain", "pct_proficient_post", "effect_size"}
	operators  = []string{">=", "<="}
	forms      = []string{"same", "parallel", "different"}
	fidelities = []string{"self_report", "peer_observation", "coach_observation"}
	yesNo      = []string{"yes", "partly", "no"}
)

func validateTest(c *checker, t *Test, level Level) {
	pub := level == LevelPublish
	c.text("title", t.Title, 120, pub)
	c.url("practice.uri", t.Practice.URI, true)
	if t.Practice.Version < 0 {
		c.add("practice.version", "range", "must not be negative")
	}
	c.oneOf("cycle", t.Cycle, cycles, true)
	c.oneOf("design", t.Design, Designs, true)
	c.text("question", t.Question, 1000, true)
	if t.Prediction == nil {
		if pub {
			c.add("prediction", "required", "must be stated before results exist")
		}
	} else {
		c.text("prediction.text", t.Prediction.Text, 1000, true)
		c.oneOf("prediction.metric", t.Prediction.Metric, metrics, true)
		c.oneOf("prediction.operator", t.Prediction.Operator, operators, true)
	}
	if a := t.Assessment; a == nil {
		if pub {
			c.add("assessment", "required", "is required")
		}
	} else {
		c.text("assessment.name", a.Name, maxShort, true)
		c.text("assessment.kind", a.Kind, maxShort, false)
		if a.ScoreMax <= a.ScoreMin {
			c.add("assessment.score_max", "range", "must be greater than score_min")
		}
		if a.ProficiencyCut != nil && (*a.ProficiencyCut < a.ScoreMin || *a.ProficiencyCut > a.ScoreMax) {
			c.add("assessment.proficiency_cut", "range", "must lie between score_min and score_max")
		}
		c.oneOf("assessment.form", a.Form, forms, pub)
	}
	if co := t.Cohort; co == nil {
		if pub {
			c.add("cohort", "required", "is required (aggregates only)")
		}
	} else {
		codes(c, "cohort.grade_levels", co.GradeLevels, ValidGrade, GradeCodes, pub)
		codes(c, "cohort.subjects", co.Subjects, ValidSubject, SubjectCodes, pub)
		if co.Classrooms < 0 || co.StudentsPlanned < 0 {
			c.add("cohort", "range", "counts must not be negative")
		}
		c.maxItems("cohort.context_tags", len(co.ContextTags), maxContextTags, "tags")
		for i, tag := range co.ContextTags {
			c.text(fmt.Sprintf("cohort.context_tags[%d]", i), tag, 60, true)
		}
	}
	start, serr := parseDate(t.StartDate)
	end, eerr := parseDate(t.EndDate)
	if t.StartDate == "" && pub {
		c.add("start_date", "required", "is required (YYYY-MM-DD)")
	} else if serr != nil {
		c.add("start_date", "format", "must be a date YYYY-MM-DD")
	}
	if t.EndDate == "" && pub {
		c.add("end_date", "required", "is required (YYYY-MM-DD)")
	} else if eerr != nil {
		c.add("end_date", "format", "must be a date YYYY-MM-DD")
	}
	if serr == nil && eerr == nil && !start.IsZero() && !end.IsZero() && end.Before(start) {
		c.add("end_date", "range", "must not be before start_date")
	}
	if d := t.Dosage; d == nil {
		if pub {
			c.add("dosage", "required", "is required")
		}
	} else if d.SessionsPlanned < 0 || d.SessionsDelivered < 0 || d.MinutesPerSession < 0 {
		c.add("dosage", "range", "counts must not be negative")
	}
	if f := t.Fidelity; f != nil {
		c.oneOf("fidelity.method", f.Method, fidelities, false)
		if f.AdherencePct != nil && (*f.AdherencePct < 0 || *f.AdherencePct > 100) {
			c.add("fidelity.adherence_pct", "range", "must be between 0 and 100")
		}
	}
	c.text("adaptations", t.Adaptations, maxMarkdown, false)
	c.text("deviations", t.Deviations, maxMarkdown, false)
	c.text("learnings", t.Learnings, maxMarkdown, pub)
	if t.Results == nil {
		if pub {
			c.add("results", "required", "must be computed from a score table or summary statistics first")
		}
		if t.Decision != "" {
			c.add("decision", "before_results", "cannot be recorded before results exist")
		}
		if t.PredictionMet != "" {
			c.add("prediction_met", "before_results", "cannot be recorded before results exist")
		}
	}
	validateMeasures(c, t.Measures, t.Assessment)
	c.oneOf("prediction_met", t.PredictionMet, yesNo, pub)
	c.oneOf("decision", t.Decision, Decisions, pub)
}

func parseDate(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.DateOnly, s)
}

func validateCollection(c *checker, col *Collection, level Level) {
	pub := level == LevelPublish
	c.text("title", col.Title, 120, true)
	c.text("description", col.Description, maxMarkdown, pub)
	c.text("aim", col.Aim, 1000, false)
	c.text("curator", col.Curator, maxShort, false)
	if len(col.Items) > 500 {
		c.add("items", "max_items", "must list at most 500 practices")
	}
	if pub && len(col.Items) == 0 {
		c.add("items", "required", "must list at least one practice")
	}
	seen := map[string]bool{}
	for i, it := range col.Items {
		f := fmt.Sprintf("items[%d]", i)
		c.url(f+".practice_uri", it.PracticeURI, true)
		if seen[it.PracticeURI] {
			c.add(f+".practice_uri", "duplicate", "is listed twice")
		}
		seen[it.PracticeURI] = true
		c.text(f+".note", it.Note, 2000, false)
	}
}

// CheckReceived checks a record received from a peer before it is stored: the limits every version
// of the protocol shares (text lengths, list lengths, no control characters) and the privacy rules
// (a teacher named only with consent). It does not apply vocabularies or the fields publishing
// requires: those may grow in later versions, and a peer's record is its district's to complete.
func CheckReceived(rec Record) error {
	err := Validate(rec, LevelCreate)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	var kept []FieldError
	for _, p := range ve.Problems {
		switch {
		case p.Rule == "max_length", p.Rule == "max_items", p.Rule == "consent",
			p.Rule == "format" && strings.Contains(p.Message, "control characters"),
			p.Rule == "format" && strings.Contains(p.Message, "UTF-8"):
			kept = append(kept, p)
		}
	}
	if len(kept) == 0 {
		return nil
	}
	return &ValidationError{Problems: kept}
}
