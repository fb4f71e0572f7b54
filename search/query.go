package search

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/brightspots-nic/brightspots/practices"
)

// ErrInvalidQuery is matched (errors.Is) by every *QueryError.
var ErrInvalidQuery = errors.New("invalid search query")

// QueryError is a search request the API answers with 400: it names the parameter and the rule broken.
// Its text never contains the offending value beyond a short, quoted prefix.
type QueryError struct {
	Param string // URL parameter name ("q", "subject", "per_page" …)
	Rule  string // what the value must be
}

func (e *QueryError) Error() string { return "search parameter " + e.Param + ": " + e.Rule }

// Is makes errors.Is(err, ErrInvalidQuery) true.
func (e *QueryError) Is(target error) bool { return target == ErrInvalidQuery }

func qerr(param, format string, args ...any) *QueryError {
	return &QueryError{Param: param, Rule: fmt.Sprintf(format, args...)}
}

// Parameters ParseQuery accepts. Repeated parameters and comma-separated values both give several values.
var Parameters = []string{"q", "subject", "grade", "standard", "district", "evidence", "design", "decision",
	"kind", "has_results", "sort", "page", "per_page", "aim"}

// ParseQuery builds a Query from the search API's URL parameters:
//
//	q           free text (at most MaxQueryLen characters, no control characters)
//	subject     subject code: ela, math, science … (several: OR)
//	grade       grade (PK, K, 1 … 12, or the codes KG, 01 … 12) or grade band (K-2, 3-5, 6-8, 9-12)
//	standard    standard code, e.g. CCSS.MATH.CONTENT.4.NF.A.1 or 4-PS3-2 (case-insensitive)
//	district    origin node id
//	evidence    evidence level at or above: described, tested, replicated, compared, network_confirmed
//	design      test design: single_group_pre_post, pre_post_with_comparison, post_only_comparison
//	decision    adopt, adapt, abandon
//	kind        practice, collection, aim
//	aim         an aim's URI: practices a change idea of that aim links (the caller resolves them
//	            into Query.AimPractices; see Query.Aim)
//	has_results true or false
//	sort        relevance, newest, effect
//	page        1 … ; page × per_page at most MaxWindow
//	per_page    1 … MaxPerPage (default DefaultPerPage)
//
// Any other parameter, an unknown value, or a malformed number is a *QueryError. The caller sets
// Query.Audience (AudienceOf) before searching.
func ParseQuery(v url.Values) (Query, error) {
	var q Query
	for name := range v {
		if !slices.Contains(Parameters, name) {
			return Query{}, qerr(name, "unknown parameter (accepted: %s)", strings.Join(Parameters, ", "))
		}
	}
	one := func(name string) (string, error) {
		vals := v[name]
		switch len(vals) {
		case 0:
			return "", nil
		case 1:
			return strings.TrimSpace(vals[0]), nil
		}
		return "", qerr(name, "give it at most once")
	}
	many := func(name string) ([]string, error) {
		var out []string
		for _, raw := range v[name] {
			for _, s := range strings.Split(raw, ",") {
				if s = strings.TrimSpace(s); s != "" {
					out = append(out, s)
				}
			}
		}
		if len(out) > MaxValues {
			return nil, qerr(name, "at most %d values", MaxValues)
		}
		return out, nil
	}

	text, err := one("q")
	if err != nil {
		return Query{}, err
	}
	if q.Text, err = NormalizeText(text); err != nil {
		return Query{}, err
	}
	if q.Subjects, err = many("subject"); err != nil {
		return Query{}, err
	}
	for i, s := range q.Subjects {
		q.Subjects[i] = strings.ToLower(s)
	}
	grades, err := many("grade")
	if err != nil {
		return Query{}, err
	}
	for _, g := range grades {
		if code, ok := gradeCode(g); ok {
			q.Grades = append(q.Grades, code)
		} else if band, ok := gradeBand(g); ok {
			q.GradeBands = append(q.GradeBands, band)
		} else {
			return Query{}, qerr("grade", "unknown grade %s (a grade PK, K, 1 … 12 or a band K-2, 3-5, 6-8, 9-12)", short(g))
		}
	}
	if q.Standards, err = many("standard"); err != nil {
		return Query{}, err
	}
	for i, s := range q.Standards {
		q.Standards[i] = strings.ToUpper(s)
	}
	if q.Districts, err = many("district"); err != nil {
		return Query{}, err
	}
	ev, err := one("evidence")
	if err != nil {
		return Query{}, err
	}
	q.MinEvidence = strings.ToLower(strings.ReplaceAll(ev, "-", "_"))
	if q.Designs, err = many("design"); err != nil {
		return Query{}, err
	}
	if q.Decisions, err = many("decision"); err != nil {
		return Query{}, err
	}
	kinds, err := many("kind")
	if err != nil {
		return Query{}, err
	}
	for _, k := range kinds {
		q.Kinds = append(q.Kinds, practices.Kind(strings.ToLower(k)))
	}
	if q.Aim, err = one("aim"); err != nil {
		return Query{}, err
	}
	hr, err := one("has_results")
	if err != nil {
		return Query{}, err
	}
	if hr != "" {
		b, err := strconv.ParseBool(hr)
		if err != nil {
			return Query{}, qerr("has_results", "true or false")
		}
		q.HasResults = &b
	}
	s, err := one("sort")
	if err != nil {
		return Query{}, err
	}
	q.Sort = Sort(strings.ToLower(s))
	if q.Page, err = number(one("page")); err != nil {
		return Query{}, qerr("page", "a whole number from 1")
	}
	if q.PerPage, err = number(one("per_page")); err != nil {
		return Query{}, qerr("per_page", "a whole number from 1 to %d", MaxPerPage)
	}
	if _, ok := v["page"]; ok && q.Page < 1 {
		return Query{}, qerr("page", "a whole number from 1")
	}
	if _, ok := v["per_page"]; ok && q.PerPage < 1 {
		return Query{}, qerr("per_page", "a whole number from 1 to %d", MaxPerPage)
	}
	if err := q.Validate(); err != nil {
		return Query{}, err
	}
	return q, nil
}

