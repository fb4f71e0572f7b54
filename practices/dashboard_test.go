package practices_test

import (
	"math"
	"testing"
	"time"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/evidence"
)

func TestNetworkSeries(t *testing.T) {
	pt := func(date string, n int, v float64) evidence.MeasurePoint {
		return evidence.MeasurePoint{Date: date, N: n, Value: v}
	}
	districts := []practices.DistrictProgress{
		{Points: []evidence.MeasurePoint{pt("2026-09-03", 20, 40), pt("2026-09-28", 30, 50), pt("2026-10-10", 25, 60)}},
		{Points: []evidence.MeasurePoint{pt("2026-09-15", 10, 70), pt("2026-10-02", 40, 30), pt("2026-10-30", 6, 90)}},
	}
	got := practices.NetworkSeries(districts, 10)
	// September: the first district's latest point (30 at 50) and the second's (10 at 70).
	// October: the second district's latest point has n = 6, below the minimum: it is left out.
	want := []practices.NetworkPoint{
		{Month: "2026-09", Value: (30*50 + 10*70) / 40.0, N: 40, Districts: 2},
		{Month: "2026-10", Value: 60, N: 25, Districts: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("network series %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Month != want[i].Month || got[i].N != want[i].N || got[i].Districts != want[i].Districts || math.Abs(got[i].Value-want[i].Value) > 1e-12 {
			t.Errorf("month %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestBuildDashboardListsDistrictsNotReporting(t *testing.T) {
	today := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	aim := &practices.Aim{Meta: practices.Meta{URI: "http://a.test/aims/x", Origin: "http://a.test"},
		OutcomeMeasure: &practices.OutcomeMeasure{Kind: evidence.MeasurePercent, Direction: evidence.DirectionUp}}
	progress := []*practices.Progress{
		{Meta: practices.Meta{URI: "http://a.test/progress/1", Origin: "http://a.test"}, Points: []evidence.MeasurePoint{{Date: "2026-11-20", N: 30, Value: 40}}},
		{Meta: practices.Meta{URI: "http://b.test/progress/2", Origin: "http://b.test"}, Points: []evidence.MeasurePoint{{Date: "2026-10-05", N: 30, Value: 40}}},
		{Meta: practices.Meta{URI: "http://b.test/progress/3", Origin: "http://b.test"}, Points: []evidence.MeasurePoint{{Date: "2026-09-01", N: 30, Value: 35}}},
	}
	label := func(origin string) practices.DistrictLabel {
		return practices.DistrictLabel{ID: origin[7:8], Origin: origin}
	}
	d := practices.BuildDashboard(practices.DashboardInput{Aim: aim, Progress: progress, MinimumN: 10, Today: today, District: label,
		Network: []practices.DistrictLabel{label("http://a.test"), label("http://b.test"), label("http://c.test")}})
	if len(d.Districts) != 2 || len(d.Districts[1].Points) != 2 || d.Districts[1].LastReport != "2026-10-05" {
		t.Fatalf("districts: %+v", d.Districts)
	}
	// b last reported on 5 October, 61 days before 5 December; c never did.
	var ids []string
	for _, l := range d.NotReporting {
		ids = append(ids, l.ID)
	}
	if len(ids) != 2 || ids[0] != "b" || ids[1] != "c" {
		t.Errorf("not reporting: %v, want [b c]", ids)
	}
}
