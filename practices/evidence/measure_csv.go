package evidence

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MeasureScoreOptions say how a measure's score file is read and aggregated.
type MeasureScoreOptions struct {
	Kind               string   // mean | percent
	ScoreMin, ScoreMax float64  // the measure's scale
	Cut                *float64 // kind percent: a score ≥ Cut counts as meeting
}

// MeasureScores is the result of reading a score file: one aggregate point per date, and what the
// audit may record. The rows themselves are never kept: they are folded into running sums as they
// stream.
type MeasureScores struct {
	Points []MeasurePoint
	SHA256 string
	Bytes  int64
	Read   int // data rows read
	Blank  int // rows without a score, skipped
}

var reISODate = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)

// ParseMeasureScores reads a de-identified score file of a measure — columns date and score, one
// row per student per occasion — under the same rules as results uploads (docs/records.md, "What never
// leaves a district"): strict columns, identifier-looking headers refused with an explanation, the
// cell scan (emails, SSNs, phone numbers, formulas; dates outside the date column), the score range,
// 5 MB and 5,000 rows, UTF-8. It returns per-date aggregates: the mean, or for kind percent the
// percentage of scores ≥ the cut. Errors are *InputError (wrapped) and never contain a cell.
func ParseMeasureScores(r io.Reader, opts MeasureScoreOptions) (*MeasureScores, error) {
	ms, err := parseMeasureScores(r, opts)
	if err != nil {
		return nil, fmt.Errorf("parse measure scores: %w", err)
	}
	return ms, nil
}

