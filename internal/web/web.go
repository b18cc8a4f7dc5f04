// Package web owns the HTTP listener's handlers: today the health check;
// the admin console, JSON API and /metrics join it in later work.
package web

import (
	"context"
	"net/http"
	"time"
)

// Pinger reports whether the store answers.
type Pinger interface {
	DirectoryVersion(ctx context.Context) (int64, error)
}

// New returns the handler of the admin listener.
func New(store Pinger) http.Handler {
	mux := http.NewServeMux()
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
