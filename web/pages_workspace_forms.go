package web

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/brightspots-nic/brightspots/practices"
)

// Editing forms of the workspace and coordinator pages.
//
// A form's state is a url.Values keyed by canonical field names that follow the records' JSON paths
// ("title", "assessment.score_max"; list fields hold one value per item). A record converts to these
// values to fill a form, and posted values convert back to a record, so:
//
//   - a refused form is shown again with exactly what was typed, each validation message next to its
//     field (a JSON path such as "key_moves[2]" maps to the field "key_moves", "line 3");
//   - a concurrent change by another team member is merged field by field against the version the
//     editor started from (three-way): fields only one side changed take that side's value, and a
//     field both changed keeps the editor's text in the input with the other member's text beside
//     it, so nothing is lost and the editor resubmits against the new version.

// option is one choice of a select, radio group or checkbox group.
type option struct{ Value, Label string }

// vocabularies are the option lists forms offer, by name.
var vocabularies = map[string][]option{
	"subjects": subjectOptions(),
	"grades":   gradeOptions(),
	"origin_kind": {{"team_designed", "Designed by our team"}, {"bright_spot", "A bright spot we found in our classrooms"},
		{"research_based", "Research-based"}, {"adapted", "Adapted from another practice"}},
	"relation":   {{"adaptation_of", "Adaptation of"}, {"inspired_by", "Inspired by"}},
	"visibility": {{"district", "Our district only"}, {"network", "Every district in the network"}, {"peers", "Selected districts"}, {"public", "Public (anyone)"}},
	"cycle":      {{"pdsa", "PDSA (Plan–Do–Study–Act)"}, {"step", "STEP Confirm"}},
	"design": {{"single_group_pre_post", "One group, before and after"}, {"pre_post_with_comparison", "Before and after, with a comparison group"},
		{"post_only_comparison", "After only, with a comparison group"}},
	"metric":         {{"effect_size", "Effect size (g)"}, {"mean_gain", "Mean gain in score points"}, {"pct_proficient_post", "% proficient after"}},
	"operator":       {{">=", "at least"}, {"<=", "at most"}},
	"form":           {{"same", "The same test before and after"}, {"parallel", "Parallel forms"}, {"different", "Different tests"}},
	"fidelity":       {{"self_report", "Self-report"}, {"peer_observation", "Peer observation"}, {"coach_observation", "Coach observation"}},
	"prediction_met": {{"yes", "Yes"}, {"partly", "Partly"}, {"no", "No"}},
	"decision":       {{"adopt", "Adopt: keep doing it as tested"}, {"adapt", "Adapt: change it and test again"}, {"abandon", "Abandon: stop"}},
	"role":           {{"teacher", "Teacher (read only)"}, {"publisher", "Publisher (one PLC team)"}, {"coordinator", "Coordinator"}, {"admin", "Admin"}},
}

func subjectOptions() []option {
	out := make([]option, len(practices.SubjectCodes))
	for i, c := range practices.SubjectCodes {
		out[i] = option{c, practices.Subjects[c]}
	}
	return out
}

func gradeOptions() []option {
	out := make([]option, len(practices.GradeCodes))
	for i, c := range practices.GradeCodes {
		l := practices.GradeLabel(c)
		if c == "KG" {
			l = "K"
		}
		out[i] = option{c, l}
	}
	return out
}

