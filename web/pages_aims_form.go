package web

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/evidence"
)

// The aim form (aim_edit.html): one form for the statement, outcome measure, target, drivers,
// change ideas and related collections. Rows are added and removed with submit buttons that
// re-render the form with what was typed (it works without JavaScript); practices are found by a
// search inside each change idea's row. Fields are named by row: driver.{i}.text, idea.{i}.drivers,
// so the API's problems (drivers[i].parent, change_ideas[i].practices[j]) land next to the field.

// aimForm is the form's state, typed or loaded.
type aimForm struct {
	ID, CSRF      string
	Version       int
	Status        string
	Title         string
	Statement     string
	MeasureName   string
	MeasureKind   string
	MeasureDir    string
	MeasureDef    string
	ScoreMin      string
	ScoreMax      string
	Cut           string
	TargetValue   string
	TargetBy      string
	Curator       string
	Visibility    string
	SharedWith    string
	Collections   []string // URIs chosen
	Drivers       []driverRow
	Ideas         []ideaRow
	Errors        []string          // problems not about one field
	FieldErrors   map[string]string // field name → message
	Notice        string
	Problem       bool
	Focus         string // element id to bring into view after a row button
	Link          string // the dashboard, once published
	SearchRow     int    // the change idea whose Search button was pressed (-1: none): one search per request
	CollectionOpt []aimOption
}

type driverRow struct {
	Num                     int
	ID, Level, Text, Parent string
	ParentOptions           []aimOption
	ParentUnknown           bool
	TextError, ParentError  string
	RowError                string
	IsSecondary             bool
}

type ideaRow struct {
	Num        int
	ID, Text   string
	Drivers    []string
	Practices  []pickedPractice
	Query      string
	Hits       []pickedPractice
	Searched   bool
	SearchNote string
	TextError  string
	DrvError   string
	PracError  string
	RowError   string
	DriverOpts []aimOption
}

type pickedPractice struct {
	URI, Title, District string
	Checked              bool
}

type aimOption struct {
	Value, Label string
	Checked      bool
}

func newAimForm() *aimForm {
	return &aimForm{SearchRow: -1, MeasureKind: evidence.MeasurePercent, MeasureDir: evidence.DirectionUp, Visibility: string(practices.VisibilityNetwork), FieldErrors: map[string]string{}}
}

// aimFormOf fills the form from a stored aim.
func aimFormOf(a *practices.Aim) *aimForm {
	f := newAimForm()
	f.ID, f.Version, f.Status = a.ID, a.Version, string(a.Status)
	f.Title, f.Statement, f.Curator = a.Title, a.Statement, a.Curator
	f.Visibility, f.SharedWith = string(a.Visibility), strings.Join(a.SharedWith, ", ")
	if om := a.OutcomeMeasure; om != nil {
		f.MeasureName, f.MeasureKind, f.MeasureDir, f.MeasureDef = om.Name, om.Kind, om.Direction, om.Definition
		f.ScoreMin, f.ScoreMax, f.Cut = fmtOptional(om.ScoreMin), fmtOptional(om.ScoreMax), fmtOptional(om.Cut)
	}
	if t := a.Target; t != nil {
		f.TargetValue, f.TargetBy = strconv.FormatFloat(t.Value, 'f', -1, 64), t.By
	}
	for _, d := range a.Drivers {
		f.Drivers = append(f.Drivers, driverRow{ID: d.ID, Level: d.Level, Text: d.Text, Parent: d.Parent})
	}
	for _, c := range a.ChangeIdeas {
		row := ideaRow{ID: c.ID, Text: c.Text, Drivers: append([]string(nil), c.Drivers...)}
		for _, uri := range c.Practices {
			row.Practices = append(row.Practices, pickedPractice{URI: uri, Title: uri, Checked: true})
		}
		f.Ideas = append(f.Ideas, row)
	}
	f.Collections = append([]string(nil), a.Collections...)
	return f
}

var rowField = regexp.MustCompile(`^(driver|idea)\.(\d+)\.([a-z_]+)$`)

