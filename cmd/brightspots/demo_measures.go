package main

import (
	"time"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/evidence"
)

// demoMeasures gives the k-th demo test weekly measures over its cycle: every test an exit ticket
// (so practice pages show small multiples across districts), alternately with a clear shift
// upwards, without any signal, or with a trend; every third test also a percent measure of
// students meeting a fluency goal, with one week of too few students (kept in the district).
func demoMeasures(k int, start string) []evidence.Measure {
	first, err := time.Parse(time.DateOnly, start)
	if err != nil {
		first = time.Date(2026, 9, 7, 0, 0, 0, 0, time.UTC)
	}
	week := func(i int) string { return first.AddDate(0, 0, 7*i).Format(time.DateOnly) }
	lo, hi, six := 0.0, 4.0, 6
	shift := []float64{2.1, 2.4, 2.2, 2.0, 2.3, 2.2, 2.5, 2.6, 2.7, 2.6, 2.8, 2.9, 2.7, 3.0}
	noise := []float64{2.4, 2.6, 2.3, 2.7, 2.5, 2.2, 2.6, 2.4, 2.8, 2.3, 2.5, 2.7, 2.4, 2.6}
	trend := []float64{2.2, 2.3, 2.1, 2.2, 2.4, 2.3, 2.2, 2.3, 2.5, 2.6, 2.8, 2.9, 3.1, 3.0}
	series := [][]float64{shift, noise, trend}[k%3]
	exit := evidence.Measure{
		ID: "exit-ticket", Name: "Exit ticket: fractions (0–4)", Type: "outcome", Kind: evidence.MeasureMean,
		Direction: evidence.DirectionUp, Definition: "Four questions at the end of Friday's lesson; the mean score of the students present.",
		ScoreMin: &lo, ScoreMax: &hi, Baseline: &six,
		Notes: []evidence.MeasureNote{{Date: week(6), Text: "Cycle 2: number line warm-up every day"}},
	}
	for i, v := range series {
		exit.Points = append(exit.Points, evidence.MeasurePoint{Date: week(i), N: 20 + (i*7+k)%6, Value: v})
	}
	out := []evidence.Measure{exit}
	if k%3 == 0 {
		cut := 3.0
		pct := []float64{40, 45, 38, 42, 44, 41, 55, 58, 61, 60, 66, 63}
		n := []int{24, 25, 23, 24, 26, 25, 24, 8, 24, 23, 25, 24}
		fluency := evidence.Measure{
			ID: "fluency", Name: "Students meeting the fluency goal", Type: "process", Kind: evidence.MeasurePercent,
			Direction: evidence.DirectionUp, Definition: "One-minute fluency probe on Tuesdays; percent of students at or above 3.",
			ScoreMin: &lo, ScoreMax: &hi, Cut: &cut, Baseline: &six,
		}
		for i, v := range pct {
			fluency.Points = append(fluency.Points, evidence.MeasurePoint{Date: week(i), N: n[i], Value: v})
		}
		out = append(out, fluency)
	}
	return out
}

// withDemoMeasures sets the measures of the k-th demo test.
func withDemoMeasures(t *practices.Test, k int) {
	t.Measures = demoMeasures(k, t.StartDate)
}