// fieldLabels are the human names of form fields, by record kind.
var fieldLabels = map[practices.Kind]map[string]string{
	kindToken: {"name": "Name", "role": "Role", "team": "PLC team", "new_team": "Or a new team"},
	practices.KindPractice: {
		"title": "Title", "summary": "Summary", "description": "What the teacher does, step by step",
		"key_moves": "Key moves", "subjects": "Subjects", "grade_levels": "Grades", "standards": "Standards",
		"origin_kind": "Where the practice comes from", "based_on": "Based on", "based_on.uri": "Link to the original practice",
		"based_on.relation": "Relation", "based_on.changes": "What you changed",
		"bright_spot_evidence": "How the bright spot was found", "bright_spot_evidence.method": "Method",
		"bright_spot_evidence.measure_name": "Measure", "bright_spot_evidence.classrooms_compared": "Classrooms compared",
		"bright_spot_evidence.z_score": "z-score of the bright spot", "bright_spot_evidence.narrative": "What you saw",
		"bright_spot_evidence.teacher_consent": "The teacher agreed to be named",
		"bright_spot_evidence.attributed_to":   "Teacher to credit",
		"time_required":                        "Time per session", "context_notes": "For whom and under what conditions",
		"materials": "Materials", "license": "License", "team": "PLC team", "visibility": "Who may see it once published",
		"shared_with": "Districts to share with",
	},
	practices.KindTest: {
		"title": "Name of this cycle", "practice": "Practice", "practice.uri": "Practice", "team": "PLC team",
		"cycle": "Cycle", "design": "Design", "question": "Question",
		"prediction": "Prediction", "prediction.text": "Prediction, in words", "prediction.metric": "Measured as",
		"prediction.operator": "Predicted to be", "prediction.value": "Value",
		"assessment": "Assessment", "assessment.name": "Assessment name", "assessment.kind": "Kind of assessment",
		"assessment.score_min": "Lowest possible score", "assessment.score_max": "Highest possible score",
		"assessment.proficiency_cut": "Proficiency cut score", "assessment.form": "Before and after forms",
		"cohort": "Cohort", "cohort.grade_levels": "Grades", "cohort.subjects": "Subjects", "cohort.classrooms": "Classrooms",
		"cohort.students_planned": "Students planned", "cohort.context_tags": "Context tags",
		"start_date": "Start date", "end_date": "End date",
		"dosage": "Dosage", "dosage.sessions_planned": "Sessions planned", "dosage.sessions_delivered": "Sessions delivered",
		"dosage.minutes_per_session": "Minutes per session",
		"fidelity":                   "Fidelity", "fidelity.method": "How fidelity was checked", "fidelity.adherence_pct": "Key moves followed (%)",
		"adaptations": "Adaptations", "deviations": "Deviations from the plan", "learnings": "What we learned",
		"results": "Results", "scores": "Score table (CSV)", "prediction_met": "Was the prediction met?", "decision": "Decision",
		"visibility": "Who may see it once published", "shared_with": "Districts to share with",
		"follows": "Follows the earlier cycle", "follows.uri": "Follows the earlier cycle", "follows.version": "Follows the earlier cycle",
	},
	practices.KindCollection: {
		"title": "Title", "description": "Description", "aim": "Network aim", "curator": "Curator shown",
		"items": "Practices", "visibility": "Who may see it once published", "shared_with": "Districts to share with",
	},
}

// formKeys are the canonical fields each kind's forms may set.
var formKeys = map[practices.Kind][]string{
	practices.KindPractice: {"title", "summary", "description", "key_moves", "subjects", "grade_levels", "standards",
		"origin_kind", "based_on.uri", "based_on.relation", "based_on.changes",
		"bright_spot_evidence.method", "bright_spot_evidence.measure_name", "bright_spot_evidence.classrooms_compared",
		"bright_spot_evidence.z_score", "bright_spot_evidence.narrative", "bright_spot_evidence.teacher_consent",
		"bright_spot_evidence.attributed_to", "time_required", "context_notes", "license", "visibility", "shared_with"},
	practices.KindTest: {"title", "cycle", "design", "question",
		"prediction.text", "prediction.metric", "prediction.operator", "prediction.value",
		"assessment.name", "assessment.kind", "assessment.score_min", "assessment.score_max", "assessment.proficiency_cut", "assessment.form",
		"cohort.grade_levels", "cohort.subjects", "cohort.classrooms", "cohort.students_planned", "cohort.context_tags",
		"start_date", "end_date", "dosage.sessions_planned", "dosage.sessions_delivered", "dosage.minutes_per_session",
		"fidelity.method", "fidelity.adherence_pct", "adaptations", "deviations", "learnings", "prediction_met", "decision",
		"visibility", "shared_with", "follows.uri"},
	practices.KindCollection: {"title", "description", "aim", "curator", "visibility", "shared_with", "items"},
}

// Sections of the test page: each form posts only its own fields; the others keep their current values.
var (
	testPlanKeys = []string{"title", "cycle", "design", "question",
		"prediction.text", "prediction.metric", "prediction.operator", "prediction.value",
		"assessment.name", "assessment.kind", "assessment.score_min", "assessment.score_max", "assessment.proficiency_cut", "assessment.form",
		"cohort.grade_levels", "cohort.subjects", "cohort.classrooms", "cohort.students_planned", "cohort.context_tags",
		"start_date", "end_date", "dosage.sessions_planned", "dosage.sessions_delivered", "dosage.minutes_per_session",
		"visibility", "shared_with", "follows.uri"}
	// testLockedKeys cannot change once results exist (practices.checkEditable): the plan form then
	// shows them as text and does not post them.
	testLockedKeys = []string{"design", "prediction.text", "prediction.metric", "prediction.operator", "prediction.value",
		"assessment.name", "assessment.kind", "assessment.score_min", "assessment.score_max", "assessment.proficiency_cut", "assessment.form"}
	testActKeys = []string{"fidelity.method", "fidelity.adherence_pct", "adaptations", "deviations", "learnings", "prediction_met", "decision"}
)