func parseMeasureScores(r io.Reader, opts MeasureScoreOptions) (*MeasureScores, error) {
	if !finite(opts.ScoreMin) || !finite(opts.ScoreMax) || opts.ScoreMin >= opts.ScoreMax {
		return nil, &InputError{Field: "score_max", Rule: RuleInvalidOption,
			Message: "the measure needs a scale with score_min below score_max before scores are uploaded"}
	}
	if opts.Kind == MeasurePercent && (opts.Cut == nil || !finite(*opts.Cut)) {
		return nil, &InputError{Field: "cut", Rule: RuleInvalidOption,
			Message: "a percent measure needs the cut (the score that counts as meeting) before scores are uploaded"}
	}
	h := sha256.New()
	lr := &limitReader{r: io.TeeReader(r, h), max: MaxFileBytes}
	cr := csv.NewReader(lr)
	cr.ReuseRecord = true
	readErr := lr.readError
	header, err := cr.Read()
	if err == io.EOF {
		return nil, &InputError{Rule: RuleEmpty, Message: "the file is empty"}
	}
	if err != nil {
		return nil, readErr(err)
	}
	const accepted = "date and score"
	cols := make([]string, len(header))
	seen := map[string]bool{}
	for i, raw := range header {
		if !utf8.ValidString(raw) {
			return nil, &InputError{Rule: RuleNotUTF8, Message: fmt.Sprintf("header %d is not UTF-8 text; save the file as CSV UTF-8", i+1)}
		}
		if i == 0 {
			raw = strings.TrimPrefix(raw, "\uFEFF")
		}
		name := strings.ToLower(strings.TrimSpace(raw))
		if name == "date" || name == "score" {
			if seen[name] {
				return nil, &InputError{Column: name, Rule: RuleDuplicate, Message: "the column appears twice"}
			}
			seen[name], cols[i] = true, name
			continue
		}
		// A refused header is named by its position, never repeated: in a file without a header
		// row it is a student's row.
		disp := strings.TrimSpace(raw)
		pos := fmt.Sprintf("column %d", i+1)
		if rule, _ := scanCell(disp); rule != "" || isNumber(disp) || disp == "" || reISODate.MatchString(disp) {
			return nil, &InputError{Field: pos, Rule: RuleHeaderMissing, Message: fmt.Sprintf(
				"%s of the first line is not a column name; the first line must be the header: %s", pos, accepted)}
		}
		if kind := identifierKind(disp); kind != "" {
			return nil, &InputError{Field: pos, Rule: RuleIdentifier, Message: fmt.Sprintf(
				"the header of %s looks like it holds %s. Student records may only leave the classroom de-identified: remove the column and upload only %s", pos, kind, accepted)}
		}
		return nil, &InputError{Field: pos, Rule: RuleUnknownColumn, Message: fmt.Sprintf(
			"the header of %s is not a known column (or the file has no header row); accepted columns are %s", pos, accepted)}
	}
	for _, c := range []string{"date", "score"} {
		if !seen[c] {
			return nil, &InputError{Column: c, Rule: RuleMissingColumn, Message: "the required column is missing"}
		}
	}
	type agg struct {
		n        int
		sum      float64
		meeting  int
		min, max float64
	}
	byDate := map[string]*agg{}
	ms := &MeasureScores{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, readErr(err)
		}
		ms.Read++
		line, _ := cr.FieldPos(0)
		if ms.Read > MaxDataRows {
			return nil, &InputError{Rule: RuleTooManyRows, Message: fmt.Sprintf("the file has more than %d data rows", MaxDataRows)}
		}
		cellErr := func(col, rule, msg string) error {
			return &InputError{Column: col, Row: ms.Read, Line: line, Rule: rule, Message: msg}
		}
		var date string
		var score float64
		haveScore := false
		for i, raw := range rec {
			col := cols[i]
			if !utf8.ValidString(raw) {
				return nil, cellErr(col, RuleNotUTF8, "the cell is not UTF-8 text; save the file as CSV UTF-8")
			}
			v := strings.TrimSpace(raw)
			if v == "" {
				continue
			}
			if col == "date" {
				if looksLikeFormula(v) {
					return nil, cellErr(col, RuleFormula, "the cell looks like a spreadsheet formula; export values only")
				}
				if _, err := time.Parse(time.DateOnly, v); err != nil || !reISODate.MatchString(v) {
					return nil, cellErr(col, RuleInvalidValue, "the date must be written YYYY-MM-DD")
				}
				date = v
				continue
			}
			if rule, msg := scanCell(v); rule != "" {
				return nil, cellErr(col, rule, msg)
			}
			if hasLetter(v) {
				return nil, cellErr(col, RuleLetters, "a score must be a number; the cell contains letters")
			}
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || !finite(f) {
				return nil, cellErr(col, RuleNotNumber, "a score must be a number")
			}
			if f < opts.ScoreMin || f > opts.ScoreMax {
				return nil, cellErr(col, RuleOutOfRange, fmt.Sprintf("the score is outside the measure's scale %g–%g", opts.ScoreMin, opts.ScoreMax))
			}
			score, haveScore = f, true
		}
		if !haveScore {
			ms.Blank++
			continue
		}
		if date == "" {
			return nil, cellErr("date", RuleRequired, "a row with a score needs its date")
		}
		a := byDate[date]
		if a == nil {
			a = &agg{min: score, max: score}
			byDate[date] = a
		}
		a.min, a.max = min(a.min, score), max(a.max, score)
		a.n++
		a.sum += score
		if opts.Cut != nil && score >= *opts.Cut {
			a.meeting++
		}
	}
	if ms.Read == 0 {
		return nil, &InputError{Rule: RuleNoRows, Message: "the file has a header but no data rows"}
	}
	if len(byDate) == 0 {
		return nil, &InputError{Rule: RuleNoRows, Message: fmt.Sprintf("none of the %d data rows has a score", ms.Read)}
	}
	if len(byDate) > MaxMeasurePoints {
		return nil, &InputError{Column: "date", Rule: RuleTooManyRows, Message: fmt.Sprintf("the file has more than %d dates; a measure holds at most %d points", MaxMeasurePoints, MaxMeasurePoints)}
	}
	for date, a := range byDate {
		p := MeasurePoint{Date: date, N: a.n}
		if opts.Kind == MeasurePercent {
			p.Value = 100 * float64(a.meeting) / float64(a.n)
		} else {
			p.Value = a.sum / float64(a.n)
			// Every student scored the same: the mean is each one's score, so it stays inside
			// the district (the results' rule for a group whose SD is 0).
			p.Identical = a.min == a.max
		}
		ms.Points = append(ms.Points, p)
	}
	clear(byDate)
	sort.Slice(ms.Points, func(i, j int) bool { return ms.Points[i].Date < ms.Points[j].Date })
	ms.Bytes, ms.SHA256 = lr.n, hex.EncodeToString(h.Sum(nil))
	return ms, nil
}

// MergePoints puts uploaded points into a series: a date already in the series takes the new
// aggregate, new dates are added, and the result is in date order.
func MergePoints(old, add []MeasurePoint) []MeasurePoint {
	byDate := map[string]MeasurePoint{}
	for _, p := range old {
		byDate[p.Date] = p
	}
	for _, p := range add {
		byDate[p.Date] = p
	}
	out := make([]MeasurePoint, 0, len(byDate))
	for _, p := range byDate {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Date < out[j].Date })
	return out
}

// MeasureScoreTemplate is the downloadable template of a measure's score file.
const MeasureScoreTemplate = "date,score\n2026-09-14,3\n2026-09-14,2\n2026-09-21,4\n"
