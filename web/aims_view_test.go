package web

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math"
	"net/url"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/evidence"
)

// syntheticDashboard is a dashboard of the size the benchmark names: ideas change ideas
// under 3 primary and 6 secondary drivers, links practices spread over them, and districts'
// monthly progress for months months from September 2024.
func syntheticDashboard(ideas, links, districts, months int) *practices.Dashboard {
	target := 70.0
	d := &practices.Dashboard{
		Aim: practices.DashboardAim{URI: "https://a.example/aims/aim-1", ID: "aim-1", Version: 3, Origin: "https://a.example",
			District: practices.DistrictLabel{ID: "riverside", Name: "Riverside Unified", Origin: "https://a.example"},
			Title:    "Fractions by June 2027", Statement: "By June 2027, 70 % of grade 3–5 students in the network's schools will be proficient on the common fractions assessment",
			OutcomeMeasure: &practices.OutcomeMeasure{Name: "Proficient on the common fractions assessment", Kind: evidence.MeasurePercent, Direction: evidence.DirectionUp},
			Target:         &practices.AimTarget{Value: target, By: "2027-06-30"}},
		Today: "2026-12-05",
	}
	for p := 0; p < 3; p++ {
		pd := practices.DiagramDriver{ID: fmt.Sprintf("p%d", p), Text: fmt.Sprintf("Primary driver %d: students' sense of fractions as numbers", p+1)}
		for s := 0; s < 2; s++ {
			pd.Secondary = append(pd.Secondary, practices.DiagramDriver{ID: fmt.Sprintf("s%d-%d", p, s), Text: fmt.Sprintf("Secondary driver %d.%d: daily number-line routines", p+1, s+1)})
		}
		d.Diagram.Primary = append(d.Diagram.Primary, pd)
	}
	for i := 0; i < ideas; i++ {
		p, s := i%3, (i/3)%2
		id := fmt.Sprintf("idea-%d", i)
		sec := &d.Diagram.Primary[p].Secondary[s]
		sec.ChangeIdeas = append(sec.ChangeIdeas, id)
		ci := practices.DashboardChangeIdea{ID: id, Text: fmt.Sprintf("Change idea %d: a warm-up on the number line before every fractions lesson", i+1), Drivers: []string{sec.ID}}
		for k := i; k < links; k += ideas {
			ci.Practices = append(ci.Practices, practices.DashboardPractice{URI: fmt.Sprintf("https://d%d.example/practices/p-%d", k%3, k), Found: true,
				Title: fmt.Sprintf("Number line talks %d", k), District: practices.DistrictLabel{ID: fmt.Sprintf("d%d", k%3), Name: fmt.Sprintf("District %d", k%3)},
				Level: practices.LevelReplicated, Tests: 4, Districts: 3,
				Learning: &practices.LatestLearning{Text: "Pairs who justified their placement out loud moved furthest on the exit ticket.", Date: "2026-11-20",
					District: practices.DistrictLabel{ID: "d1", Name: "District 1"}}})
		}
		d.ChangeIdeas = append(d.ChangeIdeas, ci)
	}
	start := time.Date(2024, 9, 15, 0, 0, 0, 0, time.UTC)
	type acc struct{ sum, n float64 }
	network := map[string]*acc{}
	districtsIn := map[string]int{}
	for k := 0; k < districts; k++ {
		dp := practices.DistrictProgress{District: practices.DistrictLabel{ID: fmt.Sprintf("district-%02d", k), Name: fmt.Sprintf("District %02d Unified", k)}, Reporting: true}
		for m := 0; m < months; m++ {
			date := start.AddDate(0, m, 0)
			v := math.Round(40+float64(m)*0.9+float64(k%7)) + 0
			pt := evidence.MeasurePoint{Date: date.Format(time.DateOnly), N: 40 + k, Value: v}
			dp.Points = append(dp.Points, pt)
			month := date.Format("2006-01")
			if network[month] == nil {
				network[month] = &acc{}
			}
			network[month].sum += float64(pt.N) * v
			network[month].n += float64(pt.N)
			districtsIn[month]++
		}
		dp.LastReport = dp.Points[len(dp.Points)-1].Date
		dp.Analysis = evidence.AnalyzeMeasure(evidence.MeasurePercent, len(dp.Points), dp.Points)
		d.Districts = append(d.Districts, dp)
	}
	var monthsSorted []string
	for m := range network {
		monthsSorted = append(monthsSorted, m)
	}
	sort.Strings(monthsSorted)
	for _, m := range monthsSorted {
		a := network[m]
		d.Network = append(d.Network, practices.NetworkPoint{Month: m, Value: math.Round(a.sum/a.n*10) / 10, N: int(a.n), Districts: districtsIn[m]})
	}
	d.NotReporting = []practices.DistrictLabel{{ID: "quiet", Name: "Quiet Creek"}}
	return d
}