// publishFields lists, per kind, what the publish checklist names, in page order.
var publishFields = map[practices.Kind][]string{
	practices.KindPractice:   {"title", "summary", "description", "key_moves", "subjects", "grade_levels", "origin_kind", "time_required", "license"},
	practices.KindTest:       {"question", "prediction", "assessment", "cohort", "start_date", "end_date", "dosage", "results", "learnings", "prediction_met", "decision"},
	practices.KindCollection: {"title", "description", "items"},
}

// EditPage is the state shared by every editing page: the form, its problems, and a concurrent
// change to reconcile. Page types embed it.
type EditPage struct {
	Kind     practices.Kind
	Form     url.Values
	Errors   map[string][]string // inline messages by form field
	Problems []problemView       // every problem, for the summary at the top of the page
	Theirs   map[string][]string // fields both sides changed: the other member's current value
	Taken    []string            // labels of fields taken from the other member's change
	Version  int                 // the version the form is based on (sent back as "version")
	Notice   string
	Problem  bool // Notice is an error
	// Peers are the districts "Selected districts" can name (the "ws-shared-with" picker); empty on
	// a node without peers, which shows a text field instead.
	Peers []peerChoice
}

func (e *EditPage) edit() *EditPage { return e }

type problemView struct{ Anchor, Text string }

func newEditPage(kind practices.Kind, form url.Values, version int) *EditPage {
	return &EditPage{Kind: kind, Form: form, Version: version, Errors: map[string][]string{}, Theirs: map[string][]string{}}
}

// label is the human name of a form field.
func (e *EditPage) label(name string) string {
	if l, ok := fieldLabels[e.Kind][name]; ok {
		return l
	}
	return strings.ReplaceAll(name, "_", " ")
}

// fieldID is the HTML id of a form field's input.
func fieldID(name string) string {
	r := strings.NewReplacer(".", "-", "[", "-", "]", "", ":", "-", " ", "-")
	return "f-" + r.Replace(name)
}

// formField maps a JSON path of a validation problem to the form field that shows it, and the
// subject of the message ("Key moves, line 3").
func (e *EditPage) formField(path string) (name, subject string) {
	i := strings.IndexByte(path, '[')
	if i < 0 {
		return path, e.label(path)
	}
	base := path[:i]
	j := strings.IndexByte(path[i:], ']')
	n, _ := strconv.Atoi(path[i+1 : i+j])
	rest := path[i+j+1:]
	if base == "based_on" && n == 0 && rest != "" {
		return base + rest, e.label(base + rest)
	}
	unit := "line"
	if base == "items" || base == "materials" {
		unit = "item"
	}
	return base, fmt.Sprintf("%s, %s %d", e.label(base), unit, n+1)
}

// addProblems places validation problems next to their fields and in the summary.
func (e *EditPage) addProblems(problems []practices.FieldError) {
	for _, p := range problems {
		name, subject := e.formField(p.Field)
		text := subject + " " + p.Message
		e.Errors[name] = append(e.Errors[name], text)
		e.Problems = append(e.Problems, problemView{Anchor: fieldID(name), Text: text})
	}
}

// addError adds one message for a form field.
func (e *EditPage) addError(name, message string) {
	e.addProblems([]practices.FieldError{{Field: name, Message: message}})
}

// checkItem is one line of a publish checklist.
type checkItem struct {
	Label, Anchor string
	Done          bool
	Messages      []string
}

// checklist lists what publishing rec still needs: Validate at the publish level, grouped by the
// fields publishFields names (and any other field that fails).
func checklist(kind practices.Kind, rec practices.Record) []checkItem {
	var problems []practices.FieldError
	var ve *practices.ValidationError
	if err := practices.Validate(rec, practices.LevelPublish); errors.As(err, &ve) {
		problems = ve.Problems
	}
	e := newEditPage(kind, nil, 0)
	items := []checkItem{}
	index := map[string]int{}
	for _, f := range publishFields[kind] {
		index[f] = len(items)
		items = append(items, checkItem{Label: e.label(f), Anchor: fieldID(f), Done: true})
	}
	for _, p := range problems {
		top := p.Field
		if i := strings.IndexAny(top, ".["); i >= 0 {
			top = top[:i]
		}
		k, ok := index[top]
		if !ok {
			index[top] = len(items)
			k = len(items)
			items = append(items, checkItem{Label: e.label(top), Anchor: fieldID(top), Done: true})
		}
		name, subject := e.formField(p.Field)
		items[k].Done = false
		items[k].Anchor = fieldID(name)
		items[k].Messages = append(items[k].Messages, subject+" "+p.Message)
	}
	return items
}

func checklistReady(items []checkItem) bool {
	for _, it := range items {
		if !it.Done {
			return false
		}
	}
	return true
}

