package web_test

import (
	"github.com/brightspots-nic/brightspots/practices"
	"sort"
	"testing"
	"time"
)

// BenchmarkPublishToSearchable measures the end-to-end latency from a publish answered by node A
// request on node A (for an existing draft) to the practice being found by a search on node B: notify, B's pull of A's feed, verification,
// the mirror write, B's change log, B's indexer. Two full nodes on loopback (A on MinIO); the peer
// poll interval is an hour, so only the notify path is measured.
//
//	go test ./web -run '^$' -bench PublishToSearchable -benchtime 50x
func BenchmarkPublishToSearchable(b *testing.B) {
	nodes := network(b, "riverside", "lakeview")
	a, bn := nodes[0], nodes[1]
	var lat, mirrored []time.Duration
	b.ResetTimer()
	for i := range b.N {
		title := "Latency probe " + uniqueWord(i) // one word no other probe shares
		// The draft exists beforehand (as a PLC's would); the clock starts at the publish request.
		p := practiceJSON(title)
		p["visibility"] = "network"
		id := a.doJSON("math", "POST", "/api/v1/practices", p).json(b)["id"].(string)
		time.Sleep(300 * time.Millisecond) // outside the notify rate window the draft opened
		start := time.Now()
		if r := a.doJSON("math", "POST", "/api/v1/practices/"+id+"/publish", nil); r.status != 200 {
			b.Fatalf("publish: %d", r.status)
		}
		for !bn.mirrored(a, practices.KindPractice, id) {
			if time.Since(start) > 30*time.Second {
				b.Fatalf("%s not mirrored in B after 30 s", title)
			}
			time.Sleep(2 * time.Millisecond)
		}
		mirrored = append(mirrored, time.Since(start))
		for !bn.finds(title) {
			if time.Since(start) > 30*time.Second {
				b.Fatalf("%s not searchable in B after 30 s", title)
			}
			time.Sleep(5 * time.Millisecond)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
	b.ReportMetric(float64(p(0.5).Milliseconds()), "p50-ms")
	b.ReportMetric(float64(p(0.99).Milliseconds()), "p99-ms")
	b.Logf("%d publishes: searchable in B p50 %v, p90 %v, p99 %v, max %v", len(lat), p(0.5), p(0.9), p(0.99), lat[len(lat)-1])
	sort.Slice(mirrored, func(i, j int) bool { return mirrored[i] < mirrored[j] })
	b.Logf("mirrored in B's store: p50 %v, p99 %v", mirrored[len(mirrored)/2], mirrored[min(len(mirrored)-1, len(mirrored)*99/100)])
}

// uniqueWord spells i in letters (search treats digits as one token; probes must not match each other).
func uniqueWord(i int) string {
	w := []byte("zq")
	for {
		w = append(w, byte('a'+i%26))
		i /= 26
		if i == 0 {
			return string(w)
		}
	}
}
