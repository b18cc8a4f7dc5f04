package daemon

import (
	"log/slog"
	"net/http"
	"time"

	"mailroom/internal/admin"
	"mailroom/internal/resolver"
	"mailroom/internal/store"
)

// adminService is the admin.Service the JSON API calls: the daemon's
// store, and the configuration's default limits and data directory, as
// the CLI builds it.
func (d *Daemon) adminService() *admin.Service {
	a := admin.New(d.st)
	a.DataDir = d.cfg.DataPath()
	a.Blobs = d.blobs
	a.PlusSeparator = d.cfg.Addresses.PlusSeparator
	a.OAuthIssuers = admin.OAuthIssuers(d.cfg.OAuth)
	if r, err := resolver.New(d.cfg.Delivery.Resolver); err == nil { // config checked it; delivery reports it
		a.DNS = r
	}
	a.DoctorOptions = admin.DoctorOptionsOf(d.cfg)
	l := d.cfg.Limits
	a.Limits = store.Limits{Concurrent: l.Concurrent, MessagesPerMinute: l.MessagesPerMinute,
		RecipientsPerMessage: l.RecipientsPerMessage, RecipientsPerDay: l.RecipientsPerDay}
	return a
}

// The admin listener's bounds (README "Security defaults"). Request bodies
// are capped by the handler (web.New: 1 MiB, the console's login form
// 16 KiB).
const (
	// httpReadHeaderTimeout bounds reading a request's headers.
	httpReadHeaderTimeout = 10 * time.Second
	// httpReadTimeout bounds reading a whole request, a 1 MiB body
	// included.
	httpReadTimeout = 30 * time.Second
	// httpWriteTimeout bounds writing an answer, from the end of the
	// request's headers. A raw message download and a message's HTML are
	// written for as long as the client keeps reading (web's
	// steadyWriter); a CPU profile (http.pprof) must be shorter.
	httpWriteTimeout = time.Minute
	// httpIdleTimeout closes a kept-alive connection with no request.
	httpIdleTimeout = 2 * time.Minute
	// httpMaxHeaderBytes bounds a request's headers.
	httpMaxHeaderBytes = 64 << 10
)

// newHTTPServer is the admin listener's server: the console, the JSON API,
// /metrics and /healthz behind h.
func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	s := &http.Server{Handler: h, ReadHeaderTimeout: httpReadHeaderTimeout, ReadTimeout: httpReadTimeout,
		WriteTimeout: httpWriteTimeout, IdleTimeout: httpIdleTimeout, MaxHeaderBytes: httpMaxHeaderBytes}
	if log != nil {
		s.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	}
	return s
}
