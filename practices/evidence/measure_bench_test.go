package evidence

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkMeasure200 analyses and draws a 200-point measure (the most a measure may hold) the way
// a chart request does: the analysis, the run chart, the control chart and the sentence.
//
//	go test ./practices/evidence -run '^$' -bench Measure200
func BenchmarkMeasure200(b *testing.B) {
	rng := rand.New(rand.NewPCG(200, 1))
	y := make([]float64, 200)
	n := make([]int, 200)
	for i := range y {
		y[i] = 2 + rng.NormFloat64()*0.3 + float64(i)*0.004
		n[i] = 15 + rng.IntN(15)
	}
	base := 20
	m := Measure{ID: "exit", Name: "Exit ticket: unit fractions (0–4)", Kind: MeasureMean, Direction: DirectionUp,
		Baseline: &base, Points: seriesPoints(y, n), Notes: []MeasureNote{{Date: "2026-12-07", Text: "Cycle 2"}, {Date: "2027-03-01", Text: "Cycle 3"}}}
	var size int
	b.ReportAllocs()
	for b.Loop() {
		m.Analysis = AnalyzeMeasure(m.Kind, *m.Baseline, m.Points)
		run := RenderMeasureSVG(m, ChartOptions{})
		control := RenderMeasureSVG(m, ChartOptions{Control: true})
		_ = MeasureSentence(m)
		size = len(run) + len(control)
	}
	b.ReportMetric(float64(size)/2/1024, "KB/chart")
}

// BenchmarkAnalyzeMeasure200 is the analysis alone.
func BenchmarkAnalyzeMeasure200(b *testing.B) {
	rng := rand.New(rand.NewPCG(200, 2))
	y := make([]float64, 200)
	for i := range y {
		y[i] = float64(rng.IntN(101))
	}
	pts := seriesPoints(y, nil)
	b.ReportAllocs()
	for b.Loop() {
		_ = AnalyzeMeasure(MeasurePercent, 20, pts)
	}
}
