package evidence

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

var opts100 = Options{Design: SingleGroup, ScoreMin: 0, ScoreMax: 100}

func districtACSV() string {
	var b strings.Builder
	b.WriteString("pre,post\n")
	for i := range districtAPre {
		fmt.Fprintf(&b, "%g,%g\n", districtAPre[i], districtAPost[i])
	}
	return b.String()
}

func inputErr(t *testing.T, err error) *InputError {
	t.Helper()
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatalf("error %v (%T) is not an *InputError", err, err)
	}
	return ie
}

func TestParseScoresAccepts(t *testing.T) {
	tests := []struct {
		name          string
		csv           string
		opts          Options
		rows, dropped int
		columns       []string
	}{
		{"district A", districtACSV(), opts100, 12, 0, []string{"pre", "post"}},
		{"BOM and CRLF", "\uFEFFpre,post\r\n1,2\r\n3,4\r\n", opts100, 2, 0, []string{"pre", "post"}},
		{"header case and spaces", " PRE , Post \n1,2\n", opts100, 1, 0, []string{"pre", "post"}},
		{"all columns", "row,pre,post,group,el,swd,econ_disadv\n1,50,60,treatment,Y,N,Y\n2,40,45,,n,y,\n3,20,,treatment,N,N,N\n",
			opts100, 2, 1, []string{"row", "group", "el", "swd", "econ_disadv"}},
		{"missing scores dropped", "pre,post\n1,2\n,3\n4,\n,\n5,6\n", opts100, 2, 3, nil},
		{"negative and decimal scores", "pre,post\n-5,-.5\n+3,4.25\n", Options{Design: SingleGroup, ScoreMin: -10, ScoreMax: 10}, 2, 0, nil},
		{"comparison design", "pre,post,group\n1,2,treatment\n3,4,Comparison\n", Options{Design: PrePostComparison, ScoreMin: 0, ScoreMax: 100}, 2, 0, []string{"group"}},
		{"design left to Analyze", "pre,post,group\n1,2,comparison\n", Options{ScoreMin: 0, ScoreMax: 100}, 1, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tab, err := ParseScores(strings.NewReader(tc.csv), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if tab.Len() != tc.rows || tab.Dropped != tc.dropped {
				t.Errorf("rows, dropped = %d, %d, want %d, %d", tab.Len(), tab.Dropped, tc.rows, tc.dropped)
			}
			for _, c := range tc.columns {
				if !tab.Has(c) {
					t.Errorf("column %s not recorded", c)
				}
			}
			if len(tab.SHA256) != 64 {
				t.Errorf("sha256 = %q", tab.SHA256)
			}
		})
	}
}

// The limits are inclusive: exactly 5,000 rows, and a file just under 5 MB, are accepted.
func TestParseScoresLimits(t *testing.T) {
	rows := "pre,post\n" + strings.Repeat("50,60\n", MaxDataRows)
	tab, err := ParseScores(strings.NewReader(rows), opts100)
	if err != nil || tab.Len() != MaxDataRows {
		t.Fatalf("5,000 rows: %v", err)
	}
	line := "50,60" + strings.Repeat(" ", 1994) + "\n"
	body := "pre,post\n" + strings.Repeat(line, (MaxFileBytes-9)/len(line))
	tab, err = ParseScores(strings.NewReader(body), opts100)
	if err != nil || tab.Bytes != int64(len(body)) || tab.Bytes > MaxFileBytes {
		t.Fatalf("%d bytes: %v", len(body), err)
	}
}

func TestParseScoresFlagsAndGroups(t *testing.T) {
	tab, err := ParseScores(strings.NewReader("pre,post,group,el\n1,2,comparison,Y\n3,4,,n\n"), Options{ScoreMin: 0, ScoreMax: 10})
	if err != nil {
		t.Fatal(err)
	}
	want := []Score{{Group: Comparison, Pre: 1, Post: 2, EL: FlagYes}, {Group: Treatment, Pre: 3, Post: 4, EL: FlagNo}}
	for i := range want {
		if tab.rows[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, tab.rows[i], want[i])
		}
	}
	tab.Discard()
	if tab.Len() != 0 {
		t.Error("Discard kept rows")
	}
}

