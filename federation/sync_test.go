package federation

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/evidence"
	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/storage/s3/miniotest"
)

const converge = 20 * time.Second

// TestPublishWithdrawNarrow: three nodes, A on MinIO. What A publishes network-wide reaches B and C
// (by notify: the poll interval is an hour); a withdrawal and a narrowed visibility reach both as
// tombstones that purge the copies; a record shared only with B reaches B and never C.
func TestPublishWithdrawNarrow(t *testing.T) {
	if testing.Short() {
		t.Skip("needs MinIO")
	}
	srv := miniotest.Start(t)
	c := newCluster(t, map[string]storage.Bucket{"a": srv.NewBucket(t), "b": fsBucket(t), "c": fsBucket(t)}, nil)
	a, b, cc := c.nodes["a"], c.nodes["b"], c.nodes["c"]
	ctx := context.Background()

	net1 := a.publish("Fraction number line talks", practices.VisibilityNetwork)
	net2 := a.publish("Number talks warm-up", practices.VisibilityNetwork)
	onlyB := a.publish("Shared with b only", practices.VisibilityPeers, "b")
	district := a.publish("District only", practices.VisibilityDistrict)
	for _, n := range []*testNode{b, cc} {
		eventually(t, converge, hasVersion(n, a, net1.ID, 2))
		eventually(t, converge, hasVersion(n, a, net2.ID, 2))
	}
	eventually(t, converge, hasVersion(b, a, onlyB.ID, 2))

	// The mirror copy is exactly the published record, without who created or changed it.
	rec, _ := b.mirrored(a, net1.ID)
	m := rec.RecordMeta()
	if m.Origin != a.url || m.OriginID != "a" || m.CreatedBy != "" || m.UpdatedBy != "" || rec.(*practices.Practice).Title != net1.Title {
		t.Errorf("mirrored meta = %+v", m)
	}
	raw, err := b.repo.GetMirror(ctx, a.url, practices.KindPractice, net1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(decodePayload(t, string(raw))), admin.Subject) {
		t.Errorf("signed document names the creator")
	}

	// C receives tombstones for what it may not see and never a copy of it.
	eventually(t, converge, isTombstoned(cc, a, onlyB.ID))
	eventually(t, converge, isTombstoned(cc, a, district.ID))
	for _, id := range []string{onlyB.ID, district.ID} {
		raw, err := cc.repo.GetMirror(ctx, a.url, practices.KindPractice, id)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(decodePayload(t, string(raw))), `"record"`) {
			t.Errorf("c holds a record it may not see: %s", decodePayload(t, string(raw)))
		}
	}
	if _, gone := cc.mirrored(a, onlyB.ID); !gone {
		t.Errorf("record shared only with b is visible on c")
	}

	// Withdraw one, narrow the other to the district: both copies are purged on B and C.
	a.withdraw(net1.ID)
	narrowed := fullPractice(net2.Title, practices.VisibilityDistrict)
	if _, err := a.repo.Update(ctx, admin, practices.KindPractice, net2.ID, 2, narrowed); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*testNode{b, cc} {
		for _, id := range []string{net1.ID, net2.ID} {
			eventually(t, converge, isTombstoned(n, a, id))
			if _, gone := n.mirrored(a, id); !gone {
				t.Errorf("%s still holds %s", n.id, id)
			}
		}
	}
	// The tombstones give the right reasons.
	for id, want := range map[string]string{net1.ID: ReasonWithdrawn, net2.ID: ReasonVisibility} {
		raw, _ := b.repo.GetMirror(ctx, a.url, practices.KindPractice, id)
		var d Document
		if err := json.Unmarshal(decodePayload(t, string(raw)), &d); err != nil {
			t.Fatal(err)
		}
		if !d.Deleted || d.Reason != want || d.Record != nil {
			t.Errorf("tombstone of %s = %+v, want reason %s", id, d, want)
		}
	}
	// The change log of B says each change once per record version: put, put, put, then deletes.
	if h := b.health("a"); h.LastSuccess.IsZero() || h.LastError != "" || h.CaughtUpAt.IsZero() || h.Applied == 0 {
		t.Errorf("health = %+v", h)
	}
}