// aimFormFrom reads a posted form. Rows come back in the order of their numbers.
func aimFormFrom(v url.Values) *aimForm {
	g := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	f := newAimForm()
	f.ID, f.Status = g("aim_id"), g("status")
	f.Version, _ = strconv.Atoi(g("version"))
	f.Title, f.Statement, f.Curator = g("title"), g("statement"), g("curator")
	f.MeasureName, f.MeasureKind, f.MeasureDir, f.MeasureDef = g("outcome_measure.name"), g("outcome_measure.kind"), g("outcome_measure.direction"), g("outcome_measure.definition")
	f.ScoreMin, f.ScoreMax, f.Cut = g("outcome_measure.score_min"), g("outcome_measure.score_max"), g("outcome_measure.cut")
	f.TargetValue, f.TargetBy = g("target.value"), g("target.by")
	f.Visibility, f.SharedWith = g("visibility"), g("shared_with")
	f.Collections = v["collections"]
	drivers, ideas := map[int]*driverRow{}, map[int]*ideaRow{}
	for k, vals := range v {
		m := rowField.FindStringSubmatch(k)
		if m == nil {
			continue
		}
		i, err := strconv.Atoi(m[2])
		if err != nil || i < 0 || i > practices.MaxAimChangeIdeas+practices.MaxAimDrivers {
			continue
		}
		val := ""
		if len(vals) > 0 {
			val = strings.TrimSpace(vals[0])
		}
		if m[1] == "driver" {
			d := drivers[i]
			if d == nil {
				d = &driverRow{Num: i}
				drivers[i] = d
			}
			switch m[3] {
			case "id":
				d.ID = val
			case "level":
				d.Level = val
			case "text":
				d.Text = val
			case "parent":
				d.Parent = val
			}
			continue
		}
		c := ideas[i]
		if c == nil {
			c = &ideaRow{Num: i}
			ideas[i] = c
		}
		switch m[3] {
		case "id":
			c.ID = val
		case "text":
			c.Text = val
		case "drivers":
			c.Drivers = vals
		case "practices":
			for _, uri := range vals {
				c.Practices = append(c.Practices, pickedPractice{URI: uri, Title: uri, Checked: true})
			}
		case "add":
			for _, uri := range vals {
				c.Practices = append(c.Practices, pickedPractice{URI: uri, Title: uri, Checked: true})
			}
		case "q":
			c.Query = val
		}
	}
	for _, i := range sortedKeys(drivers) {
		f.Drivers = append(f.Drivers, *drivers[i])
	}
	for _, i := range sortedKeys(ideas) {
		c := ideas[i]
		c.Practices = dedupePicked(c.Practices)
		f.Ideas = append(f.Ideas, *c)
	}
	return f
}

func sortedKeys[T any](m map[int]T) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}

func dedupePicked(ps []pickedPractice) []pickedPractice {
	seen := map[string]bool{}
	out := ps[:0]
	for _, p := range ps {
		if p.URI == "" || seen[p.URI] {
			continue
		}
		seen[p.URI] = true
		out = append(out, p)
	}
	return out
}

// assignIDs gives rows typed without an id one made from their text, unique within the aim, so that
// secondaries and change ideas can name the drivers before the aim is saved.
func (f *aimForm) assignIDs() {
	taken := map[string]bool{}
	for _, d := range f.Drivers {
		if d.ID != "" {
			taken[d.ID] = true
		}
	}
	for _, c := range f.Ideas {
		if c.ID != "" {
			taken[c.ID] = true
		}
	}
	newID := func(prefix, text string) string {
		base := practices.MeasureID(text)
		if base == "" || base == "measure" {
			base = prefix
		}
		if len(base) > 40 {
			base = strings.Trim(base[:40], "-")
		}
		id := base
		for n := 2; taken[id]; n++ {
			id = fmt.Sprintf("%s-%d", base, n)
		}
		taken[id] = true
		return id
	}
	for i := range f.Drivers {
		if f.Drivers[i].ID == "" && f.Drivers[i].Text != "" {
			f.Drivers[i].ID = newID("driver", f.Drivers[i].Text)
		}
	}
	for i := range f.Ideas {
		if f.Ideas[i].ID == "" && f.Ideas[i].Text != "" {
			f.Ideas[i].ID = newID("idea", f.Ideas[i].Text)
		}
	}
}

// blankRow reports whether a row was left empty (it is dropped, not refused).
func (d driverRow) blank() bool { return d.Text == "" && d.Parent == "" }
func (c ideaRow) blank() bool   { return c.Text == "" && len(c.Drivers) == 0 && len(c.Practices) == 0 }

