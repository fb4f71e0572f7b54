package main

import (
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/evidence"
)

// The demo's measures must show what they are there to show: a clear shift, no signal at all, and
// a trend; and pass the validation every test goes through.
func TestDemoMeasuresShowShiftAndNoise(t *testing.T) {
	for k, want := range []string{"shift", "none", "trend"} {
		ms := demoMeasures(k, "2026-09-07")
		if err := practices.ValidateMeasures(ms, nil); err != nil {
			t.Fatalf("demo measures %d: %v", k, err)
		}
		exit := evidence.PublishMeasure(ms[0], evidence.DefaultMinimumN)
		a := exit.Analysis
		switch want {
		case "shift":
			if a.Shift == nil || a.RunsSignal == nil || !*a.RunsSignal {
				t.Errorf("test %d: no clear shift: %+v", k, a)
			}
			if len(ms) != 2 || evidence.PublishMeasure(ms[1], evidence.DefaultMinimumN).Withheld != 1 {
				t.Errorf("test %d: the fluency measure should withhold one small week", k)
			}
		case "none":
			if a.Shift != nil || a.Trend != nil || a.RunsSignal == nil || *a.RunsSignal || len(a.Outside) != 0 {
				t.Errorf("test %d: a signal in the no-signal series: %+v", k, a)
			}
		case "trend":
			if a.Trend == nil {
				t.Errorf("test %d: no trend: %+v", k, a)
			}
		}
	}
}