// fieldView is what the ws-* field templates render: one field of an EditPage.
type fieldView struct {
	e                 *EditPage
	Name, Label, Hint string
	Type              string
	Options           []option
}

func (f fieldView) ID() string       { return fieldID(f.Name) }
func (f fieldView) Value() string    { return f.e.Form.Get(f.Name) }
func (f fieldView) Errors() []string { return f.e.Errors[f.Name] }
func (f fieldView) Invalid() bool    { return len(f.e.Errors[f.Name]) > 0 }
func (f fieldView) Conflict() bool   { _, ok := f.e.Theirs[f.Name]; return ok }
func (f fieldView) Checked(v string) bool {
	return slices.Contains(f.e.Form[f.Name], v)
}

// Theirs is the other member's value of a conflicting field, as text.
func (f fieldView) Theirs() string {
	vals := f.e.Theirs[f.Name]
	if len(f.Options) > 0 {
		out := make([]string, len(vals))
		for i, v := range vals {
			out[i] = v
			for _, o := range f.Options {
				if o.Value == v {
					out[i] = o.Label
				}
			}
		}
		return strings.Join(out, ", ")
	}
	if len(vals) == 0 || (len(vals) == 1 && vals[0] == "") {
		return "(left empty)"
	}
	return strings.Join(vals, "\n")
}

// DescribedBy lists the ids of the hint, the messages and the other member's text.
func (f fieldView) DescribedBy() string {
	var ids []string
	if f.Hint != "" {
		ids = append(ids, f.ID()+"-hint")
	}
	if f.Invalid() {
		ids = append(ids, f.ID()+"-error")
	}
	if f.Conflict() {
		ids = append(ids, f.ID()+"-theirs")
	}
	return strings.Join(ids, " ")
}

type editor interface{ edit() *EditPage }

// formField is the template function "field": the view of one field of an editing page, with its
// label, hint, value, error and, for a controlled vocabulary, its options.
func formField(page any, name, hint string) (fieldView, error) {
	ed, ok := page.(editor)
	if !ok {
		return fieldView{}, fmt.Errorf("field %s: %T is not an editing page", name, page)
	}
	e := ed.edit()
	f := fieldView{e: e, Name: name, Label: e.label(name), Hint: hint, Type: "text"}
	if o, ok := vocabularies[strings.TrimPrefix(strings.TrimPrefix(name, "cohort."), "based_on.")]; ok {
		f.Options = o
	}
	switch {
	case strings.HasSuffix(name, "grade_levels"):
		f.Options = vocabularies["grades"]
	case strings.HasSuffix(name, ".method") && strings.HasPrefix(name, "fidelity"):
		f.Options = vocabularies["fidelity"]
	case strings.HasPrefix(name, "assessment.form"):
		f.Options = vocabularies["form"]
	case name == "prediction.metric" || name == "prediction.operator":
		f.Options = vocabularies[strings.TrimPrefix(name, "prediction.")]
	}
	return f, nil
}

// SharingPeers are the districts the sharing picker offers, ticked as the form has them.
func (f fieldView) SharingPeers() []peerChoice { return f.e.Peers }

// sharedWithOf reads "Selected districts" from a form: one value per ticked district from the
// picker, or ids separated by commas from the text field (every value counts, not the first).
func sharedWithOf(v url.Values) []string {
	var out []string
	for _, s := range v["shared_with"] {
		out = append(out, splitList(s)...)
	}
	return out
}

// typedField is the template function "typed": the field shown as an input of type t.
func typedField(t string, f fieldView) fieldView { f.Type = t; return f }

// optionLabel is the display label of the value v of a controlled vocabulary.
func optionLabel(vocab, v string) string {
	for _, o := range vocabularies[vocab] {
		if o.Value == v {
			return o.Label
		}
	}
	return v
}

// canonical turns a posted form into canonical values: only keys, CRLF newlines as LF.
func canonical(posted url.Values, keys []string) url.Values {
	out := url.Values{}
	for _, k := range keys {
		for _, v := range posted[k] {
			out.Add(k, strings.ReplaceAll(v, "\r\n", "\n"))
		}
	}
	return out
}

// overlay returns base with the keys of section replaced by posted's values.
func overlay(base, posted url.Values, section []string) url.Values {
	out := url.Values{}
	for k, v := range base {
		out[k] = slices.Clone(v)
	}
	for _, k := range section {
		delete(out, k)
		for _, v := range posted[k] {
			out.Add(k, strings.ReplaceAll(v, "\r\n", "\n"))
		}
	}
	return out
}

func joined(v url.Values, k string) string { return strings.Join(v[k], "\x00") }