func number(s string, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	if s == "" {
		return 0, nil
	}
	if len(s) > 9 {
		return 0, errors.New("too long")
	}
	return strconv.Atoi(s)
}

// NormalizeText checks and tidies query text: spaces collapsed, at most MaxQueryLen characters and
// MaxQueryWords words, valid UTF-8, no control characters (tabs and line breaks count as spaces).
func NormalizeText(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", qerr("q", "must be valid UTF-8")
	}
	if utf8.RuneCountInString(s) > MaxQueryLen {
		return "", qerr("q", "at most %d characters", MaxQueryLen)
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return "", qerr("q", "must not contain control characters")
		}
		if r == '\uE000' || r == '\uE001' || r == utf8.RuneError {
			return "", qerr("q", "must not contain private-use or replacement characters")
		}
	}
	f := strings.Fields(s)
	if len(f) > MaxQueryWords {
		return "", qerr("q", "at most %d words", MaxQueryWords)
	}
	return strings.Join(f, " "), nil
}

// Validate checks every field of q against its vocabulary and limits. Backends call it before building
// a request, so a Query built in code gets the same answers as one parsed from a URL.
func (q *Query) Validate() error {
	if t, err := NormalizeText(q.Text); err != nil {
		return err
	} else if t != q.Text {
		return qerr("q", "must be normalized (NormalizeText)")
	}
	lists := []struct {
		param string
		vals  []string
	}{{"subject", q.Subjects}, {"grade", q.Grades}, {"grade", q.GradeBands}, {"standard", q.Standards},
		{"district", q.Districts}, {"design", q.Designs}, {"decision", q.Decisions}}
	for _, l := range lists {
		if len(l.vals) > MaxValues {
			return qerr(l.param, "at most %d values", MaxValues)
		}
	}
	for _, s := range q.Subjects {
		if !practices.ValidSubject(s) {
			return qerr("subject", "unknown subject %s (one of %s)", short(s), strings.Join(practices.SubjectCodes, ", "))
		}
	}
	for _, g := range q.Grades {
		if !practices.ValidGrade(g) {
			return qerr("grade", "unknown grade code %s (one of %s)", short(g), strings.Join(practices.GradeCodes, ", "))
		}
	}
	for _, b := range q.GradeBands {
		if !slices.Contains(practices.GradeBands, b) {
			return qerr("grade", "unknown grade band %s (one of %s)", short(b), strings.Join(practices.GradeBands, ", "))
		}
	}
	for _, s := range q.Standards {
		if err := checkCode(s, 100); err != nil {
			return qerr("standard", "%s", err)
		}
		if s != strings.ToUpper(s) {
			return qerr("standard", "codes are upper-case")
		}
	}
	for _, d := range q.Districts {
		if err := checkCode(d, 200); err != nil {
			return qerr("district", "%s", err)
		}
	}
	if q.MinEvidence != "" && practices.EvidenceRank(q.MinEvidence) < 0 {
		return qerr("evidence", "unknown evidence level %s (one of %s)", short(q.MinEvidence), strings.Join(practices.EvidenceLevels, ", "))
	}
	for _, d := range q.Designs {
		if !slices.Contains(practices.Designs, d) {
			return qerr("design", "unknown design %s (one of %s)", short(d), strings.Join(practices.Designs, ", "))
		}
	}
	for _, d := range q.Decisions {
		if !slices.Contains(practices.Decisions, d) {
			return qerr("decision", "unknown decision %s (one of %s)", short(d), strings.Join(practices.Decisions, ", "))
		}
	}
	for _, k := range q.Kinds {
		if k != practices.KindPractice && k != practices.KindCollection && k != practices.KindAim {
			return qerr("kind", "unknown kind %s (practice, collection or aim)", short(string(k)))
		}
	}
	if q.Aim != "" {
		if _, k, _, ok := practices.ParseURI(q.Aim); !ok || k != practices.KindAim || len(q.Aim) > 2000 {
			return qerr("aim", "must be the URI of an aim ({node URL}/aims/{id})")
		}
	}
	switch q.Sort {
	case "", SortRelevance, SortNewest, SortEffect:
	default:
		return qerr("sort", "unknown sort %s (relevance, newest or effect)", short(string(q.Sort)))
	}
	if q.Page < 0 {
		return qerr("page", "a whole number from 1")
	}
	if q.PerPage < 0 || q.PerPage > MaxPerPage {
		return qerr("per_page", "a whole number from 1 to %d", MaxPerPage)
	}
	if q.PageNumber()*q.Limit() > MaxWindow {
		return qerr("page", "page × per_page must be at most %d; narrow the search with filters instead", MaxWindow)
	}
	return nil
}

