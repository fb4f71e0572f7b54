package practices_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/evidence"
)

var coordinator = practices.Principal{Kind: "token", Subject: "t5", Roles: []practices.Role{practices.RoleCoordinator}}

// benchID is a valid record id (a UUID) numbered n within a series.
func benchID(series, n int) string {
	return fmt.Sprintf("0193a3c0-%04x-7000-8000-%012x", series, n)
}

// mirrorUnsigned stores rec as a peer's mirrored copy. The signature is not checked when a stored
// mirror is read (federation verified it on receipt), so a benchmark may store unsigned documents.
func mirrorUnsigned(b *testing.B, r *practices.Repo, rec practices.Record) {
	b.Helper()
	m := rec.RecordMeta()
	h := practices.SignedHeader{Origin: m.Origin, Kind: m.Kind, ID: m.ID, Version: m.Version}
	payload, err := json.Marshal(map[string]any{"origin": m.Origin, "kind": m.Kind, "id": m.ID, "version": m.Version, "record": rec})
	if err != nil {
		b.Fatal(err)
	}
	jws := "e30." + base64.RawURLEncoding.EncodeToString(payload) + ".c2ln"
	if _, err := r.ApplyMirror(context.Background(), []byte(jws), h, rec); err != nil {
		b.Fatal(err)
	}
}

func mirroredMeta(origin, originID string, kind practices.Kind, id string, at time.Time) practices.Meta {
	return practices.Meta{ID: id, Kind: kind, URI: origin + "/" + kind.Plural() + "/" + id, Version: 1, Origin: origin, OriginID: originID,
		Status: practices.StatusPublished, CreatedAt: at, UpdatedAt: at, PublishedAt: &at, Visibility: practices.VisibilityNetwork}
}

// monthlyPoints is two school years of monthly points of a percent measure.
func monthlyPoints(district int) []evidence.MeasurePoint {
	var out []evidence.MeasurePoint
	start := time.Date(2024, 12, 15, 0, 0, 0, 0, time.UTC)
	for m := range 24 {
		out = append(out, evidence.MeasurePoint{Date: start.AddDate(0, m, 0).Format(time.DateOnly), N: 40 + district, Value: float64(35 + (m+district)%30)})
	}
	return out
}