// The table never prints its rows, whatever the verb.
func TestScoreTableDoesNotPrintRows(t *testing.T) {
	tab, err := ParseScores(strings.NewReader("pre,post\n87.125,93.375\n"), opts100)
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(verb, tab); strings.Contains(out, "87.125") || strings.Contains(out, "93.375") {
			t.Errorf("%s prints a score: %s", verb, out)
		}
	}
}

func TestIdentifierHeaders(t *testing.T) {
	for _, h := range []string{"Student Name", "studentID", "DOB", "e-mail", "SSN", "first_name", "ParentEmail",
		"LastName", "SASID", "ssid", "Birth Date", "zip code", "Guardian", "username", "Phone", "Address", "Teacher"} {
		t.Run(h, func(t *testing.T) {
			_, err := ParseScores(strings.NewReader("pre,post,"+h+"\n1,2,x\n"), opts100)
			ie := inputErr(t, err)
			if ie.Rule != RuleIdentifier {
				t.Errorf("rule = %q, want %q (%v)", ie.Rule, RuleIdentifier, err)
			}
			if strings.Contains(err.Error(), h) || ie.Column != "" {
				t.Errorf("message %q repeats the header %q", err, h)
			}
			if ie.Field != "column 3" || !strings.Contains(ie.Message, "column 3") {
				t.Errorf("field %q, message %q: want the header's position, column 3", ie.Field, ie.Message)
			}
			if !strings.Contains(err.Error(), "de-identified") {
				t.Errorf("message %q does not explain why", err)
			}
		})
	}
}

func TestHeaderWords(t *testing.T) {
	for h, want := range map[string]string{
		"Student Name": "student name", "studentID": "student id", "ParentEmail": "parent email", "e-mail": "e mail",
		"first_name": "first name", "DOB": "dob", "XMLHttpName": "xml http name", "econ_disadv": "econ disadv",
	} {
		if got := strings.Join(headerWords(h), " "); got != want {
			t.Errorf("headerWords(%q) = %q, want %q", h, got, want)
		}
	}
}

