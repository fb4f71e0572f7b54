package practices

// Controlled vocabularies of DOMAIN.md. Codes are what records store; labels are for display.

// Subjects maps subject code → display label, in display order via SubjectCodes.
var Subjects = map[string]string{
	"ela":             "ELA/Reading",
	"math":            "Mathematics",
	"science":         "Science",
	"social_studies":  "Social Studies",
	"arts":            "Arts",
	"pe_health":       "PE & Health",
	"world_languages": "World Languages",
	"cte":             "CTE",
	"sel":             "SEL",
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