// merge3 merges mine and theirs, both derived from base, over keys. A field only one side changed
// takes that side's value; a field both changed differently keeps mine and is reported in
// conflicts with theirs. taken lists the fields taken from theirs. A nil base (unknown) makes every
// difference a conflict.
func merge3(base, mine, theirs url.Values, keys []string) (out url.Values, conflicts map[string][]string, taken []string) {
	out = url.Values{}
	for k, v := range mine {
		out[k] = slices.Clone(v)
	}
	conflicts = map[string][]string{}
	for _, k := range keys {
		m, t := joined(mine, k), joined(theirs, k)
		if m == t {
			continue
		}
		if base != nil {
			b := joined(base, k)
			if m == b {
				out[k] = slices.Clone(theirs[k])
				if len(theirs[k]) == 0 {
					delete(out, k)
				}
				taken = append(taken, k)
				continue
			}
			if t == b {
				continue
			}
		}
		conflicts[k] = slices.Clone(theirs[k])
		if len(theirs[k]) == 0 {
			conflicts[k] = []string{}
		}
	}
	return out, conflicts, taken
}

// Conversions between records and form values.

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == ' ' })
}

func splitTags(s string) []string {
	var out []string
	for _, t := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' }) {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func fmtInt(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// numbers parses the numeric fields of a form, collecting a problem for each that is not a number.
type numbers struct{ problems []practices.FieldError }

func (n *numbers) float(v url.Values, k string) (float64, bool) {
	s := strings.TrimSpace(v.Get(k))
	if s == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		n.problems = append(n.problems, practices.FieldError{Field: k, Rule: "format", Message: "must be a number"})
		return 0, false
	}
	return f, true
}

func (n *numbers) floatPtr(v url.Values, k string) *float64 {
	if f, ok := n.float(v, k); ok {
		return &f
	}
	return nil
}

func (n *numbers) int(v url.Values, k string) int {
	s := strings.TrimSpace(v.Get(k))
	if s == "" {
		return 0
	}
	i, err := strconv.Atoi(s)
	if err != nil {
		n.problems = append(n.problems, practices.FieldError{Field: k, Rule: "format", Message: "must be a whole number"})
	}
	return i
}

func anySet(v url.Values, keys ...string) bool {
	for _, k := range keys {
		if strings.TrimSpace(v.Get(k)) != "" {
			return true
		}
	}
	return false
}

// practiceValues is the form state of a practice.
func practiceValues(p *practices.Practice) url.Values {
	v := url.Values{}
	set := func(k, s string) { setNonEmpty(v, k, s) }
	set("title", p.Title)
	set("summary", p.Summary)
	set("description", p.Description)
	set("key_moves", strings.Join(p.KeyMoves, "\n"))
	v["subjects"] = slices.Clone(p.Subjects)
	v["grade_levels"] = slices.Clone(p.GradeLevels)
	var codes []string
	for _, s := range p.Standards {
		codes = append(codes, s.Code)
	}
	set("standards", strings.Join(codes, "\n"))
	set("origin_kind", p.OriginKind)
	if len(p.BasedOn) > 0 {
		set("based_on.uri", p.BasedOn[0].URI)
		set("based_on.relation", p.BasedOn[0].Relation)
		set("based_on.changes", p.BasedOn[0].Changes)
	}
	if b := p.BrightSpotEvidence; b != nil {
		set("bright_spot_evidence.method", b.Method)
		set("bright_spot_evidence.measure_name", b.MeasureName)
		set("bright_spot_evidence.classrooms_compared", fmtInt(b.ClassroomsCompared))
		if b.ZScore != nil {
			set("bright_spot_evidence.z_score", fmtFloat(*b.ZScore))
		}
		set("bright_spot_evidence.narrative", b.Narrative)
		if b.TeacherConsent {
			set("bright_spot_evidence.teacher_consent", "yes")
		}
		set("bright_spot_evidence.attributed_to", b.AttributedTo)
	}
	set("time_required", minutesOf(p.TimeRequired))
	set("context_notes", p.ContextNotes)
	set("license", p.License)
	set("visibility", string(p.Visibility))
	set("shared_with", strings.Join(p.SharedWith, ", "))
	set("team", p.Team)
	for k, vals := range v {
		if len(vals) == 0 {
			delete(v, k)
		}
	}
	return v
}

// minutesOf shows PT15M as "15"; other durations as they are.
func minutesOf(d string) string {
	if n, ok := practices.DurationMinutes(d); ok {
		return strconv.Itoa(n) // PT1H is "60" minutes in the form, never the code
	}
	return d
}

// durationOf reads "15" as 15 minutes (PT15M); anything else is taken as an ISO 8601 duration.
func durationOf(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if n, err := strconv.Atoi(s); err == nil && n > 0 {
		return "PT" + strconv.Itoa(n) + "M"
	}
	return strings.ToUpper(strings.ReplaceAll(s, " ", ""))
}