func TestParseScoresRefuses(t *testing.T) {
	manyRows := "pre,post\n" + strings.Repeat("50,60\n", MaxDataRows+1)
	big := "pre,post\n" + strings.Repeat("50,60"+strings.Repeat(" ", 1994)+"\n", 6<<20/2000) // 6 MB in 3,145 rows
	comparisonOpts := Options{Design: PrePostComparison, ScoreMin: 0, ScoreMax: 100}
	tests := []struct {
		name   string
		csv    string
		opts   Options
		rule   string
		line   int
		column string
	}{
		{"empty", "", opts100, RuleEmpty, 0, ""},
		{"header only", "pre,post\n", opts100, RuleNoRows, 0, ""},
		{"5,001 rows", manyRows, opts100, RuleTooManyRows, 0, ""},
		{"6 MB", big, opts100, RuleTooLarge, 0, ""},
		{"non-UTF-8 cell", "pre,post\n1,2\n3,\xff\xfe\n", opts100, RuleNotUTF8, 3, "post"},
		{"non-UTF-8 header", "pre,po\xc3st\n1,2\n", opts100, RuleNotUTF8, 0, ""},
		{"out of range", "pre,post\n1,2\n3,101\n", opts100, RuleOutOfRange, 3, "post"},
		{"below range", "pre,post\n-1,2\n", opts100, RuleOutOfRange, 2, "pre"},
		{"letters in pre", "pre,post\n12a,2\n", opts100, RuleLetters, 2, "pre"},
		{"NaN", "pre,post\nNaN,2\n", opts100, RuleLetters, 2, "pre"},
		{"not a number", "pre,post\n1.2.,2\n", opts100, RuleNotNumber, 2, "pre"},
		{"formula =", "pre,post\n=1+1,2\n", opts100, RuleFormula, 2, "pre"},
		{"formula -A1", "pre,post\n1,-A1\n", opts100, RuleFormula, 2, "post"},
		{"formula +cmd", "pre,post,el\n1,2,+cmd|' /C calc'!A0\n", opts100, RuleFormula, 2, "el"},
		{"formula @SUM", "pre,post\n@SUM(A1),2\n", opts100, RuleFormula, 2, "pre"},
		{"email", "pre,post,group\n1,2,kid@school.org\n", opts100, RuleEmail, 2, "group"},
		{"ssn", "pre,post\n1,2\n123-45-6789,3\n", opts100, RuleSSN, 3, "pre"},
		{"phone", "pre,post,el\n1,2,(555) 123-4567\n", opts100, RulePhone, 2, "el"},
		{"phone dotted", "pre,post\n555.123.4567,1\n", opts100, RulePhone, 2, "pre"},
		{"date iso", "pre,post,swd\n1,2,2014-03-09\n", opts100, RuleDate, 2, "swd"},
		{"date us", "pre,post\n1,3/9/2014\n", opts100, RuleDate, 2, "post"},
		{"date words", "pre,post,econ_disadv\n1,2,Mar 9\n", opts100, RuleDate, 2, "econ_disadv"},
		{"unknown column", "pre,post,score3\n1,2,3\n", opts100, RuleUnknownColumn, 0, ""},
		{"duplicate column", "pre,post,pre\n1,2,3\n", opts100, RuleDuplicate, 0, "pre"},
		{"missing post", "pre,group\n1,treatment\n", opts100, RuleMissingColumn, 0, "post"},
		{"no header", "55,61\n62,72\n", opts100, RuleHeaderMissing, 0, ""},
		{"bad flag", "pre,post,el\n1,2,maybe\n", opts100, RuleInvalidValue, 2, "el"},
		{"bad group", "pre,post,group\n1,2,control\n", opts100, RuleInvalidValue, 2, "group"},
		{"row out of order", "pre,post,row\n1,2,1\n3,4,1\n", opts100, RuleInvalidValue, 3, "row"},
		{"row beyond N", "pre,post,row\n1,2,7\n", opts100, RuleInvalidValue, 0, "row"},
		{"ragged", "pre,post\n1,2,3\n", opts100, RuleMalformed, 2, ""},
		{"comparison rows, single-group design", "pre,post,group\n1,2,treatment\n3,4,comparison\n", opts100, RuleDesignMismatch, 0, "group"},
		{"no comparison rows, comparison design", "pre,post,group\n1,2,treatment\n", comparisonOpts, RuleDesignMismatch, 0, "group"},
		{"no group column, comparison design", "pre,post\n1,2\n", comparisonOpts, RuleDesignMismatch, 0, "group"},
		{"only comparison rows", "pre,post,group\n1,2,comparison\n", comparisonOpts, RuleDesignMismatch, 0, "group"},
		{"no complete row", "pre,post\n1,\n,2\n", opts100, RuleNoRows, 0, ""},
		{"no score range", "pre,post\n1,2\n", Options{}, RuleInvalidOption, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tab, err := ParseScores(strings.NewReader(tc.csv), tc.opts)
			if err == nil {
				t.Fatalf("accepted: %v", tab)
			}
			ie := inputErr(t, err)
			if ie.Rule != tc.rule {
				t.Errorf("rule = %q, want %q (%v)", ie.Rule, tc.rule, err)
			}
			if ie.Line != tc.line {
				t.Errorf("line = %d, want %d (%v)", ie.Line, tc.line, err)
			}
			if ie.Column != tc.column {
				t.Errorf("column = %q, want %q (%v)", ie.Column, tc.column, err)
			}
			if tc.line > 0 && !strings.Contains(err.Error(), fmt.Sprintf("line %d", tc.line)) {
				t.Errorf("message %q does not name line %d", err, tc.line)
			}
			if !strings.Contains(err.Error(), tc.rule) {
				t.Errorf("message %q does not name the rule", err)
			}
		})
	}
}

