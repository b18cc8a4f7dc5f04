package submission_test

import (
	"crypto/tls"
	"strings"
	"testing"

	"mailroom/internal/testkit"
	"mailroom/internal/trace"
)

// tls10 is a client that can only speak TLS 1.0, as old printers do.
func tls10() *tls.Config {
	return &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10}
}

// TestTLSFailed_OldVersionOnStartTLS: a TLS 1.0 client is refused after
// STARTTLS, and the trace says what it offered and how to allow it for
// its address; the metric counts it by reason.
func TestTLSFailed_OldVersionOnStartTLS(t *testing.T) {
	s := testkit.Start(t, senderFixture)
	series := `mailroom_submission_tls_failures_total{reason="tls_version"}`
	before := s.Metric(series)
	c := testkit.DialFrom(t, s.Addr("submission"), "127.0.0.21")
	c.MustCmd("EHLO printer.example.test", 250, "")
	if err := c.TryStartTLS(tls10()); err == nil {
		t.Fatal("TLS 1.0 handshake succeeded on a listener without a legacy-TLS connector")
	}
	e := s.WaitTraceEvent(trace.KindTLS, "127.0.0.21")
	if e.Status != trace.StatusTLSFailed || e.Reason != "tls_version" || e.Session == "" ||
		!strings.Contains(e.Detail, "client offered TLS 1.0;") || !strings.Contains(e.Detail, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA") ||
		!strings.Contains(e.Detail, "SNI (none)") ||
		!strings.Contains(e.Detail, "mailroom connector add NAME --mailbox ADDRESS --networks 127.0.0.21/32 --legacy-tls") {
		t.Fatalf("tls_failed event: %+v", e)
	}
	if got := s.Metric(series); got < before+1 {
		t.Errorf("%s = %v, want at least %v", series, got, before+1)
	}
	// Searchable by status, with the session event of its EHLO.
	var kinds []string
	for _, e := range s.TraceEvents("") {
		if strings.HasPrefix(e.Remote, "127.0.0.21:") {
			kinds = append(kinds, e.Kind)
		}
	}
	if strings.Join(kinds, ",") != "session,tls" {
		t.Errorf("events of the session: %v, want session,tls (no no_command event besides)", kinds)
	}
	if n := len(s.TraceEvents(trace.StatusTLSFailed)); n != 1 {
		t.Errorf("status tls_failed: %d events, want 1", n)
	}
}

// TestTLSFailed_ImplicitTLS: on port 465 a TLS 1.0 client, a client that
// refuses the certificate (TLS 1.2: its alert is read; TLS 1.3: it just
// ends the handshake) and a client speaking plain SMTP are each traced with
// their reason; a client that completes the handshake is not.
func TestTLSFailed_ImplicitTLS(t *testing.T) {
	s := testkit.Start(t, senderFixture)
	addr := s.Addr("submission_tls")
	for _, tc := range []struct {
		ip, reason, detail string
		cfg                *tls.Config
	}{
		{"127.0.0.31", "tls_version", "client offered TLS 1.0;", tls10()},
		{"127.0.0.32", "tls_certificate", `refused mailroom's certificate (alert "tls: bad certificate")`, &tls.Config{ServerName: "mail.example.test", MaxVersion: tls.VersionTLS12}},
		{"127.0.0.33", "tls_handshake", "SNI mail.example.test; the client ended the handshake after mailroom's certificate was sent", &tls.Config{ServerName: "mail.example.test"}},
	} {
		if _, err := testkit.TryDialTLSFrom(t, addr, tc.ip, tc.cfg); err == nil {
			t.Fatalf("%s: handshake succeeded", tc.reason)
		}
		if e := s.WaitTraceEvent(trace.KindTLS, tc.ip); e.Reason != tc.reason || e.Status != trace.StatusTLSFailed || !strings.Contains(e.Detail, tc.detail) {
			t.Errorf("%s: event %+v, want detail containing %q", tc.reason, e, tc.detail)
		}
	}

	plain := testkit.DialRawFrom(t, addr, "127.0.0.34", []byte("EHLO printer.example.test\r\n"))
	testkit.ReadUntilClosed(t, plain)
	if e := s.WaitTraceEvent(trace.KindTLS, "127.0.0.34"); e.Reason != "not_tls" || !strings.Contains(e.Detail, "first octet 0x45") || !strings.Contains(e.Detail, "STARTTLS on port 587") {
		t.Errorf("plain text on 465: %+v", e)
	}

	ok, err := testkit.TryDialTLSFrom(t, addr, "127.0.0.35", s.TLSConfig())
	if err != nil {
		t.Fatalf("trusted client: %v", err)
	}
	ok.MustCmd("EHLO client.example.test", 250, "")
	ok.Expect(ok.AuthPlain("app@example.test", pw), 235, "2.0.0")
	ok.MustCmd("QUIT", 221, "2.0.0")
	ok.Close()
	s.WaitTraceEvent(trace.KindAuth, "127.0.0.35")
	for _, e := range s.TraceEvents(trace.StatusTLSFailed) {
		if strings.HasPrefix(e.Remote, "127.0.0.35:") {
			t.Errorf("tls_failed for a completed handshake: %+v", e)
		}
	}
}

// TestNoCommand: a client that says EHLO and leaves is traced as having
// sent no command, with what EHLO offered it; one that does STARTTLS and
// AUTH is not.
func TestNoCommand(t *testing.T) {
	s := testkit.Start(t, senderFixture)
	c := testkit.DialFrom(t, s.Addr("submission"), "127.0.0.41")
	c.MustCmd("EHLO scanner.example.test", 250, "")
	c.MustCmd("QUIT", 221, "2.0.0")
	e := s.WaitTraceEvent(trace.KindEnded, "127.0.0.41")
	if e.Status != trace.StatusNoCommand || e.Reason != "no_command" || !strings.Contains(e.Detail, "EHLO offered STARTTLS and no AUTH") ||
		!strings.Contains(e.Detail, "--networks 127.0.0.41/32") {
		t.Fatalf("no_command event: %+v", e)
	}

	r := testkit.Ready(t, s, "app@example.test", pw)
	r.MustCmd("QUIT", 221, "2.0.0")
	r.Close()
	s.WaitTraceEvent(trace.KindAuth, "127.0.0.1")
	for _, e := range s.TraceEvents(trace.StatusNoCommand) {
		if strings.HasPrefix(e.Remote, "127.0.0.1:") {
			t.Errorf("no_command for a session with STARTTLS and AUTH: %+v", e)
		}
	}
}
