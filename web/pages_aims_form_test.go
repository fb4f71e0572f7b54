package web

import (
	"errors"
	"net/url"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
)

// A posted aim form becomes the record it describes (rows in order, blank rows dropped, ids made
// from text and unique across drivers and change ideas), and the validator's problems land next to
// the row they are about, counted among the rows that were not blank.
func TestAimFormRoundTrip(t *testing.T) {
	v := url.Values{
		"title": {"Fractions"}, "statement": {"By June"}, "outcome_measure.name": {"Proficient"}, "outcome_measure.kind": {"percent"},
		"outcome_measure.direction": {"up"}, "target.value": {"70"}, "target.by": {"2027-06-15"}, "visibility": {"network"},
		"driver.0.text": {"Fraction sense"}, "driver.0.level": {"primary"},
		"driver.1.text": {""}, "driver.1.level": {"secondary"}, // blank: dropped
		"driver.2.text": {"Number lines"}, "driver.2.level": {"secondary"}, // no parent picked
		"driver.10.text": {"Fraction sense"}, "driver.10.level": {"primary"}, // same text: another id
		"idea.0.text": {"Warm-ups"}, "idea.0.drivers": {"fraction-sense"}, "idea.0.practices": {"https://a.example/practices/1"},
		"idea.0.add":  {"https://b.example/practices/2", "https://a.example/practices/1"},
		"idea.1.text": {"Talks"},
	}
	f := aimFormFrom(v)
	f.assignIDs()
	a, driverRows, ideaRows := f.aim(nil)
	if len(a.Drivers) != 3 || a.Drivers[0].ID != "fraction-sense" || a.Drivers[2].ID != "fraction-sense-2" || a.Drivers[1].Level != practices.DriverSecondary {
		t.Fatalf("drivers: %+v", a.Drivers)
	}
	if len(a.ChangeIdeas) != 2 || len(a.ChangeIdeas[0].Practices) != 2 || a.ChangeIdeas[1].ID != "talks" {
		t.Fatalf("change ideas: %+v", a.ChangeIdeas)
	}
	if a.Target == nil || a.Target.Value != 70 || a.OutcomeMeasure == nil {
		t.Fatalf("target or measure: %+v %+v", a.Target, a.OutcomeMeasure)
	}
	var ve *practices.ValidationError
	if err := practices.Validate(a, practices.LevelCreate); !errors.As(err, &ve) {
		t.Fatalf("validate: %v", err)
	}
	f.place(ve.Problems, driverRows, ideaRows)
	// Rows: 0 Fraction sense, 1 blank, 2 Number lines, 3 Fraction sense (driver.10).
	if f.Drivers[2].ParentError == "" {
		t.Errorf("the secondary without a parent is not marked: %+v", ve.Problems)
	}
	if f.Ideas[1].DrvError == "" {
		t.Errorf("the change idea without drivers is not marked: %+v", ve.Problems)
	}
	if f.Drivers[0].ParentError != "" || f.Drivers[1].ParentError != "" {
		t.Error("a problem landed on the wrong row")
	}
}

// Row buttons add and remove rows and say where the reader should land.
func TestAimFormRowActions(t *testing.T) {
	f := newAimForm()
	for _, op := range []string{"add-primary", "add-secondary", "add-idea", "add-idea"} {
		if !f.rowAction(op) {
			t.Fatalf("%s not a row action", op)
		}
	}
	f.Ideas[0].Text = "first"
	f.rowAction("remove-idea:0")
	if len(f.Drivers) != 2 || len(f.Ideas) != 1 || f.Ideas[0].Text != "" || f.Drivers[1].Level != practices.DriverSecondary {
		t.Errorf("rows: %+v %+v", f.Drivers, f.Ideas)
	}
	if f.rowAction("save") || f.rowAction("") {
		t.Error("save is not a row action")
	}
	f.rowAction("remove-driver:99") // out of range: nothing happens
	if len(f.Drivers) != 2 {
		t.Error("an out-of-range remove changed the rows")
	}
}

// FuzzAimForm: any posted body turns into a form, a record and a page model without a panic, and
// the row numbers a body can name stay bounded (a body cannot make the server allocate rows by the
// billion).
func FuzzAimForm(f *testing.F) {
	f.Add("title=A&driver.0.text=x&driver.1.parent=x&driver.1.level=secondary&idea.0.drivers=x&idea.0.add=https%3A%2F%2Fa%2Fpractices%2F1")
	f.Add("driver.999999999.text=x&idea.-1.text=y&idea.0.q=%00")
	f.Add("target.value=NaN&target.by=2027-13-40&outcome_measure.score_min=1e400&op=remove-driver%3A0")
	f.Fuzz(func(t *testing.T, body string) {
		v, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		form := aimFormFrom(v)
		if len(form.Drivers) > practices.MaxAimDrivers+practices.MaxAimChangeIdeas+1 || len(form.Ideas) > practices.MaxAimDrivers+practices.MaxAimChangeIdeas+1 {
			t.Fatalf("%d drivers, %d ideas", len(form.Drivers), len(form.Ideas))
		}
		form.rowAction(v.Get("op"))
		form.assignIDs()
		a, dr, ir := form.aim(nil)
		var ve *practices.ValidationError
		if err := practices.Validate(a, practices.LevelCreate); errors.As(err, &ve) {
			form.place(ve.Problems, dr, ir)
		}
		form.prepare()
	})
}
