package evidence

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Upload limits (docs/records.md rule 2).
const (
	MaxFileBytes = 5 << 20 // 5 MB (MiB)
	MaxDataRows  = 5000
)

// Rules name the check an input failed. They are stable strings: the HTTP layer may map them to
// problem types, and logs may record them (never the cell).
const (
	RuleEmpty          = "empty_file"
	RuleNoRows         = "no_data_rows"
	RuleTooLarge       = "file_too_large"
	RuleTooManyRows    = "too_many_rows"
	RuleNotUTF8        = "not_utf8"
	RuleMalformed      = "malformed_csv"
	RuleHeaderMissing  = "header_missing"
	RuleIdentifier     = "identifier_column"
	RuleUnknownColumn  = "unknown_column"
	RuleDuplicate      = "duplicate_column"
	RuleMissingColumn  = "missing_column"
	RuleEmail          = "looks_like_email"
	RuleSSN            = "looks_like_ssn"
	RulePhone          = "looks_like_phone"
	RuleDate           = "looks_like_date"
	RuleFormula        = "looks_like_formula"
	RuleLetters        = "letters_in_score"
	RuleNotNumber      = "not_a_number"
	RuleOutOfRange     = "score_out_of_range"
	RuleInvalidValue   = "invalid_value"
	RuleDesignMismatch = "design_mismatch"
	RuleInvalidOption  = "invalid_option"
	RuleRequired       = "required"
)

// InputError is a refused upload or summary entry. Its message names the column or field, the row
// (line) and the rule, and never contains a cell's value, so it may be shown to the uploader and
// logged.
type InputError struct {
	// Field is the summary-statistics field or option ("groups[1].sd_pre"), or the position of a
	// refused header ("column 3"): a header that fails the identifier or column rules may be a
	// student's name (a file without a header row), so it is never repeated.
	Field string
	// Column is an accepted column's canonical name (pre, post, group …); empty for file-level
	// errors and for refused headers.
	Column  string
	Row     int // 1-based data row (the header is not counted); 0 when not about a row
	Line    int // line in the file, as a spreadsheet numbers it; 0 when not about a row
	Rule    string
	Message string
}

func (e *InputError) Error() string {
	var b strings.Builder
	switch {
	case e.Line > 0 && e.Column != "":
		fmt.Fprintf(&b, "line %d (data row %d), column %q: ", e.Line, e.Row, e.Column)
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d (data row %d): ", e.Line, e.Row)
	case e.Column != "":
		fmt.Fprintf(&b, "column %q: ", e.Column)
	case e.Field != "":
		fmt.Fprintf(&b, "%s: ", e.Field)
	}
	b.WriteString(e.Message)
	b.WriteString(" [")
	b.WriteString(e.Rule)
	b.WriteString("]")
	return b.String()
}

// ScoreTable is a parsed, checked score table. The rows are unexported so that nothing can
// serialize or log them; they stay in memory until Discard.
type ScoreTable struct {
	SHA256  string // hex SHA-256 of the bytes read, for the audit
	Bytes   int64
	Read    int // data rows read
	Dropped int // rows missing pre or post
	columns map[string]bool
	rows    []Score
}

// Len is the number of usable rows.
func (t *ScoreTable) Len() int { return len(t.rows) }

// Has reports whether the upload had the column (pre, post, group, el, swd, econ_disadv, row).
func (t *ScoreTable) Has(column string) bool { return t.columns[column] }

// Discard forgets the rows.
func (t *ScoreTable) Discard() {
	clear(t.rows)
	t.rows = nil
}

// String describes the table without its rows, so %v never prints scores.
func (t *ScoreTable) String() string {
	return fmt.Sprintf("ScoreTable{rows: %d, dropped: %d, sha256: %s}", len(t.rows), t.Dropped, t.SHA256)
}

// GoString is String, for %#v.
func (t *ScoreTable) GoString() string { return t.String() }

var allowedColumns = map[string]bool{"pre": true, "post": true, "group": true, "el": true, "swd": true, "econ_disadv": true, "row": true}