func renderAimPage(t testing.TB, ps *pages, v *aimDashboardView) []byte {
	t.Helper()
	var buf bytes.Buffer
	pd := PageData{Title: v.Aim.Title, Node: Identity{Name: "Riverside Unified"}, Path: "/aims/" + v.Aim.ID, Query: url.Values{}, Data: v}
	if err := ps.sets["aim"].ExecuteTemplate(&buf, "layout.html", pd); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The dashboard page shows the statement, target, the diagram with its nested list, each change
// idea's practices, one chart per district on the shared axis, the network chart and the districts
// not reporting, by name.
func TestAimDashboardPage(t *testing.T) {
	ps, err := loadPages()
	if err != nil {
		t.Fatal(err)
	}
	d := syntheticDashboard(8, 20, 3, 4)
	v := buildAimDashboard(d, map[string]string{})
	html := string(renderAimPage(t, ps, v))
	for _, want := range []string{
		"By June 2027, 70 % of grade 3–5", "70% by 30 June 2027", `<svg xmlns="http://www.w3.org/2000/svg" class="driver-diagram"`,
		`id="driver-list"`, `<script type="application/ld+json">`, "Secondary driver:</strong> Secondary driver 2.1", `href="#idea-idea-3"`, "Number line talks 19",
		"Replicated, 4 tests in 3 districts.", "Latest learning (District 1, 20 Nov 2026)", "Pairs who justified",
		"/aims/aim-1/charts/network.svg?v=", "/aims/aim-1/charts/d-district-02.svg?v=", "District 02 Unified",
		"Not reported in the last 60 days:</strong> Quiet Creek", "to go to the target of 70%",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if n := strings.Count(html, `<p class="panel-label">`); n != 3 {
		t.Errorf("%d district panels, want 3", n)
	}
	if strings.Contains(html, "<style") || strings.Contains(html, "style=") {
		t.Error("inline style in the page (the CSP forbids it)")
	}
}

// Every chart of a dashboard shares one value axis; for a percent measure it is the percent scale.
func TestSharedAxis(t *testing.T) {
	d := syntheticDashboard(2, 2, 3, 4)
	if lo, hi := sharedAxis(d, nil); lo != 0 || hi != 100 {
		t.Errorf("percent axis %g–%g, want 0–100", lo, hi)
	}
	lo0, hi0 := 1.0, 4.0
	d.Aim.OutcomeMeasure = &practices.OutcomeMeasure{Kind: evidence.MeasureMean, Direction: evidence.DirectionUp, ScoreMin: &lo0, ScoreMax: &hi0}
	d.Aim.Target.Value = 3.2
	for i := range d.Districts {
		for j := range d.Districts[i].Points {
			d.Districts[i].Points[j].Value = 2 + float64(i)*0.3
		}
	}
	d.Districts[2].Points[0].Value = 5.5 // outside the scale: the axis widens to hold it
	lo, hi := sharedAxis(d, nil)
	if lo > 1 || hi < 5.5 {
		t.Errorf("mean axis %g–%g does not hold the scale 1–4 and the point 5.5", lo, hi)
	}
}

func TestLatestWords(t *testing.T) {
	d := syntheticDashboard(1, 1, 1, 1)
	d.Network = []practices.NetworkPoint{{Month: "2026-11", Value: 52.4, N: 120, Districts: 3}}
	got := latestWords(d)
	if !strings.Contains(got, "52.4% in November 2026 (3 districts, 120 students)") || !strings.Contains(got, "17.6 percentage points to go") {
		t.Errorf("latest: %q", got)
	}
	d.Aim.OutcomeMeasure.Direction = evidence.DirectionDown
	if got := latestWords(d); !strings.Contains(got, "The target is reached") {
		t.Errorf("a down measure below its target: %q", got)
	}
	d.Network = nil
	if got := latestWords(d); got != "No district has reported yet." {
		t.Errorf("no points: %q", got)
	}
}

// BenchmarkAimDashboardPage renders the dashboard page of an aim with 50 change ideas, 200 linked
// practices and 30 districts' monthly progress over two years, from its dashboard value (assembling
// that value from the records is the API's part, measured with it), with 16 concurrent renders,
// plus every chart the page loads. It reports the page's HTML bytes, the charts' bytes, and p50/p99
// of rendering the page with all its charts.
//
//	go test ./web -run '^$' -bench AimDashboardPage -benchtime 200x
func BenchmarkAimDashboardPage(b *testing.B) {
	ps, err := loadPages()
	if err != nil {
		b.Fatal(err)
	}
	d := syntheticDashboard(50, 200, 30, 24)
	names := map[string]string{}
	page := func() ([]byte, [][]byte) {
		v := buildAimDashboard(d, names)
		html := renderAimPage(b, ps, v)
		lo, hi := sharedAxis(d, names)
		charts := [][]byte{evidence.RenderMeasureSVG(networkMeasure(d), evidence.ChartOptions{YMin: lo, YMax: hi})}
		for _, dp := range d.Districts {
			charts = append(charts, evidence.RenderMeasureSVG(districtMeasure(d, dp, names), evidence.ChartOptions{Small: true, YMin: lo, YMax: hi}))
		}
		return html, charts
	}
	html, charts := page()
	htmlBytes, htmlGz, chartBytes, chartGz := len(html), gzipLen(html), 0, 0
	for _, c := range charts { // each chart is its own response, gzipped on its own
		chartBytes, chartGz = chartBytes+len(c), chartGz+gzipLen(c)
	}
	var (
		mu    sync.Mutex
		times []time.Duration
	)
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((16 + procs - 1) / procs) // 16 concurrent renders
	cpu0 := processCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			start := time.Now()
			page()
			el := time.Since(start)
			mu.Lock()
			times = append(times, el)
			mu.Unlock()
		}
	})
	b.StopTimer()
	cpu := processCPU() - cpu0
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	q := func(p float64) float64 {
		return float64(times[int(math.Ceil(p*float64(len(times))))-1].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	// CPU time per page (process user+system time over the run): what the page costs whatever else
	// the machine is doing; the latencies include waiting for a core on a shared machine.
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/page")
	b.ReportMetric(float64(htmlBytes)/1024, "html-KB")
	b.ReportMetric(float64(htmlGz)/1024, "html-gz-KB")
	b.ReportMetric(float64(chartGz)/1024, "charts-gz-KB")
	b.ReportMetric(float64(chartBytes)/1024, "charts-KB")
}

func gzipLen(b []byte) int {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Len()
}

// processCPU is the process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
