// Package web owns the HTTP listener's handlers: the health check, the
// JSON API under /api/v1 (api.go), the Prometheus metrics at /metrics and
// the admin console.
//
// The listener is 127.0.0.1:8080 by default (config http.listen): /metrics
// and /healthz answer without a token, so expose it beyond loopback only
// behind a proxy that restricts them.
package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	httppprof "net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"mailroom/internal/admin"
)

// Pinger reports whether the store answers.
type Pinger interface {
	DirectoryVersion(ctx context.Context) (int64, error)
}

// Options are what the listener's handlers need.
type Options struct {
	// Store answers /healthz.
	Store Pinger
	// Admin serves the JSON API under /api/v1; nil turns it off.
	Admin *admin.Service
	// Metrics is served at /metrics in the Prometheus text format; nil
	// turns it off.
	Metrics prometheus.Gatherer
	// Pprof serves the Go profiler's endpoints under /debug/pprof/
	// (http.pprof).
	Pprof bool
	Log   *slog.Logger
}

// New returns the handler of the admin listener.
func New(o Options) http.Handler {
	mux := http.NewServeMux()
	if o.Admin != nil {
		mountAPI(mux, o.Admin, o.Log)
	}
	if o.Metrics != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(o.Metrics, promhttp.HandlerOpts{ErrorLog: slogPrinter{o.Log}}))
	}
	if o.Pprof {
		mux.HandleFunc("/debug/pprof/", httppprof.Index)
		mux.HandleFunc("/debug/pprof/profile", httppprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", httppprof.Trace)
		mux.HandleFunc("/debug/pprof/symbol", httppprof.Symbol)
		mux.HandleFunc("/debug/pprof/cmdline", httppprof.Cmdline)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if _, err := o.Store.DirectoryVersion(ctx); err != nil {
			http.Error(w, "store unavailable: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}

// slogPrinter logs promhttp's gathering errors.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Println(v ...any) { p.log.Warn("metrics", "err", fmt.Sprint(v...)) }
