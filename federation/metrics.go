package federation

import (
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	reg              *prometheus.Registry
	refused          *prometheus.CounterVec
	applied          *prometheus.CounterVec
	rejectedDocs     *prometheus.CounterVec
	refusedItems     *prometheus.CounterVec
	syncErrors       *prometheus.CounterVec
	notifyFailures   *prometheus.CounterVec
	artifactMismatch *prometheus.CounterVec
	lastSuccess      *prometheus.GaugeVec
}

func newMetrics(reg *prometheus.Registry, f *Member) (*metrics, error) {
	m := &metrics{
		reg: reg,
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "brightspots_federation_tokens_refused_total",
			Help: "Federation requests refused with 401, by the check that failed.",
		}, []string{"reason"}),
		applied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "brightspots_federation_documents_applied_total",
			Help: "Signed documents from peers stored as mirror copies, by peer and op (put, delete).",
		}, []string{"peer", "op"}),
		rejectedDocs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "brightspots_federation_documents_refused_total",
			Help: "Feed pages refused because a document failed verification, by peer.",
		}, []string{"peer"}),
		refusedItems: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "brightspots_federation_items_refused_total",
			Help: "Documents from peers refused, by peer and reason (form, signature, origin, other_district, invalid); unknown_kind counts documents skipped.",
		}, []string{"peer", "reason"}),
		syncErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "brightspots_federation_sync_errors_total",
			Help: "Failed sync attempts, by peer.",
		}, []string{"peer"}),
		notifyFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "brightspots_federation_notify_failures_total",
			Help: "Notifies to a peer that it did not take (no answer in time, an error status); each is tried again until taken or covered by the peer's poll.",
		}, []string{"peer"}),
		artifactMismatch: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "brightspots_federation_artifact_mismatches_total",
			Help: "Artifacts from peers refused because bytes did not match the signed hash or size.",
		}, []string{"peer"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "brightspots_federation_peer_last_success_timestamp_seconds",
			Help: "When a pull from the peer last succeeded.",
		}, []string{"peer"}),
	}
	for _, c := range []prometheus.Collector{m.refused, m.applied, m.rejectedDocs, m.refusedItems, m.syncErrors, m.notifyFailures, m.artifactMismatch, m.lastSuccess, &healthCollector{f}} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for _, r := range refuseReasons {
		m.refused.WithLabelValues(r)
	}
	return m, nil
}

func (m *metrics) addPeer(p *peer) {
	m.syncErrors.WithLabelValues(p.cfg.ID)
	m.notifyFailures.WithLabelValues(p.cfg.ID)
	m.rejectedDocs.WithLabelValues(p.cfg.ID)
	for _, r := range itemReasons {
		m.refusedItems.WithLabelValues(p.cfg.ID, r)
	}
}

var (
	lagSecondsDesc = prometheus.NewDesc("brightspots_federation_peer_lag_seconds",
		"How long ago this node was last caught up with the peer's feed (0 when it is).", []string{"peer"}, nil)
	lagRecordsDesc = prometheus.NewDesc("brightspots_federation_peer_lag_records",
		"Records received from the peer and not yet applied.", []string{"peer"}, nil)
	tombstonesDesc = prometheus.NewDesc("brightspots_federation_peer_tombstones_pending",
		"Tombstones received from the peer and not yet applied.", []string{"peer"}, nil)
)

// healthCollector exports Health() at scrape time.
type healthCollector struct{ f *Member }

func (c *healthCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- lagSecondsDesc
	ch <- lagRecordsDesc
	ch <- tombstonesDesc
}

func (c *healthCollector) Collect(ch chan<- prometheus.Metric) {
	for _, h := range c.f.Health() {
		ch <- prometheus.MustNewConstMetric(lagSecondsDesc, prometheus.GaugeValue, h.LagSeconds, h.ID)
		ch <- prometheus.MustNewConstMetric(lagRecordsDesc, prometheus.GaugeValue, float64(h.LagRecords), h.ID)
		ch <- prometheus.MustNewConstMetric(tombstonesDesc, prometheus.GaugeValue, float64(h.TombstonesPending), h.ID)
	}
}
