package daemon

import (
	"net/http"
	"testing"
	"time"
)

// TestHTTPServer_Timeouts: the admin listener bounds every phase of a
// connection and the size of a request's headers (it had a header
// timeout only: a client could hold a connection open for good by
// sending a body, or reading an answer, one byte at a time).
func TestHTTPServer_Timeouts(t *testing.T) {
	s := newHTTPServer(http.NotFoundHandler(), nil)
	for name, d := range map[string]time.Duration{"ReadHeaderTimeout": s.ReadHeaderTimeout, "ReadTimeout": s.ReadTimeout,
		"WriteTimeout": s.WriteTimeout, "IdleTimeout": s.IdleTimeout} {
		if d <= 0 {
			t.Errorf("%s unset", name)
		}
	}
	if s.MaxHeaderBytes <= 0 || s.MaxHeaderBytes > 1<<20 {
		t.Errorf("MaxHeaderBytes %d", s.MaxHeaderBytes)
	}
	// net/http/pprof refuses a profile as long as the WriteTimeout; its
	// default is 30 seconds.
	if s.WriteTimeout <= 30*time.Second {
		t.Errorf("WriteTimeout %s cuts the profiler's default 30 s profile", s.WriteTimeout)
	}
}
