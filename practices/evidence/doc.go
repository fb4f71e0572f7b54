// Package evidence computes, protects and draws the results of tests of a practice: the pure core
// of "Results and evidence" (docs/records.md). It does no HTTP and no storage, and imports nothing from
// this module.
//
// The parts, in the order data flows through them:
//
//   - Ingestion. ParseScores streams a de-identified score table (CSV) under the rules of
//     "What never leaves a district": strict columns, identifier-looking headers refused with an
//     explanation, a scan of every cell for emails, SSNs, phone numbers, dates and spreadsheet
//     formulas, the assessment's score range, 5 MB and 5,000 rows, UTF-8. SummaryInput is the
//     alternative when a team has only n, means, SDs and r per group. Every refusal is an
//     *InputError naming the column or field, the line and the rule — never a cell's value.
//   - Statistics. Describe gives per-group descriptives; SMCR, SMCRDifference and SMD give the
//     effect sizes of the three designs and BaselineEquivalence the pre-test balance. They
//     reproduce R's metafor exactly (Viechtbauer, 2010, "Conducting meta-analyses in R with the
//     metafor package", J. Stat. Softw. 36(3)): escalc(measure = "SMCR") with m1i = post, m2i =
//     pre, sd1i = sd_pre; escalc(measure = "SMD") with the default large-sample variance; the
//     small-sample factor c(m) as metafor's .cmicalc. PoolDL is rma(yi, vi, method = "DL").
//   - Privacy. Analyze and AnalyzeSummary return an Analysis: the internal, unsuppressed view for
//     the team inside the district. Analysis.Results is the published view — groups and subgroups
//     below the minimum n suppressed, complementary suppression within each partition (el, swd,
//     econ_disadv), percentages coarsened — and is the only one ever shared. Analysis.Audit and
//     CheckCorrection record and police what is released.
//   - Evidence. Summarize pools a practice's published tests by design family with PoolDL and
//     assigns the evidence level (described, tested, replicated, compared, network_confirmed).
//   - Drawing. RenderResultsSVG and RenderForestSVG draw server-side SVG with a title and a
//     description as the text alternative; the pages that show a chart put every figure in an HTML
//     table beside it (package web), so this package renders no HTML.
package evidence
