package daemon

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"mailroom/internal/queue"
	"mailroom/internal/submission"
)

// metrics is the registry /metrics serves: the Go runtime and the process,
// the submission counters, and the queue's counters and depth (read from
// this daemon's store at scrape time). A registry per daemon, so tests can
// run several daemons in one process; the package-level counters are
// shared between them.
func (d *Daemon) metrics() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(submission.Collectors()...)
	reg.MustRegister(queue.Collectors(d.st)...)
	reg.MustRegister(newCertExpiry(d.certs))
	return reg
}

// certExpiry is the /metrics gauge of each certificate name's expiry,
// read at scrape time, so it follows every renewal.
type certExpiry struct {
	certs *certificates
	desc  *prometheus.Desc
}

func newCertExpiry(c *certificates) *certExpiry {
	return &certExpiry{certs: c, desc: prometheus.NewDesc("mailroom_tls_certificate_expiry_timestamp_seconds",
		"When the certificate served for a name expires (Unix time). Labels: name, hostname and each tls.acme_names entry; absent while ACME has not obtained it.",
		[]string{"name"}, nil)}
}

func (e *certExpiry) Describe(ch chan<- *prometheus.Desc) { ch <- e.desc }

func (e *certExpiry) Collect(ch chan<- prometheus.Metric) {
	for _, n := range e.certs.names {
		if l := e.certs.Leaf(n); l != nil {
			ch <- prometheus.MustNewConstMetric(e.desc, prometheus.GaugeValue, float64(l.NotAfter.Unix()), n)
		}
	}
}
