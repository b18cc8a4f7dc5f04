// Package web owns the HTTP listener's handlers: the health check, the
// JSON API under /api/v1 (api.go), the Prometheus metrics at /metrics and
// the admin console (console.go).
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
	"mailroom/internal/limits"
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
	// Now is the console's clock (sessions, login throttling, the
	// dashboard's 24 hours); nil is time.Now.
	Now func() time.Time
	// Logins throttles console logins; nil: 10 failures per client address
	// or 30 per user name in 15 minutes block for 15 minutes.
	Logins *limits.LoginGuard
}

// New returns the handler of the admin listener.
func New(o Options) http.Handler {
	mux := http.NewServeMux()
	if o.Admin != nil {
		mountAPI(mux, o.Admin, o.Log)
		if o.Now == nil {
			o.Now = time.Now
		}
		if o.Logins == nil {
			o.Logins = &limits.LoginGuard{PerAddress: 10, PerMailbox: 30, Window: 15 * time.Minute, Cooloff: 15 * time.Minute}
		}
		mountConsole(mux, newConsole(o.Admin, o.Log, o.Now, o.Logins))
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
	// Every body is capped, whoever reads it: a handler that reads past
	// maxBody gets an *http.MaxBytesError (the API answers 413 in JSON,
	// the console 413) and the connection closes after the answer.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		mux.ServeHTTP(w, r)
	})
}

// slogPrinter logs promhttp's gathering errors.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Println(v ...any) { p.log.Warn("metrics", "err", fmt.Sprint(v...)) }