// practiceFromValues builds the practice a form describes. cur (nil when creating) supplies what the
// form does not show: attached materials, standards' alignments, further lineage entries.
func practiceFromValues(v url.Values, cur *practices.Practice) (*practices.Practice, []practices.FieldError) {
	var n numbers
	p := &practices.Practice{
		Title: strings.TrimSpace(v.Get("title")), Summary: strings.TrimSpace(v.Get("summary")),
		Description: strings.TrimSpace(v.Get("description")), KeyMoves: lines(v.Get("key_moves")),
		Subjects: v["subjects"], GradeLevels: v["grade_levels"], OriginKind: v.Get("origin_kind"),
		TimeRequired: durationOf(v.Get("time_required")), ContextNotes: strings.TrimSpace(v.Get("context_notes")),
		License: strings.TrimSpace(v.Get("license")),
	}
	p.Visibility = practices.Visibility(v.Get("visibility"))
	p.SharedWith = sharedWithOf(v)
	p.Team = strings.TrimSpace(v.Get("team"))
	var known []practices.Standard
	if cur != nil {
		known = cur.Standards
		p.Materials = cur.Materials
		p.Team = cur.Team
	}
	for _, code := range lines(v.Get("standards")) {
		code = strings.ToUpper(code)
		std := practices.Standard{Code: code}
		for _, k := range known {
			if k.Code == code {
				std = k
			}
		}
		p.Standards = append(p.Standards, std)
	}
	if anySet(v, "based_on.uri", "based_on.changes") {
		p.BasedOn = append(p.BasedOn, practices.BasedOn{URI: strings.TrimSpace(v.Get("based_on.uri")),
			Relation: v.Get("based_on.relation"), Changes: strings.TrimSpace(v.Get("based_on.changes"))})
	}
	if cur != nil && len(cur.BasedOn) > 1 {
		p.BasedOn = append(p.BasedOn, cur.BasedOn[1:]...)
	}
	if anySet(v, "bright_spot_evidence.method", "bright_spot_evidence.measure_name", "bright_spot_evidence.classrooms_compared",
		"bright_spot_evidence.z_score", "bright_spot_evidence.narrative", "bright_spot_evidence.attributed_to") {
		p.BrightSpotEvidence = &practices.BrightSpotEvidence{
			Method: strings.TrimSpace(v.Get("bright_spot_evidence.method")), MeasureName: strings.TrimSpace(v.Get("bright_spot_evidence.measure_name")),
			ClassroomsCompared: n.int(v, "bright_spot_evidence.classrooms_compared"), ZScore: n.floatPtr(v, "bright_spot_evidence.z_score"),
			Narrative: strings.TrimSpace(v.Get("bright_spot_evidence.narrative")), TeacherConsent: v.Get("bright_spot_evidence.teacher_consent") == "yes",
			AttributedTo: strings.TrimSpace(v.Get("bright_spot_evidence.attributed_to")),
		}
	}
	return p, n.problems
}

// testValues is the form state of a test.
func testValues(t *practices.Test) url.Values {
	v := url.Values{}
	set := func(k, s string) { setNonEmpty(v, k, s) }
	set("title", t.Title)
	set("practice.uri", t.Practice.URI)
	set("practice.version", fmtInt(t.Practice.Version))
	set("team", t.Team)
	set("cycle", t.Cycle)
	set("design", t.Design)
	set("question", t.Question)
	if pr := t.Prediction; pr != nil {
		set("prediction.text", pr.Text)
		set("prediction.metric", pr.Metric)
		set("prediction.operator", pr.Operator)
		set("prediction.value", fmtFloat(pr.Value))
	}
	if a := t.Assessment; a != nil {
		set("assessment.name", a.Name)
		set("assessment.kind", a.Kind)
		set("assessment.score_min", fmtFloat(a.ScoreMin))
		set("assessment.score_max", fmtFloat(a.ScoreMax))
		if a.ProficiencyCut != nil {
			set("assessment.proficiency_cut", fmtFloat(*a.ProficiencyCut))
		}
		set("assessment.form", a.Form)
	}
	if c := t.Cohort; c != nil {
		v["cohort.grade_levels"] = slices.Clone(c.GradeLevels)
		v["cohort.subjects"] = slices.Clone(c.Subjects)
		set("cohort.classrooms", fmtInt(c.Classrooms))
		set("cohort.students_planned", fmtInt(c.StudentsPlanned))
		set("cohort.context_tags", strings.Join(c.ContextTags, ", "))
	}
	set("start_date", t.StartDate)
	set("end_date", t.EndDate)
	if d := t.Dosage; d != nil {
		set("dosage.sessions_planned", fmtInt(d.SessionsPlanned))
		set("dosage.sessions_delivered", fmtInt(d.SessionsDelivered))
		set("dosage.minutes_per_session", fmtInt(d.MinutesPerSession))
	}
	if f := t.Fidelity; f != nil {
		set("fidelity.method", f.Method)
		if f.AdherencePct != nil {
			set("fidelity.adherence_pct", fmtFloat(*f.AdherencePct))
		}
	}
	set("adaptations", t.Adaptations)
	set("deviations", t.Deviations)
	set("learnings", t.Learnings)
	set("prediction_met", t.PredictionMet)
	set("decision", t.Decision)
	set("visibility", string(t.Visibility))
	set("shared_with", strings.Join(t.SharedWith, ", "))
	if t.Follows != nil {
		set("follows.uri", t.Follows.URI)
	}
	for k, vals := range v {
		if len(vals) == 0 {
			delete(v, k)
		}
	}
	return v
}