// Every refused cell carries a marker; no message may contain it.
func TestErrorsNeverEchoCells(t *testing.T) {
	const marker = "7Zq"
	cells := []struct{ col, value string }{
		{"pre", "12" + marker},
		{"post", "=" + marker},
		{"post", "-" + marker},
		{"group", marker + "@school.org"},
		{"group", "a" + marker + "@b.org"},
		{"el", marker + " 123-45-6789"},
		{"el", marker + " (555) 123-4567"},
		{"swd", marker + " 2014-03-09"},
		{"econ_disadv", marker},
		{"row", marker},
		{"pre", "\xff" + marker},
	}
	for _, c := range cells {
		t.Run(c.col+" "+c.value, func(t *testing.T) {
			csv := "pre,post,group,el,swd,econ_disadv,row\n1,2,treatment,Y,N,N,1\n"
			row := map[string]string{"pre": "3", "post": "4", "group": "treatment", "el": "Y", "swd": "N", "econ_disadv": "N", "row": "2"}
			row[c.col] = `"` + strings.ReplaceAll(c.value, `"`, `""`) + `"`
			csv += strings.Join([]string{row["pre"], row["post"], row["group"], row["el"], row["swd"], row["econ_disadv"], row["row"]}, ",") + "\n"
			_, err := ParseScores(strings.NewReader(csv), opts100)
			ie := inputErr(t, err)
			if strings.Contains(err.Error(), marker) || strings.Contains(ie.Message, marker) || strings.Contains(ie.Column, marker) {
				t.Errorf("message echoes the cell: %v", err)
			}
			if ie.Line != 3 || ie.Column != c.col {
				t.Errorf("line, column = %d, %q, want 3, %q (%v)", ie.Line, ie.Column, c.col, err)
			}
		})
	}
	// A file without a header row: the first row is a student's. Whichever rule refuses it, the
	// error names the position, never the cell (issue 12, item 7).
	for _, first := range []string{"Alice Smith,50,60", "50,60,Alice Smith", "Smith Alice,pre,post", "pre,post,Alice", "Student Alice,50,60"} {
		t.Run("no header: "+first, func(t *testing.T) {
			_, err := ParseScores(strings.NewReader(first+"\n1,2,3\n"), opts100)
			ie := inputErr(t, err)
			for _, name := range []string{"Alice", "Smith"} {
				if strings.Contains(err.Error(), name) || strings.Contains(ie.Column, name) || strings.Contains(ie.Field, name) {
					t.Errorf("error echoes the student's name: %+v", ie)
				}
			}
			if !strings.HasPrefix(ie.Field, "column ") {
				t.Errorf("field = %q, want the header's position", ie.Field)
			}
		})
	}
	t.Run("data in the header row", func(t *testing.T) {
		_, err := ParseScores(strings.NewReader("pre,post,kid"+marker+"@school.org\n"), opts100)
		inputErr(t, err)
		if strings.Contains(err.Error(), marker) {
			t.Errorf("message echoes the header cell: %v", err)
		}
	})
}

func TestAnalyzeCSVMatchesRows(t *testing.T) {
	cut := 65.0
	a, err := AnalyzeCSV(strings.NewReader(districtACSV()), Options{Design: SingleGroup, ScoreMin: 0, ScoreMax: 100, ProficiencyCut: &cut})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "g_RM", a.Effect.G, 0.7214)
	near(t, "v", a.Effect.Variance, 0.0369)
	nearPtr(t, "pct_proficient_post", a.Groups[0].PctProficientPost, 66.667)
	if a.FileSHA256 == "" || a.RowsUsed != 12 {
		t.Errorf("sha256 %q, rows %d", a.FileSHA256, a.RowsUsed)
	}
}

