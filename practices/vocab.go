package practices

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Controlled vocabularies of docs/records.md, and the names several parts of the node share. Codes are what
// records store; labels are for display. Each name has one definition here, which every part that
// accepts one asks: a team that sign-in accepts is a team a token and a record accept.

// MaxTeamLength is the longest team name, in characters.
const MaxTeamLength = 100

// CheckTeam returns nil if name can name a team (a PLC) — wherever one is named: a record's team, a
// team claim at sign-in, a local account, an API token — or a *FieldError on the field "team" with
// the rule it breaks: not blank, at most MaxTeamLength characters of UTF-8, no control characters,
// no slashes or backslashes.
func CheckTeam(name string) error {
	bad := func(rule, msg string) error { return &FieldError{Field: "team", Rule: rule, Message: msg} }
	switch {
	case strings.TrimSpace(name) == "":
		return bad("required", "is required")
	case !utf8.ValidString(name):
		return bad("format", "must be valid UTF-8 text")
	case utf8.RuneCountInString(name) > MaxTeamLength:
		return bad("max_length", "must be at most 100 characters")
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return bad("format", "must not contain control characters")
	case strings.ContainsAny(name, `/\`):
		return bad("format", "must not contain slashes")
	}
	return nil
}

// ValidNodeID reports whether id is a node id (docs/protocol.md): a slug of 1–63 lower-case letters,
// digits and hyphens that starts and ends with a letter or digit. Configuration (node.id and each
// peer's id) and records (shared_with) ask it.
func ValidNodeID(id string) bool { return nodeIDPattern.MatchString(id) }

var nodeIDPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

// Subjects maps subject code → display label, in display order via SubjectCodes.
var Subjects = map[string]string{
	"ela":             "English language arts",
	"math":            "Mathematics",
	"science":         "Science",
	"social_studies":  "Social studies",
	"arts":            "Arts",
	"pe_health":       "Physical education and health",
	"world_languages": "World languages",
	"cte":             "Career and technical education",
	"sel":             "Social-emotional learning",
	"cross":           "Cross-curricular",
}

// SubjectCodes lists subject codes in display order.
var SubjectCodes = []string{"ela", "math", "science", "social_studies", "arts", "pe_health", "world_languages", "cte", "sel", "cross"}

// GradeCodes lists grade codes in order: PK, KG, 01 … 12.
var GradeCodes = []string{"PK", "KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"}

// GradeBands lists the derived grade bands used as facets.
var GradeBands = []string{"PK", "K-2", "3-5", "6-8", "9-12"}

// GradeLabel is the display form of a grade code ("KG" → "K", "04" → "4").
func GradeLabel(code string) string {
	switch code {
	case "PK":
		return "PK"
	case "KG":
		return "K"
	}
	if len(code) == 2 && code[0] == '0' {
		return code[1:]
	}
	return code
}

// GradeName is a grade in words for pages: "Kindergarten", "Grade 4", "Pre-kindergarten".
func GradeName(code string) string {
	switch code {
	case "PK":
		return "Pre-kindergarten"
	case "KG":
		return "Kindergarten"
	}
	if ValidGrade(code) {
		return "Grade " + GradeLabel(code)
	}
	return code
}

// DurationMinutes reads an ISO 8601 duration of hours, minutes and seconds ("PT1H30M") as whole
// minutes; ok is false for anything else (days, months, fractions).
func DurationMinutes(iso string) (minutes int, ok bool) {
	m := isoTime.FindStringSubmatch(iso)
	if m == nil || iso == "PT" {
		return 0, false
	}
	total := 0
	for i, per := range []int{60, 1} {
		if m[i+1] != "" {
			n, err := strconv.Atoi(m[i+1])
			if err != nil {
				return 0, false
			}
			total += n * per
		}
	}
	if m[3] != "" {
		n, err := strconv.Atoi(m[3])
		if err != nil {
			return 0, false
		}
		total += (n + 59) / 60
	}
	return total, true
}

var isoTime = regexp.MustCompile(`^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$`)

// DurationLabel is an ISO 8601 duration in words: "PT1H" → "1 hour", "PT90M" → "1 hour 30
// minutes", "PT15M" → "15 minutes". Anything it cannot read is returned as given.
func DurationLabel(iso string) string {
	total, ok := DurationMinutes(iso)
	if !ok {
		return iso
	}
	unit := func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.Itoa(n) + " " + many
	}
	h, m := total/60, total%60
	switch {
	case h == 0:
		return unit(m, "minute", "minutes")
	case m == 0:
		return unit(h, "hour", "hours")
	}
	return unit(h, "hour", "hours") + " " + unit(m, "minute", "minutes")
}

// GradeBand returns the facet band of a grade code, or "" for an unknown code.
func GradeBand(code string) string {
	switch code {
	case "PK":
		return "PK"
	case "KG", "01", "02":
		return "K-2"
	case "03", "04", "05":
		return "3-5"
	case "06", "07", "08":
		return "6-8"
	case "09", "10", "11", "12":
		return "9-12"
	}
	return ""
}

// ValidGrade reports whether code is a grade code.
func ValidGrade(code string) bool { return GradeBand(code) != "" }

// ValidSubject reports whether code is a subject code.
func ValidSubject(code string) bool { _, ok := Subjects[code]; return ok }

// Evidence levels, weakest first. A search filter "at or above" compares EvidenceRank.
const (
	LevelDescribed        = "described"
	LevelTested           = "tested"
	LevelReplicated       = "replicated"
	LevelCompared         = "compared"
	LevelNetworkConfirmed = "network_confirmed"
)

// EvidenceLevelLabels are the levels' names on pages (never "ESSA tier").
var EvidenceLevelLabels = map[string]string{
	LevelDescribed:        "Described",
	LevelTested:           "Tested",
	LevelReplicated:       "Replicated",
	LevelCompared:         "Compared",
	LevelNetworkConfirmed: "Network-confirmed",
}

// EvidenceLevelMeanings say what each level means, in a teacher's words (DOMAIN.md's rules).
var EvidenceLevelMeanings = map[string]string{
	LevelDescribed:        "A team wrote the practice down; no test of it is published yet.",
	LevelTested:           "At least one team tested it in its classrooms and published the results.",
	LevelReplicated:       "Tested in at least two districts, and the pooled effect is above zero with 95% confidence.",
	LevelCompared:         "At least one test compared students who had the practice with similar students who did not (groups that started close together), and its effect is above zero with 95% confidence.",
	LevelNetworkConfirmed: "Tested in at least three districts, the pooled effect is above zero with 95% confidence, and the districts' results agree (I² under 50%).",
}

// EvidenceLevels lists the levels weakest first.
var EvidenceLevels = []string{LevelDescribed, LevelTested, LevelReplicated, LevelCompared, LevelNetworkConfirmed}

// EvidenceRank is the position of level in EvidenceLevels, or -1.
func EvidenceRank(level string) int {
	for i, l := range EvidenceLevels {
		if l == level {
			return i
		}
	}
	return -1
}

// Designs lists the test designs.
var Designs = []string{"single_group_pre_post", "pre_post_with_comparison", "post_only_comparison"}

// Decisions lists the decisions a team records after a test.
var Decisions = []string{"adopt", "adapt", "abandon"}