// identifierWords are header words that mark a column holding identifiers.
var identifierWords = map[string]string{
	"name": "a name", "names": "a name", "firstname": "a name", "lastname": "a name", "fullname": "a name",
	"surname": "a name", "fname": "a name", "lname": "a name", "middlename": "a name", "nickname": "a name",
	"student": "a student identifier", "studentid": "a student identifier", "pupil": "a student identifier",
	"id": "an identifier", "ids": "an identifier", "identifier": "an identifier", "ssid": "a state student identifier",
	"sasid": "a state student identifier", "lasid": "a local student identifier", "ssn": "a social security number",
	"social": "a social security number", "dob": "a date of birth", "birth": "a date of birth",
	"birthdate": "a date of birth", "birthday": "a date of birth", "born": "a date of birth", "age": "an age",
	"email": "an email address", "mail": "an email address", "phone": "a phone number", "telephone": "a phone number",
	"tel": "a phone number", "mobile": "a phone number", "cell": "a phone number", "address": "an address",
	"street": "an address", "city": "an address", "zip": "an address", "zipcode": "an address", "postcode": "an address",
	"postal": "an address", "parent": "a parent's details", "guardian": "a guardian's details",
	"mother": "a parent's details", "father": "a parent's details", "username": "an account name",
	"user": "an account name", "login": "an account name", "teacher": "an educator's name",
	"gender": "a personal characteristic", "sex": "a personal characteristic", "race": "a personal characteristic",
	"ethnicity": "a personal characteristic", "initials": "a name",
}

// headerWords lower-cases a header and splits it on punctuation, whitespace and camelCase.
func headerWords(h string) []string {
	var words []string
	var cur []rune
	rs := []rune(h)
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	for i, r := range rs {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			flush()
			continue
		}
		if unicode.IsUpper(r) && len(cur) > 0 {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				flush()
			}
		}
		cur = append(cur, r)
	}
	flush()
	return words
}

// identifierKind returns what an identifier-looking header seems to hold, or "".
func identifierKind(h string) string {
	words := headerWords(h)
	for _, w := range words {
		if k, ok := identifierWords[w]; ok {
			return k
		}
	}
	// Joined neighbours catch "e-mail", "first_name", "zip code", "Birth Date".
	for i := 0; i+1 < len(words); i++ {
		if k, ok := identifierWords[words[i]+words[i+1]]; ok {
			return k
		}
	}
	if k, ok := identifierWords[strings.Join(words, "")]; ok {
		return k
	}
	return ""
}

var (
	reEmail = regexp.MustCompile(`[^\s@]@[^\s@]+\.[^\s@]`)
	reSSN   = regexp.MustCompile(`(^|[^0-9])[0-9]{3}[- ][0-9]{2}[- ][0-9]{4}([^0-9]|$)|^[0-9]{9}$`)
	rePhone = regexp.MustCompile(`(^|[^0-9])(\+?1[ .-]?)?(\([0-9]{3}\)|[0-9]{3})[ .-]?[0-9]{3}[ .-][0-9]{4}([^0-9]|$)|^\+?[0-9]{10,15}$`)
	reDate  = regexp.MustCompile(`(^|[^0-9])([0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}|[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{2,4})([^0-9]|$)|(?i)\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? ?[0-9]{1,2}\b`)
)

// looksLikeFormula reports a cell a spreadsheet would evaluate: = or @ anything, or + or −
// followed by something other than a number ("-5" and "-.5" are numbers, "-A1" is a formula).
func looksLikeFormula(s string) bool {
	if s == "" {
		return false
	}
	switch s[0] {
	case '=', '@':
		return true
	case '+', '-':
		rest := strings.TrimPrefix(s[1:], ".")
		return rest == "" || rest[0] < '0' || rest[0] > '9'
	}
	return false
}

// plainCell reports a cell that none of the identifier patterns can match: only ASCII letters, or
// a number with an optional sign, at most one point and at most eight digits. It spares the
// regular expressions on almost every cell.
func plainCell(s string) bool {
	letters, digits, dots := 0, 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			letters++
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		case (c == '-' || c == '+') && i == 0:
		default:
			return false
		}
	}
	if letters > 0 {
		return digits == 0 && dots == 0 && s[0] != '-' && s[0] != '+'
	}
	return digits <= 8 && dots <= 1
}

// scanCell applies the identifier checks that hold for every column.
func scanCell(s string) (rule, msg string) {
	switch {
	case looksLikeFormula(s):
		return RuleFormula, "the cell looks like a spreadsheet formula; export values only"
	case plainCell(s):
		return "", ""
	case reEmail.MatchString(s):
		return RuleEmail, "the cell looks like an email address; remove identifiers before uploading"
	case reSSN.MatchString(s):
		return RuleSSN, "the cell looks like a social security number; remove identifiers before uploading"
	case rePhone.MatchString(s):
		return RulePhone, "the cell looks like a phone number; remove identifiers before uploading"
	case reDate.MatchString(s):
		return RuleDate, "the cell looks like a date (a date of birth is an identifier); remove it before uploading"
	}
	return "", ""
}

func hasLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

// limitReader counts bytes and fails once more than max have been read.
type limitReader struct {
	r        io.Reader
	n, max   int64
	exceeded bool
}

var errTooLarge = errors.New("file too large")

// readError is what a score file's reader reports for err: the size limit, a line that is not CSV
// (by its number, never its content), or the underlying read failure.
func (l *limitReader) readError(err error) error {
	if l.exceeded || errors.Is(err, errTooLarge) {
		return &InputError{Rule: RuleTooLarge, Message: fmt.Sprintf("the file is larger than %d MB", MaxFileBytes>>20)}
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &InputError{Line: pe.Line, Row: max(pe.Line-1, 0), Rule: RuleMalformed,
			Message: "the line is not valid CSV: " + pe.Err.Error()}
	}
	return fmt.Errorf("read upload: %w", err)
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.exceeded {
		return 0, errTooLarge
	}
	if rem := l.max + 1 - l.n; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.max {
		l.exceeded = true
		return n, errTooLarge
	}
	return n, err
}

// ParseScores reads a de-identified score table as it streams, enforcing every rule of docs/records.md
// "What never leaves a district": strict columns, identifier-looking headers, the cell scan, the
// score range, 5 MB and 5,000 rows, UTF-8 (a BOM is tolerated). Rows missing pre or post are
// dropped and counted. Design/group agreement is checked by Analyze, which knows the design;
// ParseScores checks it too when opts.Design is set. Errors are *InputError (wrapped).
func ParseScores(r io.Reader, opts Options) (*ScoreTable, error) {
	t, err := parseScores(r, opts)
	if err != nil {
		return nil, fmt.Errorf("parse scores: %w", err)
	}
	return t, nil
}