// TestEvidenceAcrossNodes: a test B runs of A's practice reaches A through B's feed, and A's
// evidence for the practice counts it.
func TestEvidenceAcrossNodes(t *testing.T) {
	c := newCluster(t, map[string]storage.Bucket{"a": fsBucket(t), "b": fsBucket(t)}, nil)
	a, b := c.nodes["a"], c.nodes["b"]
	ctx := context.Background()
	pr := a.publish("Fraction number line talks", practices.VisibilityNetwork)
	eventually(t, converge, hasVersion(b, a, pr.ID, 2))

	cut := 60.0
	test := &practices.Test{
		Meta:  practices.Meta{Team: "math-4", Visibility: practices.VisibilityNetwork},
		Title: "Grade 4 spring cycle", Practice: practices.PracticeRef{URI: pr.URI, Version: pr.Version},
		Cycle: "pdsa", Design: "single_group_pre_post", Question: "Does placing fractions first help comparison?",
		Prediction: &practices.Prediction{Text: "Gain of 5 points", Metric: "mean_gain", Operator: ">=", Value: 5},
		Assessment: &practices.Assessment{Name: "Unit test", ScoreMin: 0, ScoreMax: 100, ProficiencyCut: &cut, Form: "parallel"},
		Cohort:     &practices.Cohort{GradeLevels: []string{"04"}, Subjects: []string{"math"}, Classrooms: 2, StudentsPlanned: 40},
		StartDate:  "2026-02-01", EndDate: "2026-03-15",
		Dosage:    &practices.Dosage{SessionsPlanned: 10, SessionsDelivered: 9, MinutesPerSession: 15},
		Learnings: "Students argued about placement.",
	}
	rec, err := b.repo.Create(ctx, admin, test)
	if err != nil {
		t.Fatal(err)
	}
	id := rec.RecordMeta().ID
	f := func(v float64) *float64 { return &v }
	analysis, err := evidence.AnalyzeSummary(evidence.SummaryInput{Groups: []evidence.SummaryGroup{{
		N: 30, MeanPre: f(48.2), SDPre: f(10.5), MeanPost: f(55.9), SDPost: f(11), R: f(0.78),
	}}}, evidence.Options{Design: evidence.SingleGroup, ScoreMin: 0, ScoreMax: 100})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.repo.RecordResults(ctx, admin, id, analysis); err != nil {
		t.Fatal(err)
	}
	if _, err := b.repo.Mutate(ctx, admin, practices.KindTest, id, func(cur practices.Record) error {
		cur.(*practices.Test).Decision = "adopt"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.repo.Publish(ctx, admin, practices.KindTest, id, 0); err != nil {
		t.Fatal(err)
	}
	eventually(t, converge, func() error {
		sum, err := a.repo.Evidence(ctx, teacher, pr.URI, 0)
		if err != nil {
			return err
		}
		if sum.Tests != 1 || sum.Districts != 1 {
			return fmt.Errorf("evidence on a = %+v", sum)
		}
		return nil
	})
}

// TestRestartConverges: B is down while A publishes 200 records and withdraws or narrows a third of
// them; once B is back it holds exactly what A lets it see.
func TestRestartConverges(t *testing.T) {
	c := newCluster(t, map[string]storage.Bucket{"a": fsBucket(t), "b": fsBucket(t)}, nil)
	a, b := c.nodes["a"], c.nodes["b"]
	ctx := context.Background()
	first := a.publish("before the outage", practices.VisibilityNetwork)
	eventually(t, converge, hasVersion(b, a, first.ID, 2))

	c.stop(b)
	var ids []string
	for i := range 200 {
		vis := practices.VisibilityNetwork
		if i%10 == 9 {
			vis = practices.VisibilityDistrict
		}
		ids = append(ids, a.publish(fmt.Sprintf("practice %03d", i), vis).ID)
	}
	for i, id := range ids {
		if i%3 == 0 {
			a.withdraw(id)
		}
	}
	a.withdraw(first.ID)
	c.start(b)

	ids = append(ids, first.ID)
	nodeB := practices.Principal{Kind: "node", Subject: b.url, PeerID: "b"}
	eventually(t, 60*time.Second, func() error {
		for _, id := range ids {
			want, err := a.repo.Get(ctx, nodeB, practices.KindPractice, id)
			visible := err == nil
			got, gone, lerr := b.repo.Load(ctx, a.url, practices.KindPractice, id)
			if lerr != nil {
				return lerr
			}
			if visible == gone {
				return fmt.Errorf("%s: visible to b on a = %v, held by b = %v", id, visible, !gone)
			}
			if visible && got.RecordMeta().Version != want.RecordMeta().Version {
				return fmt.Errorf("%s: b holds v%d, a has v%d", id, got.RecordMeta().Version, want.RecordMeta().Version)
			}
		}
		return nil
	})
	// Nothing else from A is held: every held key is one of A's records.
	keys, err := b.repo.ListMirrors(ctx, "a", "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, id := range ids {
		known["mirror/a/practice/"+id+".jws"] = true
	}
	for _, k := range keys {
		if !known[k] {
			t.Errorf("b holds %s, which a never published", k)
		}
	}
}