func checkCode(s string, max int) error {
	if s == "" {
		return errors.New("must not be empty")
	}
	if len(s) > max {
		return fmt.Errorf("at most %d bytes", max)
	}
	if !utf8.ValidString(s) {
		return errors.New("must be valid UTF-8")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return errors.New("must not contain control characters")
		}
	}
	return nil
}

// short quotes a value for an error message, cut to a few characters.
func short(s string) string {
	if utf8.RuneCountInString(s) > 24 {
		r := []rune(s)
		s = string(r[:24]) + "…"
	}
	return strconv.Quote(s)
}

// PageNumber is the 1-based page.
func (q *Query) PageNumber() int {
	if q.Page < 1 {
		return 1
	}
	return q.Page
}

// Limit is the page size.
func (q *Query) Limit() int {
	if q.PerPage < 1 {
		return DefaultPerPage
	}
	return q.PerPage
}

// Offset is the number of hits before the page.
func (q *Query) Offset() int { return (q.PageNumber() - 1) * q.Limit() }

// SortOrder is the effective sort: relevance with text, newest without, unless one was asked for.
// Relevance without text is newest.
func (q *Query) SortOrder() Sort {
	switch {
	case q.Sort == SortEffect || q.Sort == SortNewest:
		return q.Sort
	case q.Text == "":
		return SortNewest
	}
	return SortRelevance
}

// Values encodes q as URL parameters (the inverse of ParseQuery, the audience aside).
func (q *Query) Values() url.Values {
	v := url.Values{}
	if q.Text != "" {
		v.Set("q", q.Text)
	}
	v["subject"] = q.Subjects
	v["grade"] = append(slices.Clone(q.Grades), q.GradeBands...)
	v["standard"] = q.Standards
	v["district"] = q.Districts
	v["design"] = q.Designs
	v["decision"] = q.Decisions
	for _, k := range q.Kinds {
		v.Add("kind", string(k))
	}
	if q.MinEvidence != "" {
		v.Set("evidence", q.MinEvidence)
	}
	if q.Aim != "" {
		v.Set("aim", q.Aim)
	}
	if q.HasResults != nil {
		v.Set("has_results", strconv.FormatBool(*q.HasResults))
	}
	if q.Sort != "" {
		v.Set("sort", string(q.Sort))
	}
	if q.Page > 0 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	if q.PerPage > 0 {
		v.Set("per_page", strconv.Itoa(q.PerPage))
	}
	for k, vals := range v {
		if len(vals) == 0 {
			delete(v, k)
		}
	}
	return v
}

// gradeCode maps a grade as people write it (K, 4, 04, KG, pk) to its code.
func gradeCode(s string) (string, bool) {
	u := strings.ToUpper(s)
	switch u {
	case "PK", "PRE-K", "PREK":
		return "PK", true
	case "K", "KG":
		return "KG", true
	}
	if len(u) == 1 && u[0] >= '1' && u[0] <= '9' {
		u = "0" + u
	}
	if practices.ValidGrade(u) {
		return u, true
	}
	return "", false
}

func gradeBand(s string) (string, bool) {
	u := strings.ToUpper(s)
	if slices.Contains(practices.GradeBands, u) {
		return u, true
	}
	return "", false
}
