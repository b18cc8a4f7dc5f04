// Package web owns the HTTP listener's handlers: the health check and the
// JSON API under /api/v1 (api.go); the admin console and /metrics join it
// in later work.
package web

import (
	"context"
	"log/slog"
	"net/http"
	httppprof "net/http/pprof"
	"time"

	"mailroom/internal/admin"
)

// Pinger reports whether the store answers.
type Pinger interface {
	DirectoryVersion(ctx context.Context) (int64, error)
}

// New returns the handler of the admin listener. With pprof, the Go
// profiler's endpoints are served under /debug/pprof/ (http.pprof). With
// adm, the JSON API is served under /api/v1.
func New(store Pinger, pprof bool, adm *admin.Service, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	if adm != nil {
		mountAPI(mux, adm, log)
	}
	if pprof {
		mux.HandleFunc("/debug/pprof/", httppprof.Index)
		mux.HandleFunc("/debug/pprof/profile", httppprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", httppprof.Trace)
		mux.HandleFunc("/debug/pprof/symbol", httppprof.Symbol)
		mux.HandleFunc("/debug/pprof/cmdline", httppprof.Cmdline)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if _, err := store.DirectoryVersion(ctx); err != nil {
			http.Error(w, "store unavailable: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}