// testFromValues builds the test a form describes; cur (nil when creating) supplies the practice
// reference and team, which never change.
func testFromValues(v url.Values, cur *practices.Test) (*practices.Test, []practices.FieldError) {
	var n numbers
	t := &practices.Test{
		Title: strings.TrimSpace(v.Get("title")), Cycle: v.Get("cycle"), Design: v.Get("design"),
		Question: strings.TrimSpace(v.Get("question")), StartDate: strings.TrimSpace(v.Get("start_date")),
		EndDate: strings.TrimSpace(v.Get("end_date")), Adaptations: strings.TrimSpace(v.Get("adaptations")),
		Deviations: strings.TrimSpace(v.Get("deviations")), Learnings: strings.TrimSpace(v.Get("learnings")),
		PredictionMet: v.Get("prediction_met"), Decision: v.Get("decision"),
	}
	t.Visibility = practices.Visibility(v.Get("visibility"))
	t.SharedWith = sharedWithOf(v)
	if uri := strings.TrimSpace(v.Get("follows.uri")); uri != "" {
		t.Follows = &practices.TestRef{URI: uri}
		if cur != nil && cur.Follows != nil && cur.Follows.URI == uri {
			t.Follows.Version = cur.Follows.Version // unchanged: keep the version it was linked to
		}
	}
	if cur != nil {
		t.Practice, t.Team = cur.Practice, cur.Team
	} else {
		t.Practice = practices.PracticeRef{URI: strings.TrimSpace(v.Get("practice.uri")), Version: n.int(v, "practice.version")}
		t.Team = strings.TrimSpace(v.Get("team"))
	}
	if anySet(v, "prediction.text", "prediction.value") {
		val, _ := n.float(v, "prediction.value")
		t.Prediction = &practices.Prediction{Text: strings.TrimSpace(v.Get("prediction.text")), Metric: v.Get("prediction.metric"),
			Operator: v.Get("prediction.operator"), Value: val}
	}
	if anySet(v, "assessment.name", "assessment.kind", "assessment.score_min", "assessment.score_max", "assessment.proficiency_cut") {
		lo, _ := n.float(v, "assessment.score_min")
		hi, _ := n.float(v, "assessment.score_max")
		t.Assessment = &practices.Assessment{Name: strings.TrimSpace(v.Get("assessment.name")), Kind: strings.TrimSpace(v.Get("assessment.kind")),
			ScoreMin: lo, ScoreMax: hi, ProficiencyCut: n.floatPtr(v, "assessment.proficiency_cut"), Form: v.Get("assessment.form")}
	}
	if anySet(v, "cohort.grade_levels", "cohort.subjects", "cohort.classrooms", "cohort.students_planned", "cohort.context_tags") {
		t.Cohort = &practices.Cohort{GradeLevels: v["cohort.grade_levels"], Subjects: v["cohort.subjects"],
			Classrooms: n.int(v, "cohort.classrooms"), StudentsPlanned: n.int(v, "cohort.students_planned"),
			ContextTags: splitTags(v.Get("cohort.context_tags"))}
	}
	if anySet(v, "dosage.sessions_planned", "dosage.sessions_delivered", "dosage.minutes_per_session") {
		t.Dosage = &practices.Dosage{SessionsPlanned: n.int(v, "dosage.sessions_planned"),
			SessionsDelivered: n.int(v, "dosage.sessions_delivered"), MinutesPerSession: n.int(v, "dosage.minutes_per_session")}
	}
	if anySet(v, "fidelity.method", "fidelity.adherence_pct") {
		t.Fidelity = &practices.Fidelity{Method: v.Get("fidelity.method"), AdherencePct: n.floatPtr(v, "fidelity.adherence_pct")}
	}
	return t, n.problems
}

