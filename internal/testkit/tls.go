package testkit

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"mailroom/internal/store"
)

// TryStartTLS sends STARTTLS (after EHLO), asserts 220 and runs the
// handshake with cfg, returning its error instead of failing the test:
// for clients the server should refuse. On success the dialogue goes on
// under TLS (send EHLO again).
func (c *Conn) TryStartTLS(cfg *tls.Config) error {
	c.tb.Helper()
	c.MustCmd("STARTTLS", 220, "2.0.0")
	tc := tls.Client(c.nc, cfg)
	_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err != nil {
		return err
	}
	_ = tc.SetDeadline(time.Time{})
	c.nc, c.r = tc, bufio.NewReader(tc)
	return nil
}

// TryDialTLSFrom connects to an implicit-TLS addr from localIP (a 127/8
// address) and runs the handshake with cfg, returning its error instead of
// failing the test; on success it reads the 220 greeting.
func TryDialTLSFrom(tb testing.TB, addr, localIP string, cfg *tls.Config) (*Conn, error) {
	tb.Helper()
	tc := tls.Client(DialRawFrom(tb, addr, localIP, nil), cfg)
	_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err != nil {
		tc.Close()
		return nil, err
	}
	_ = tc.SetDeadline(time.Time{})
	return greet(tb, tc), nil
}

// TraceEvents flushes the daemon's trace and returns the events with
// status (all events when ""), oldest first.
func (s *Server) TraceEvents(status string) []store.TraceEvent {
	s.TB.Helper()
	s.Daemon.FlushTrace()
	ev, err := s.Store.SearchTrace(context.Background(), store.TraceFilter{Status: status})
	if err != nil {
		s.TB.Fatalf("search trace: %v", err)
	}
	return ev
}

// WaitTraceEvent waits until the trace holds an event of kind from the
// client at localIP (its Remote's address) and returns the first.
func (s *Server) WaitTraceEvent(kind, localIP string) store.TraceEvent {
	s.TB.Helper()
	var found store.TraceEvent
	Eventually(s.TB, "a "+kind+" trace event from "+localIP, func() bool {
		for _, e := range s.TraceEvents("") {
			if host, _, _ := net.SplitHostPort(e.Remote); e.Kind == kind && host == localIP {
				found = e
				return true
			}
		}
		return false
	})
	return found
}

// Metric returns the value of one series of the daemon's /metrics
// ("name{label=\"value\"}"), 0 when absent.
func (s *Server) Metric(series string) float64 {
	s.TB.Helper()
	resp, err := http.Get("http://" + s.Addr("http") + "/metrics")
	if err != nil {
		s.TB.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.LastIndexByte(line, ' '); i > 0 && line[:i] == series {
			v, err := strconv.ParseFloat(line[i+1:], 64)
			if err != nil {
				s.TB.Fatalf("metrics line %q: %v", line, err)
			}
			return v
		}
	}
	return 0
}

// Fingerprint is the SHA-256 fingerprint (hex) of a certificate's leaf,
// as connectors pin client certificates.
func Fingerprint(c tls.Certificate) string {
	sum := sha256.Sum256(c.Certificate[0])
	return hex.EncodeToString(sum[:])
}