// BenchmarkAimDashboard measures building an aim's dashboard (and encoding its JSON) for an aim with
// 50 change ideas linking 200 practices (100 local, 100 mirrored, each with 2 tests from peers) and
// 30 districts' monthly progress over two years (this district's and 29 peers'), on the fs store:
// "store-cold" is the whole of GET /api/v1/aims/{id}/dashboard below HTTP with every record read
// from the store (the first read after any change), "store-cached" the same while nothing changed,
// "build" only the assembly from records already read.
//
//	go test -run XXX -bench AimDashboard -benchtime 50x ./practices/
func BenchmarkAimDashboard(b *testing.B) {
	ctx := context.Background()
	r := openRepo(b, newBucket(b))
	now := time.Now().UTC()
	peers := make([]string, 29)
	for i := range peers {
		peers[i] = fmt.Sprintf("http://d%02d.test", i)
		r.SetMirrorID(peers[i], fmt.Sprintf("d%02d", i))
	}
	var uris []string
	for i := range 100 {
		rec, err := r.Create(ctx, mathPLC, fullPractice(fmt.Sprintf("Local practice %d", i)))
		if err != nil {
			b.Fatal(err)
		}
		if rec, err = r.Publish(ctx, mathPLC, practices.KindPractice, rec.RecordMeta().ID, 0); err != nil {
			b.Fatal(err)
		}
		uris = append(uris, rec.RecordMeta().URI)
	}
	for i := range 100 {
		origin := peers[i%len(peers)]
		p := fullPractice(fmt.Sprintf("Mirrored practice %d", i))
		p.Meta = mirroredMeta(origin, fmt.Sprintf("d%02d", i%len(peers)), practices.KindPractice, benchID(1, i), now)
		mirrorUnsigned(b, r, p)
		uris = append(uris, p.URI)
	}
	for i, u := range uris {
		for j := range 2 {
			origin := peers[(i+j+1)%len(peers)]
			t := &practices.Test{Meta: mirroredMeta(origin, fmt.Sprintf("d%02d", (i+j+1)%len(peers)), practices.KindTest, benchID(2, i*2+j), now),
				Title: "Cycle", Practice: practices.PracticeRef{URI: u, Version: 1}, Cycle: "pdsa", Design: "single_group_pre_post",
				Question: "Does it help?", EndDate: fmt.Sprintf("2026-%02d-15", 1+(i+j)%11), Learnings: "What the team learned in this cycle.",
				Results: &evidence.Results{Design: "single_group_pre_post"}}
			mirrorUnsigned(b, r, t)
		}
	}
	aim := &practices.Aim{Meta: practices.Meta{Visibility: practices.VisibilityNetwork}, Title: "Fractions proficiency",
		Statement:      "By June 2027, 70 % of grade 3–5 students will be proficient.",
		OutcomeMeasure: &practices.OutcomeMeasure{Name: "Proficient", Kind: evidence.MeasurePercent, Direction: evidence.DirectionUp},
		Target:         &practices.AimTarget{Value: 70, By: now.AddDate(1, 0, 0).Format(time.DateOnly)}}
	for i := range 5 {
		aim.Drivers = append(aim.Drivers, practices.Driver{ID: fmt.Sprintf("p%d", i), Level: practices.DriverPrimary, Text: "A primary driver"})
		for j := range 2 {
			aim.Drivers = append(aim.Drivers, practices.Driver{ID: fmt.Sprintf("s%d-%d", i, j), Level: practices.DriverSecondary, Text: "A secondary driver", Parent: fmt.Sprintf("p%d", i)})
		}
	}
	for i := range 50 {
		aim.ChangeIdeas = append(aim.ChangeIdeas, practices.ChangeIdea{ID: fmt.Sprintf("c%d", i), Text: "A change idea",
			Drivers: []string{fmt.Sprintf("s%d-%d", i%5, i%2)}, Practices: uris[i*4 : i*4+4]})
	}
	rec, err := r.Create(ctx, coordinator, aim)
	if err != nil {
		b.Fatal(err)
	}
	if rec, err = r.Publish(ctx, coordinator, practices.KindAim, rec.RecordMeta().ID, 0); err != nil {
		b.Fatal(err)
	}
	aimURI, aimID, aimVersion := rec.RecordMeta().URI, rec.RecordMeta().ID, rec.RecordMeta().Version
	local := &practices.Progress{Meta: practices.Meta{Visibility: practices.VisibilityNetwork}, Aim: practices.AimRef{URI: aimURI}, Points: monthlyPoints(0)}
	if rec, err = r.Create(ctx, coordinator, local); err != nil {
		b.Fatal(err)
	}
	if _, err = r.Publish(ctx, coordinator, practices.KindProgress, rec.RecordMeta().ID, 0); err != nil {
		b.Fatal(err)
	}
	for i, origin := range peers {
		pr := &practices.Progress{Meta: mirroredMeta(origin, fmt.Sprintf("d%02d", i), practices.KindProgress, benchID(3, i), now),
			Aim: practices.AimRef{URI: aimURI, Version: 2}, Points: monthlyPoints(i + 1)}
		mirrorUnsigned(b, r, pr)
	}
	reader := practices.Principal{Kind: "session", Subject: "reader"}
	opt := practices.DashboardOptions{Today: now}

	d, err := r.AimDashboard(ctx, reader, aimURI, opt)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := json.Marshal(d)
	if len(d.Districts) != 30 || len(d.ChangeIdeas) != 50 || len(d.Network) != 24 || d.ChangeIdeas[0].Practices[0].Tests != 2 ||
		d.ChangeIdeas[49].Practices[3].Learning == nil {
		b.Fatalf("dashboard: %d districts, %d change ideas, %d months, %+v", len(d.Districts), len(d.ChangeIdeas), len(d.Network), d.ChangeIdeas[0].Practices[0])
	}

	b.Run("store-cold", func(b *testing.B) {
		// Every iteration follows a change-log entry, so the cached dashboard is never used.
		entry := practices.LogEntry{Kind: practices.KindAim, ID: aimID, Origin: node.URL, Version: aimVersion, Op: "put"}
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			if _, err := r.AppendLog(ctx, entry); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			d, err := r.AimDashboard(ctx, reader, aimURI, opt)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(d); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(body)), "json-bytes")
	})
	b.Run("store-cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			d, err := r.AimDashboard(ctx, reader, aimURI, opt)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(d); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(body)), "json-bytes")
	})
	b.Run("build", func(b *testing.B) {
		a, err := r.LoadAim(ctx, reader, aimURI)
		if err != nil {
			b.Fatal(err)
		}
		progress, err := r.ProgressOf(ctx, reader, aimURI)
		if err != nil {
			b.Fatal(err)
		}
		prs := map[string]practices.PracticeEvidence{}
		for _, u := range uris {
			p, err := r.LoadPractice(ctx, reader, u)
			if err != nil {
				b.Fatal(err)
			}
			sum, tests, err := r.EvidenceWithTests(ctx, reader, u, r.MinimumN())
			if err != nil {
				b.Fatal(err)
			}
			prs[u] = practices.PracticeEvidence{Practice: p, Summary: sum, Tests: tests}
		}
		in := practices.DashboardInput{Aim: a, Progress: progress, Practices: prs, MinimumN: r.MinimumN(), Today: now}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(practices.BuildDashboard(in)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
