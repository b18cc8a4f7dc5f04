package queue

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"mailroom/internal/store"
)

// The queue metrics, the one package-level state STYLE §5.2 allows. The
// depth is not a global: it is read from the store at scrape time
// (DepthCollector), so every node reports the shared queue.
var (
	metricAttempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mailroom_queue_attempt_results_total",
		Help: "Delivery attempt results per recipient: delivered, transient (retried later), permanent (fails with a DSN).",
	}, []string{"result"})
	metricAttemptSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "mailroom_queue_attempt_duration_seconds",
		Help:    "Duration of one delivery attempt (one message to the recipients of one domain), local or remote.",
		Buckets: []float64{.005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
	})
	depthDesc = prometheus.NewDesc("mailroom_queue_depth_recipients",
		"Recipients waiting in the queue by state: queued (never attempted), deferred (waiting to retry after a transient failure).",
		[]string{"state"}, nil)
	depthErrorsDesc = prometheus.NewDesc("mailroom_queue_depth_errors_total",
		"Scrapes whose queue count failed (the store did not answer within a second); the depth is then missing.", nil, nil)
)

// Collectors returns the package's metrics for the daemon to register:
// the attempt counters and a DepthCollector over st.
func Collectors(st store.Stats) []prometheus.Collector {
	return []prometheus.Collector{metricAttempts, metricAttemptSeconds, &DepthCollector{Store: st}}
}

// DepthCollector reports the queue depth, counted by the store at every
// scrape.
type DepthCollector struct {
	Store  store.Stats
	errors atomic.Int64
}

// Describe implements prometheus.Collector.
func (c *DepthCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- depthDesc
	ch <- depthErrorsDesc
}

// Collect implements prometheus.Collector.
func (c *DepthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if d, err := c.Store.QueueDepth(ctx); err != nil {
		c.errors.Add(1)
	} else {
		ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(d.Queued), "queued")
		ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(d.Deferred), "deferred")
	}
	ch <- prometheus.MustNewConstMetric(depthErrorsDesc, prometheus.CounterValue, float64(c.errors.Load()))
}
