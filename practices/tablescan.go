package practices

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/brightspots-nic/brightspots/practices/evidence"
)

// tableScanner looks through a whole text file, as it streams, for rows of a table of students: a
// run of consecutive lines split into the same number of cells by the same separator, in which at
// least two lines hold a number or a date in a cell of their own, or whose first line is a header
// naming an identifier (name, dob, student id …) followed by at least one such line. Prose with
// commas rarely puts a bare number between two of them on two lines running; a roster always does.
// Score tables go through the results upload, where the privacy rules apply.
type tableScanner struct {
	partial []byte
	long    bool // the current line is longer than maxTableLine: not a table row
	runs    [len(tableSeparators)]tableRun
	found   bool
}

var tableSeparators = [...]byte{',', '\t', ';', '|'}

// maxTableLine bounds the line the scanner keeps; a longer line is prose (or binary), not a row.
const maxTableLine = 4096

// maxHeaderCell is the longest cell looked at as a possible identifier header.
const maxHeaderCell = 40

type tableRun struct {
	cells    int  // cells per line in the current run (0: no run)
	lines    int  // lines in the run
	data     int  // lines of the run with a number or date in a cell of their own
	idHeader bool // the run's first line names an identifier column
}

func (s *tableScanner) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && !s.found {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		if !s.long {
			if len(s.partial)+len(chunk) > maxTableLine {
				s.long, s.partial = true, s.partial[:0]
			} else {
				s.partial = append(s.partial, chunk...)
			}
		}
		if i < 0 {
			break
		}
		s.line()
		p = p[i+1:]
	}
	return n, nil
}

// finish scans the last line (a file need not end with a newline) and reports whether a table was found.
func (s *tableScanner) finish() bool {
	if !s.found && (len(s.partial) > 0 || s.long) {
		s.line()
	}
	return s.found
}

func (s *tableScanner) line() {
	line := strings.TrimSuffix(string(s.partial), "\r")
	long := s.long
	s.partial, s.long = s.partial[:0], false
	if !long && strings.TrimSpace(line) == "" {
		return // blank lines neither start nor break a run
	}
	for i, sep := range tableSeparators {
		r := &s.runs[i]
		n := 0
		if !long {
			n = strings.Count(line, string(sep))
		}
		if n == 0 {
			*r = tableRun{}
			continue
		}
		cells := strings.Split(line, string(sep))
		if r.cells != n+1 {
			*r = tableRun{cells: n + 1}
			for _, c := range cells {
				// Headers are short; a long cell is prose and not worth splitting into words.
				if c = strings.TrimSpace(c); len(c) <= maxHeaderCell && evidence.IdentifierKind(c) != "" {
					r.idHeader = true
					break
				}
			}
		}
		r.lines++
		for _, c := range cells {
			if dataCell(strings.TrimSpace(c)) {
				r.data++
				break
			}
		}
		if r.data >= 2 || r.idHeader && r.lines >= 2 {
			s.found = true
			return
		}
	}
}

var dateCell = regexp.MustCompile(`^[0-9]{1,4}[-/.][0-9]{1,2}[-/.][0-9]{1,4}$`)

// dataCell reports a cell that holds a number (a score, an id, a percentage) or a date.
func dataCell(c string) bool {
	if !strings.ContainsAny(c, "0123456789") {
		return false
	}
	if _, err := strconv.ParseFloat(strings.TrimSuffix(c, "%"), 64); err == nil {
		return true
	}
	return dateCell.MatchString(c)
}

// scanningReader passes a text file through a tableScanner and fails the read that completes a
// table (or the file's end, when the table is its last line), so the store's put is aborted and
// nothing is kept. size, when known (≥ 0), marks the end for stores that stop reading there.
type scanningReader struct {
	r    io.Reader
	s    tableScanner
	size int64
	n    int64
}

func (sr *scanningReader) Read(p []byte) (int, error) {
	n, err := sr.r.Read(p)
	sr.n += int64(n)
	_, _ = sr.s.Write(p[:n])
	end := errors.Is(err, io.EOF) || sr.size >= 0 && sr.n >= sr.size
	if sr.s.found || end && sr.s.finish() {
		return n, errScoreTable()
	}
	return n, err
}

// ScanTextMaterial reads a whole text material and refuses it, with the same error as an upload
// through StoreArtifact, when it holds rows of a table of students. Paths that receive a file in
// pieces (resumable uploads) scan the assembled bytes with it before the file is attached.
func ScanTextMaterial(r io.Reader) error {
	_, err := io.Copy(io.Discard, &scanningReader{r: r, size: -1})
	return err
}