func parseScores(r io.Reader, opts Options) (*ScoreTable, error) {
	if !finite(opts.ScoreMin) || !finite(opts.ScoreMax) || opts.ScoreMin >= opts.ScoreMax {
		return nil, &InputError{Field: "assessment.score_max", Rule: RuleInvalidOption,
			Message: "the assessment needs a score range with score_min below score_max"}
	}
	h := sha256.New()
	lr := &limitReader{r: io.TeeReader(r, h), max: MaxFileBytes}
	cr := csv.NewReader(lr)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = 0
	t := &ScoreTable{columns: map[string]bool{}}
	readErr := lr.readError

	header, err := cr.Read()
	if err == io.EOF {
		return nil, &InputError{Rule: RuleEmpty, Message: "the file is empty"}
	}
	if err != nil {
		return nil, readErr(err)
	}
	cols := make([]string, len(header)) // canonical name per position
	for i, raw := range header {
		if !utf8.ValidString(raw) {
			return nil, &InputError{Rule: RuleNotUTF8, Message: fmt.Sprintf("header %d is not UTF-8 text; save the file as CSV UTF-8", i+1)}
		}
		if i == 0 {
			raw = strings.TrimPrefix(raw, "\uFEFF")
		}
		name := strings.ToLower(strings.TrimSpace(raw))
		if allowedColumns[name] {
			if t.columns[name] {
				return nil, &InputError{Column: name, Rule: RuleDuplicate, Message: "the column appears twice"}
			}
			t.columns[name] = true
			cols[i] = name
			continue
		}
		disp := strings.TrimSpace(raw)
		pos := fmt.Sprintf("column %d", i+1)
		if rule, _ := scanCell(disp); rule != "" || isNumber(disp) || disp == "" {
			return nil, &InputError{Field: pos, Rule: RuleHeaderMissing, Message: fmt.Sprintf(
				"%s of the first line is not a column name; the first line must be the header: pre, post and optionally group, el, swd, econ_disadv, row", pos)}
		}
		// The header is not repeated in either message: a file without a header row puts a
		// student's row here ("Alice Smith,50,60").
		if kind := identifierKind(disp); kind != "" {
			return nil, &InputError{Field: pos, Rule: RuleIdentifier, Message: fmt.Sprintf(
				"the header of %s looks like it holds %s. Student records may only leave the classroom de-identified: remove the column and upload only pre, post and optionally group, el, swd, econ_disadv, row", pos, kind)}
		}
		return nil, &InputError{Field: pos, Rule: RuleUnknownColumn, Message: fmt.Sprintf(
			"the header of %s is not a known column (or the file has no header row); accepted columns are pre, post, group, el, swd, econ_disadv and row", pos)}
	}
	for _, c := range []string{"pre", "post"} {
		if !t.columns[c] {
			return nil, &InputError{Column: c, Rule: RuleMissingColumn, Message: "the required column is missing"}
		}
	}
	seenRow := map[int]bool{}
	maxRowID := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, readErr(err)
		}
		t.Read++
		line, _ := cr.FieldPos(0)
		if t.Read > MaxDataRows {
			return nil, &InputError{Rule: RuleTooManyRows, Message: fmt.Sprintf("the file has more than %d data rows", MaxDataRows)}
		}
		cellErr := func(col, rule, msg string) error {
			return &InputError{Column: col, Row: t.Read, Line: line, Rule: rule, Message: msg}
		}
		s := Score{Group: Treatment}
		var havePre, havePost bool
		for i, raw := range rec {
			col := cols[i]
			if !utf8.ValidString(raw) {
				return nil, cellErr(col, RuleNotUTF8, "the cell is not UTF-8 text; save the file as CSV UTF-8")
			}
			v := strings.TrimSpace(raw)
			if v == "" {
				continue
			}
			if rule, msg := scanCell(v); rule != "" {
				return nil, cellErr(col, rule, msg)
			}
			switch col {
			case "pre", "post":
				if hasLetter(v) {
					return nil, cellErr(col, RuleLetters, "a score must be a number; the cell contains letters")
				}
				f, err := strconv.ParseFloat(v, 64)
				if err != nil || !finite(f) {
					return nil, cellErr(col, RuleNotNumber, "a score must be a number")
				}
				if f < opts.ScoreMin || f > opts.ScoreMax {
					return nil, cellErr(col, RuleOutOfRange, fmt.Sprintf("the score is outside the assessment's range %g–%g", opts.ScoreMin, opts.ScoreMax))
				}
				if col == "pre" {
					s.Pre, havePre = f, true
				} else {
					s.Post, havePost = f, true
				}
			case "group":
				switch strings.ToLower(v) {
				case "treatment":
					s.Group = Treatment
				case "comparison":
					s.Group = Comparison
				default:
					return nil, cellErr(col, RuleInvalidValue, "group must be treatment or comparison")
				}
			case "el", "swd", "econ_disadv":
				var f Flag
				switch v {
				case "Y", "y":
					f = FlagYes
				case "N", "n":
					f = FlagNo
				default:
					return nil, cellErr(col, RuleInvalidValue, "the value must be Y or N")
				}
				switch col {
				case "el":
					s.EL = f
				case "swd":
					s.SWD = f
				default:
					s.EconDisadv = f
				}
			case "row":
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 || n > MaxDataRows {
					return nil, cellErr(col, RuleInvalidValue, fmt.Sprintf("row must be a whole number from 1 to %d", MaxDataRows))
				}
				if seenRow[n] {
					return nil, cellErr(col, RuleInvalidValue, "the row number repeats an earlier row")
				}
				seenRow[n] = true
				maxRowID = max(maxRowID, n)
			}
		}
		if !havePre || !havePost {
			t.Dropped++
			continue
		}
		t.rows = append(t.rows, s)
	}
	if t.Read == 0 {
		return nil, &InputError{Rule: RuleNoRows, Message: "the file has a header but no data rows"}
	}
	if maxRowID > t.Read {
		return nil, &InputError{Column: "row", Rule: RuleInvalidValue, Message: fmt.Sprintf("row numbers must run from 1 to the number of rows (%d)", t.Read)}
	}
	if len(t.rows) == 0 {
		return nil, &InputError{Rule: RuleNoRows, Message: fmt.Sprintf("none of the %d data rows has both a pre and a post score", t.Read)}
	}
	t.Bytes, t.SHA256 = lr.n, hex.EncodeToString(h.Sum(nil))
	if opts.Design != "" {
		if err := checkGroups(opts.Design, t); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// IdentifierKind returns what a column header seems to hold when it looks like an identifier
// ("a name", "a date of birth" …), or "". The materials check uses it to spot a roster's header.
func IdentifierKind(header string) string { return identifierKind(header) }