// aim builds the record the form describes. Number fields that do not parse are marked on the form
// and left out, so validation names the other problems at the same time.
func (f *aimForm) aim(cur *practices.Aim) (*practices.Aim, []int, []int) {
	a := &practices.Aim{Title: f.Title, Statement: f.Statement, Curator: f.Curator, Collections: f.Collections}
	if cur != nil {
		a.Team = cur.Team
	}
	a.Visibility = practices.Visibility(f.Visibility)
	a.SharedWith = splitList(f.SharedWith)
	num := func(field, s string) *float64 {
		if s == "" {
			return nil
		}
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			f.FieldErrors[field] = "Must be a number."
			return nil
		}
		return &x
	}
	// A draft may leave the outcome measure for later: it is sent when any of its fields is typed.
	if f.MeasureName != "" || f.MeasureDef != "" || f.ScoreMin != "" || f.ScoreMax != "" || f.Cut != "" {
		a.OutcomeMeasure = &practices.OutcomeMeasure{Name: f.MeasureName, Kind: f.MeasureKind, Direction: f.MeasureDir, Definition: f.MeasureDef,
			ScoreMin: num("outcome_measure.score_min", f.ScoreMin), ScoreMax: num("outcome_measure.score_max", f.ScoreMax), Cut: num("outcome_measure.cut", f.Cut)}
	}
	if f.TargetValue != "" || f.TargetBy != "" {
		t := &practices.AimTarget{By: f.TargetBy}
		if v := num("target.value", f.TargetValue); v != nil {
			t.Value = *v
		} else if f.TargetValue == "" {
			f.FieldErrors["target.value"] = "Give the value the network means to reach."
		}
		a.Target = t
	}
	var driverRows, ideaRows []int
	for i, d := range f.Drivers {
		if d.blank() {
			continue
		}
		level := practices.DriverPrimary
		if d.Level == practices.DriverSecondary || d.Parent != "" {
			level = practices.DriverSecondary
		}
		a.Drivers = append(a.Drivers, practices.Driver{ID: d.ID, Level: level, Text: d.Text, Parent: d.Parent})
		driverRows = append(driverRows, i)
	}
	for i, c := range f.Ideas {
		if c.blank() {
			continue
		}
		ci := practices.ChangeIdea{ID: c.ID, Text: c.Text, Drivers: append([]string{}, c.Drivers...)}
		for _, p := range c.Practices {
			if p.Checked {
				ci.Practices = append(ci.Practices, p.URI)
			}
		}
		a.ChangeIdeas = append(a.ChangeIdeas, ci)
		ideaRows = append(ideaRows, i)
	}
	return a, driverRows, ideaRows
}

var aimProblemField = regexp.MustCompile(`^(drivers|change_ideas)\[(\d+)\](?:\.([a-z_]+))?`)

// place puts the API's problems next to the form's fields: drivers[i].x and change_ideas[i].x go to
// the row the record's i-th entry came from; other fields by their name.
func (f *aimForm) place(problems []practices.FieldError, driverRows, ideaRows []int) {
	for _, p := range problems {
		msg := sentence(p.Message)
		m := aimProblemField.FindStringSubmatch(p.Field)
		if m == nil {
			field := p.Field
			if field == "target" {
				field = "target.by"
			}
			if field == "outcome_measure" {
				field = "outcome_measure.name"
			}
			if _, known := aimTopFields[field]; known {
				f.addField(field, msg)
			} else {
				f.Errors = append(f.Errors, msg)
			}
			continue
		}
		j, _ := strconv.Atoi(m[2])
		if m[1] == "drivers" && j < len(driverRows) {
			d := &f.Drivers[driverRows[j]]
			switch m[3] {
			case "text":
				d.TextError = msg
			case "parent", "level":
				d.ParentError = msg
			default:
				d.RowError = msg
			}
			continue
		}
		if m[1] == "change_ideas" && j < len(ideaRows) {
			c := &f.Ideas[ideaRows[j]]
			switch m[3] {
			case "text":
				c.TextError = msg
			case "drivers":
				c.DrvError = msg
			case "practices":
				c.PracError = msg
			default:
				c.RowError = msg
			}
			continue
		}
		f.Errors = append(f.Errors, msg)
	}
}

func (f *aimForm) addField(field, msg string) {
	if cur := f.FieldErrors[field]; cur != "" {
		msg = cur + " " + msg
	}
	f.FieldErrors[field] = msg
}

// aimTopFields are the form's single fields, by the API's name, with their element ids.
var aimTopFields = map[string]string{
	"title": "aim-title", "statement": "aim-statement", "curator": "aim-curator", "visibility": "aim-visibility", "shared_with": "aim-shared_with",
	"outcome_measure.name": "aim-om-name", "outcome_measure.kind": "aim-om-kind", "outcome_measure.direction": "aim-om-direction",
	"outcome_measure.definition": "aim-om-definition", "outcome_measure.score_min": "aim-om-score_min", "outcome_measure.score_max": "aim-om-score_max",
	"outcome_measure.cut": "aim-om-cut", "target.value": "aim-target-value", "target.by": "aim-target-by", "collections": "aim-collections",
}

