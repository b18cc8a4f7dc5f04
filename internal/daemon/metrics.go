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
	return reg
}
