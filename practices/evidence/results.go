package evidence

// Results are the computed, published (suppressed and coarsened) results of one test. The shape is
// part of federated documents: keep field names stable once published.
//
// (Filled in by the statistics work; see DOMAIN.md "Results: what is computed".)
type Results struct {
	Design string `json:"design"`
}

// Summary is the practice-level evidence: pooled effect per design family and the evidence level.
type Summary struct {
	Level string `json:"level"`
}