func (f *aimForm) hasErrors() bool {
	if len(f.FieldErrors) > 0 || len(f.Errors) > 0 {
		return true
	}
	for _, d := range f.Drivers {
		if d.TextError != "" || d.ParentError != "" || d.RowError != "" {
			return true
		}
	}
	for _, c := range f.Ideas {
		if c.TextError != "" || c.DrvError != "" || c.PracError != "" || c.RowError != "" {
			return true
		}
	}
	return false
}

// prepare numbers the rows and fills the pickers: a secondary's parent from the primary drivers, a
// change idea's drivers from all of them.
func (f *aimForm) prepare() {
	var primaries, all []aimOption
	for _, d := range f.Drivers {
		if d.ID == "" || d.Text == "" {
			continue
		}
		if d.Level != practices.DriverSecondary && d.Parent == "" {
			primaries = append(primaries, aimOption{Value: d.ID, Label: d.Text})
			all = append(all, aimOption{Value: d.ID, Label: "Primary: " + d.Text})
		} else {
			all = append(all, aimOption{Value: d.ID, Label: "Secondary: " + d.Text})
		}
	}
	for i := range f.Drivers {
		d := &f.Drivers[i]
		d.Num = i
		d.IsSecondary = d.Level == practices.DriverSecondary || d.Parent != ""
		d.ParentOptions = nil
		found := d.Parent == ""
		for _, o := range primaries {
			if o.Value == d.ID {
				continue
			}
			o.Checked = o.Value == d.Parent
			found = found || o.Checked
			d.ParentOptions = append(d.ParentOptions, o)
		}
		d.ParentUnknown = !found
	}
	for i := range f.Ideas {
		c := &f.Ideas[i]
		c.Num = i
		c.DriverOpts = nil
		for _, o := range all {
			o.Checked = contains(c.Drivers, o.Value)
			c.DriverOpts = append(c.DriverOpts, o)
		}
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// rowAction applies an "add a row" or "remove a row" button; it reports whether the button was one.
func (f *aimForm) rowAction(op string) bool {
	verb, arg, _ := strings.Cut(op, ":")
	i, _ := strconv.Atoi(arg)
	switch verb {
	case "add-primary":
		f.Drivers = append(f.Drivers, driverRow{Level: practices.DriverPrimary})
		f.Focus = fmt.Sprintf("driver-%d-text", len(f.Drivers)-1)
	case "add-secondary":
		f.Drivers = append(f.Drivers, driverRow{Level: practices.DriverSecondary})
		f.Focus = fmt.Sprintf("driver-%d-text", len(f.Drivers)-1)
	case "add-idea":
		f.Ideas = append(f.Ideas, ideaRow{})
		f.Focus = fmt.Sprintf("idea-%d-text", len(f.Ideas)-1)
	case "remove-driver":
		if i >= 0 && i < len(f.Drivers) {
			f.Drivers = append(f.Drivers[:i], f.Drivers[i+1:]...)
		}
		f.Focus = "drivers-h"
	case "remove-idea":
		if i >= 0 && i < len(f.Ideas) {
			f.Ideas = append(f.Ideas[:i], f.Ideas[i+1:]...)
		}
		f.Focus = "ideas-h"
	case "search":
		f.Focus, f.SearchRow = fmt.Sprintf("idea-%d-q", i), i
	default:
		return false
	}
	return true
}

// aimFieldView is one single field of the aim form, for the aim-* partials.
type aimFieldView struct {
	ID, Name, Label, Hint, Error, Value string
}

func aimField(f *aimForm, name, label, hint, value string) aimFieldView {
	id := aimTopFields[name]
	if id == "" {
		id = "aim-" + safeAnchor(strings.ReplaceAll(name, ".", "-"))
	}
	return aimFieldView{ID: id, Name: name, Label: label, Hint: hint, Error: f.FieldErrors[name], Value: value}
}

func aimVisibilities() []aimOption {
	return []aimOption{
		{Value: string(practices.VisibilityNetwork), Label: "Every district of the network"},
		{Value: string(practices.VisibilityPublic), Label: "Everyone, including the public"},
		{Value: string(practices.VisibilityPeers), Label: "Selected districts"},
		{Value: string(practices.VisibilityDistrict), Label: "This district only"},
	}
}