// collectionValues is the form state of a collection: items in order, a note per item keyed by URI.
func collectionValues(c *practices.Collection) url.Values {
	v := url.Values{}
	set := func(k, s string) { setNonEmpty(v, k, s) }
	set("title", c.Title)
	set("description", c.Description)
	set("aim", c.Aim)
	set("curator", c.Curator)
	set("visibility", string(c.Visibility))
	set("shared_with", strings.Join(c.SharedWith, ", "))
	for _, it := range c.Items {
		v.Add("items", it.PracticeURI)
		set("note:"+it.PracticeURI, it.Note)
	}
	return v
}

// collectionKeys are the merge keys of collection values: the fixed fields and one note per item.
func collectionKeys(vs ...url.Values) []string {
	keys := slices.Clone(formKeys[practices.KindCollection])
	for _, v := range vs {
		for k := range v {
			if strings.HasPrefix(k, "note:") && !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// collectionPosted reads a posted collection form: the fields, and the items as parallel "item"
// and "note" values in page order.
func collectionPosted(posted url.Values) url.Values {
	v := canonical(posted, []string{"title", "description", "aim", "curator", "visibility", "shared_with"})
	notes := posted["note"]
	for i, uri := range posted["item"] {
		v.Add("items", uri)
		if i < len(notes) && strings.TrimSpace(notes[i]) != "" {
			v.Set("note:"+uri, strings.ReplaceAll(notes[i], "\r\n", "\n"))
		}
	}
	return v
}

func collectionFromValues(v url.Values, cur *practices.Collection) *practices.Collection {
	c := &practices.Collection{Title: strings.TrimSpace(v.Get("title")), Description: strings.TrimSpace(v.Get("description")),
		Aim: strings.TrimSpace(v.Get("aim")), Curator: strings.TrimSpace(v.Get("curator"))}
	c.Visibility = practices.Visibility(v.Get("visibility"))
	c.SharedWith = sharedWithOf(v)
	if cur != nil {
		c.Team = cur.Team
	}
	for _, uri := range v["items"] {
		c.Items = append(c.Items, practices.CollectionItem{PracticeURI: uri, Note: strings.TrimSpace(v.Get("note:" + uri))})
	}
	return c
}

// setNonEmpty sets k to s in v unless s is empty, so a form shows blank fields as blank.
func setNonEmpty(v url.Values, k, s string) {
	if s != "" {
		v.Set(k, s)
	}
}

// publishForm is what the "ws-publish" partial shows: the Publish section of an editing page — when
// and to whom the record was published, or the checklist and the form that publishes it.
type publishForm struct {
	Heading     string // the section heading: "Publish", or "4. Publish" on the test page
	Noun        string // practice, test, collection
	Action      string // where the form posts
	Version     int
	Published   bool
	PublishedAt *time.Time
	Visibility  practices.Visibility // shown as "who may see it" when set
	NewVersion  bool                 // saving a published record publishes a new version
	ShowReady   bool                 // say above the checklist whether everything is there
	Ready       bool
	Checklist   []checkItem
}

// Base is the record's editing address, under which its withdraw and delete forms post.
func (f publishForm) Base() string { return strings.TrimSuffix(f.Action, "/publish") }

// Publish is the Publish section of the practice page.
func (v practiceEditView) Publish() publishForm {
	return publishForm{
		Heading: "Publish", Noun: "practice", Action: "/workspace/practices/" + v.Practice.ID + "/publish",
		Version: v.Practice.Version, Published: v.Practice.Status == practices.StatusPublished,
		PublishedAt: v.Practice.PublishedAt, Visibility: v.Practice.Visibility, NewVersion: true,
		ShowReady: true, Ready: v.Ready, Checklist: v.Checklist,
	}
}

// Publish is the Publish section of the test page, its fourth step.
func (v testView) Publish() publishForm {
	return publishForm{
		Heading: "4. Publish", Noun: "test", Action: "/workspace/tests/" + v.Test.ID + "/publish",
		Version: v.Test.Version, Published: v.Test.Status == practices.StatusPublished,
		PublishedAt: v.Test.PublishedAt, Visibility: v.Test.Visibility,
		ShowReady: true, Ready: v.Ready, Checklist: v.Checklist,
	}
}

// Publish is the Publish section of the collection editor.
func (v collectionEditView) Publish() publishForm {
	return publishForm{
		Heading: "Publish", Noun: "collection", Action: "/collections/" + v.Collection.ID + "/publish",
		Version: v.Collection.Version, Published: v.Collection.Status == practices.StatusPublished,
		PublishedAt: v.Collection.PublishedAt, NewVersion: true, Ready: v.Ready, Checklist: v.Checklist,
	}
}
