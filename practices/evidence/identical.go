package evidence

// IdenticalScoresNote is the published note of a group (or subgroup, or measure point) whose
// scores are all the same.
const IdenticalScoresNote = "means and SDs not shown: every student in this group has the same score, so they would show each student's score"

// IdenticalScores reports whether every value is the same (the SD is 0; the minimum equals the
// maximum). The mean of such values is each student's own score, so it must not be published
// (docs/records.md, "What never leaves a district"): a group of results publishes its n but no means,
// SDs or anything computed from them, and an aggregated measure point publishes no mean. This is
// the one place the rule lives; callers aggregating scores of their own (measure points) call it
// with the scores of one aggregate before publishing its mean.
func IdenticalScores(values []float64) bool {
	for _, v := range values {
		if v != values[0] {
			return false
		}
	}
	return true
}
