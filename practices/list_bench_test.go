package practices_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
)

// BenchmarkList measures one list call (a page of up to 50) on a node holding 2,000 drafts of one
// team and 50 published practices (30 public of another team, 20 district-only), on the local
// store. heads/op is how many record heads the call read.
//
//	go test ./practices -run '^$' -bench 'List$' -benchtime 200x
func BenchmarkList(b *testing.B) {
	ctx := context.Background()
	base := newBucket(b)
	cb := &countingBucket{Bucket: base}
	r := openRepo(b, cb)
	seed(b, r, 2000, false, func(i int) *practices.Practice { return fullPractice(fmt.Sprintf("draft %d", i)) })
	seed(b, r, 30, true, func(i int) *practices.Practice {
		p := fullPractice(fmt.Sprintf("public %d", i))
		p.Team, p.Visibility = "ela-3", practices.VisibilityPublic
		return p
	})
	seed(b, r, 20, true, func(i int) *practices.Practice {
		p := fullPractice(fmt.Sprintf("district %d", i))
		p.Visibility = practices.VisibilityDistrict
		return p
	})
	for _, c := range []struct {
		name string
		p    practices.Principal
		f    practices.ListFilter
	}{
		{"anonymous/all", practices.Principal{}, practices.ListFilter{}},
		{"anonymous/status=published", practices.Principal{}, practices.ListFilter{Status: practices.StatusPublished}},
		{"teacher/all", teacher, practices.ListFilter{}},
		{"ela-publisher/team=ela-3", elaPLC, practices.ListFilter{Team: "ela-3"}},
		{"admin/status=published", admin, practices.ListFilter{Status: practices.StatusPublished}},
		{"math-publisher/status=draft", mathPLC, practices.ListFilter{Status: practices.StatusDraft}},
	} {
		b.Run(c.name, func(b *testing.B) {
			cb.heads.Store(0)
			for b.Loop() {
				if _, _, err := r.List(ctx, c.p, practices.KindPractice, c.f, "", 50); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cb.heads.Load())/float64(b.N), "heads/op")
		})
	}
}