func TestAnalyzeComparisonCSV(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("pre,post,group\n")
	for i := range districtAPre {
		fmt.Fprintf(&b, "%g,%g,treatment\n%g,%g,comparison\n", districtAPre[i], districtAPost[i], compPre[i], compPost[i])
	}
	for _, c := range []struct {
		d    Design
		g, v float64
	}{{PrePostComparison, 0.4302, 0.0466}, {PostOnlyComparison, 0.5643, 0.1733}} {
		t.Run(string(c.d), func(t *testing.T) {
			a, err := AnalyzeCSV(bytes.NewReader(b.Bytes()), Options{Design: c.d, ScoreMin: 0, ScoreMax: 100})
			if err != nil {
				t.Fatal(err)
			}
			r := a.Results()
			if r.Effect == nil || r.Baseline == nil {
				t.Fatalf("effect %v baseline %v (%s)", r.Effect, r.Baseline, r.EffectNote)
			}
			near(t, "g", r.Effect.G, c.g)
			near(t, "v", r.Effect.Variance, c.v)
			near(t, "baseline g", r.Baseline.G, 0.0800)
			if r.Baseline.Status != BaselineNeedsAdjustment {
				t.Errorf("baseline status %q", r.Baseline.Status)
			}
		})
	}
}

func FuzzParseScores(f *testing.F) {
	f.Add([]byte(districtACSV()))
	f.Add([]byte("pre,post,group,el,swd,econ_disadv,row\n1,2,treatment,Y,N,N,1\n3,4,comparison,N,Y,,2\n"))
	f.Add([]byte("\uFEFFpre,post\r\n-5,=A1\r\n"))
	f.Add([]byte("Student Name,pre,post\nx,1,2\n"))
	f.Add([]byte("pre,post\n\"1\n\",2\n"))
	f.Add([]byte("pre,post\n123-45-6789,1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, d := range []Design{"", SingleGroup, PrePostComparison} {
			tab, err := ParseScores(bytes.NewReader(data), Options{Design: d, ScoreMin: 0, ScoreMax: 100})
			if err != nil {
				var ie *InputError
				if !errors.As(err, &ie) {
					t.Fatalf("error is not an *InputError: %v", err)
				}
				continue
			}
			if tab.Len() == 0 || tab.Len()+tab.Dropped != tab.Read || tab.Read > MaxDataRows {
				t.Fatalf("accepted table with rows %d, dropped %d, read %d", tab.Len(), tab.Dropped, tab.Read)
			}
			for _, r := range tab.rows {
				if r.Pre < 0 || r.Pre > 100 || r.Post < 0 || r.Post > 100 {
					t.Fatalf("accepted out-of-range score %+v", r)
				}
			}
			if d == "" {
				continue
			}
			a, err := Analyze(tab, Options{Design: d, ScoreMin: 0, ScoreMax: 100})
			if err != nil {
				t.Fatalf("parsed but not analyzed: %v", err)
			}
			r := a.Results()
			if _, err := jsonMarshal(r); err != nil {
				t.Fatalf("results do not encode: %v", err)
			}
			_ = RenderResultsSVG(r)
		}
	})
}

// plainCell is a fast path: it must never let through a cell a pattern would refuse.
func TestPlainCellNeverHidesAPattern(t *testing.T) {
	patterns := func(s string) bool {
		return reEmail.MatchString(s) || reSSN.MatchString(s) || rePhone.MatchString(s) || reDate.MatchString(s)
	}
	rng := rand.New(rand.NewSource(12))
	alphabet := "0123456789.-+/@ ()aAyYnNmM"
	checked := 0
	for range 200000 {
		b := make([]byte, 1+rng.Intn(16))
		for i := range b {
			b[i] = alphabet[rng.Intn(len(alphabet))]
		}
		s := string(b)
		if plainCell(s) {
			checked++
			if patterns(s) {
				t.Fatalf("plainCell(%q) = true but a pattern matches", s)
			}
		}
	}
	for _, s := range []string{"123456789", "5551234567", "1234.5678.9", "Mar9"} {
		if plainCell(s) {
			t.Errorf("plainCell(%q) = true", s)
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d plain cells generated", checked)
	}
}
