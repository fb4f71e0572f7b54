package web

import (
	"strings"
	"testing"

	"github.com/brightspots-nic/brightspots/search"
)

// TestEffectSizeLabelsWhatIsPrinted: the size label is judged on the printed, rounded value, so
// 0.4996 (printed 0.50) reads like 0.50 and 0.51, not like 0.49 (issue 18).
func TestEffectSizeLabelsWhatIsPrinted(t *testing.T) {
	for _, tc := range []struct {
		g             float64
		printed, size string
	}{
		{0.4996, "0.50", "moderate"}, {0.51, "0.51", "moderate"}, {0.494, "0.49", "small"},
		{0.19996, "0.20", "small"}, {0.7996, "0.80", "large"}, {-0.4996, "-0.50", "moderate"},
		{0.1, "0.10", "very small"}, {-0.001, "0.00", "very small"}, {1.3, "1.30", "large"},
	} {
		printed, size := effectSize(tc.g)
		if printed != tc.printed || size != tc.size {
			t.Errorf("effectSize(%v) = %q %q, want %q %q", tc.g, printed, size, tc.printed, tc.size)
		}
	}
	g := 0.4996
	if got, want := effectWords(&g), "a moderate improvement (g = 0.50)"; got != want {
		t.Errorf("effectWords(0.4996) = %q, want %q", got, want)
	}
}

// TestHitEffectSaysWhatItPools: a card's evidence line names the tests the effect pools apart
// from all the practice's tests (issue 18: "g = 0.24 from 3 tests in 2 districts" pooled 2).
func TestHitEffectSaysWhatItPools(t *testing.T) {
	g := 0.24
	for _, tc := range []struct {
		hit  search.Hit
		want string
	}{
		{search.Hit{PooledEffect: &g, PooledTests: 2, PooledFamily: "comparison", TestCount: 3, DistrictCount: 2},
			"Effect: a small improvement (g = 0.24), pooled from 2 comparison tests; 3 tests in 2 districts."},
		{search.Hit{PooledEffect: &g, PooledTests: 1, PooledFamily: "comparison", TestCount: 1, DistrictCount: 1},
			"Effect: a small improvement (g = 0.24), from 1 comparison test; 1 test in 1 district."},
		{search.Hit{PooledEffect: &g, PooledTests: 4, PooledFamily: "single_group", TestCount: 4, DistrictCount: 3},
			"Effect: a small improvement (g = 0.24), pooled from 4 single-group pre/post tests; 4 tests in 3 districts."},
		{search.Hit{TestCount: 2, DistrictCount: 1}, "2 tests in 1 district, too small to pool yet."},
		{search.Hit{}, "Not tested yet."},
	} {
		if got := hitEffect(tc.hit); got != tc.want {
			t.Errorf("hitEffect = %q\n want %q", got, tc.want)
		}
	}
}

// TestGradeAndDurationWords: codes never reach a page (issue 18, item 7).
func TestGradeAndDurationWords(t *testing.T) {
	for codes, want := range map[string]string{
		"KG": "Kindergarten", "04": "Grade 4", "PK": "Pre-kindergarten", "03,04,05": "Grades 3, 4, 5",
		"KG,01,02": "Kindergarten and grades 1, 2", "KG,01": "Kindergarten and grade 1",
	} {
		if got := gradeList(strings.Split(codes, ",")); got != want {
			t.Errorf("gradeList(%s) = %q, want %q", codes, got, want)
		}
	}
	for iso, want := range map[string]string{"PT1H": "1 hour per session", "PT15M": "15 minutes per session", "PT90M": "1 hour 30 minutes per session", "PT2H": "2 hours per session"} {
		if got := durationWords(iso); got != want {
			t.Errorf("durationWords(%s) = %q, want %q", iso, got, want)
		}
	}
	if got := minutesOf("PT1H"); got != "60" {
		t.Errorf("the form shows PT1H as %q, want 60 (minutes)", got)
	}
}
