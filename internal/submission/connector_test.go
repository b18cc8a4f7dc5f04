package submission_test

import (
	"context"
	"crypto/tls"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"mailroom/internal/admin"
	"mailroom/internal/daemon"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
	"mailroom/internal/trace"
)

// connectorFixture is senderFixture with connectors: printers (127.0.0.81,
// as app@), legacy (127.0.0.84, TLS 1.0 allowed) and, when cert is set, a
// certificate connector scanner.
func connectorFixture(t *testing.T, cert *tls.Certificate) func(a *admin.Service) {
	return func(a *admin.Service) {
		senderFixture(a)
		ctx := context.Background()
		_, err := a.AddConnector(ctx, admin.ConnectorSpec{Name: "printers", Mailbox: "app@example.test", Networks: []string{"127.0.0.81"}})
		testkit.MustAdd(t, err)
		_, err = a.AddConnector(ctx, admin.ConnectorSpec{Name: "old-copier", Mailbox: "app@example.test", Networks: []string{"127.0.0.84/32"}, LegacyTLS: true})
		testkit.MustAdd(t, err)
		_, err = a.AddConnector(ctx, admin.ConnectorSpec{Name: "new-copier", Mailbox: "app@example.test", Networks: []string{"127.0.0.87/32"}})
		testkit.MustAdd(t, err)
		if cert != nil {
			_, err = a.AddConnector(ctx, admin.ConnectorSpec{Name: "scanner", Mailbox: "alice@example.test", Fingerprints: []string{testkit.Fingerprint(*cert)}})
			testkit.MustAdd(t, err)
		}
	}
}

// TestConnector_Network: a device at a connector's address submits
// without AUTH as the connector's mailbox, on 587 without TLS; its message
// is delivered and copied to Sent Items, and the trace names the
// connector. Another address gets 530 5.7.57; the device may not use a
// foreign sender, in the envelope (550) or the header (554).
func TestConnector_Network(t *testing.T) {
	s := testkit.Start(t, connectorFixture(t, nil))
	c := testkit.DialFrom(t, s.Addr(daemon.ListenSubmission), "127.0.0.81")
	c.MustCmd("EHLO printer.example.test", 250, "")
	c.MustCmd("MAIL FROM:<app@example.test>", 250, "2.0.0")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "2.0.0")
	r := c.Expect(c.SendData("From: Printer <app@example.test>\nTo: carol@example.test\nSubject: scan\n\nscanned\n"), 250, "2.0.0")
	if testkit.QueueID(r) == "" {
		t.Errorf("250 without a queue id: %q", r.Text)
	}
	if sent := s.Folder("app@example.test", store.FolderSent); len(sent) != 1 || !strings.Contains(sent[0], "Subject: scan") {
		t.Errorf("Sent Items of app@: %q, want the message", sent)
	}
	testkit.Eventually(t, "delivery to carol's Inbox", func() bool { return len(s.Folder("carol@example.test", store.FolderInbox)) == 1 })
	e := s.WaitTraceEvent(trace.KindAuth, "127.0.0.81")
	if e.Mailbox != "app@example.test" || !strings.Contains(e.Detail, "connector=printers by=network") {
		t.Errorf("connector event: %+v", e)
	}
	c.MustCmd("MAIL FROM:<support@example.test>", 550, "5.7.60")
	c.MustCmd("MAIL FROM:<app@example.test>", 250, "2.0.0")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "2.0.0")
	c.Expect(c.SendData("From: alice@example.test\nSubject: not mine\n\nhi\n"), 554, "5.7.60")
	c.MustCmd("QUIT", 221, "2.0.0")
	// The trace's rows: three attempts, each naming the connector; the
	// refusal after DATA with the header it refused.
	s.Daemon.FlushTrace()
	page, err := s.Admin.TraceAttempts(context.Background(), admin.TraceQuery{Mailbox: "app@example.test"}, time.Now())
	if err != nil || len(page.Attempts) != 3 {
		t.Fatalf("attempts of app@: %+v %v", page, err)
	}
	for _, a := range page.Attempts {
		if a.Connector != "printers" || a.Login() != "connector printers (app@example.test)" {
			t.Errorf("attempt without its connector: %+v", a)
		}
	}
	if a := page.Attempts[0]; a.Status != trace.StatusRefused || a.Command != "DATA" || strings.Join(a.HeaderFrom, ",") != "alice@example.test" || a.Subject != "not mine" {
		t.Errorf("refusal after DATA: %+v", a)
	}

	other := testkit.DialFrom(t, s.Addr(daemon.ListenSubmission), "127.0.0.82")
	other.MustCmd("EHLO elsewhere.example.test", 250, "")
	other.MustCmd("MAIL FROM:<app@example.test>", 530, "5.7.57")
	other.MustCmd("QUIT", 221, "2.0.0")
}

// TestConnector_ClientCertificate: a device presenting the pinned client
// certificate submits without AUTH as the connector's mailbox from any
// address, on the implicit-TLS port; without the certificate it gets
// 530 5.7.57.
func TestConnector_ClientCertificate(t *testing.T) {
	dev := testkit.NewCert(t, "scanner.example.test").TLS.Certificates[0]
	s := testkit.Start(t, connectorFixture(t, &dev))
	cfg := s.TLSConfig()
	cfg.Certificates = []tls.Certificate{dev}
	c, err := testkit.TryDialTLSFrom(t, s.Addr(daemon.ListenTLS), "127.0.0.83", cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.MustCmd("EHLO scanner.example.test", 250, "")
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "2.0.0")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "2.0.0")
	c.Expect(c.SendData("From: alice@example.test\nSubject: scan\n\nscanned\n"), 250, "2.0.0")
	if e := s.WaitTraceEvent(trace.KindAuth, "127.0.0.83"); !strings.Contains(e.Detail, "connector=scanner by=certificate") || e.Mailbox != "alice@example.test" {
		t.Errorf("connector event: %+v", e)
	}

	plain, err := testkit.TryDialTLSFrom(t, s.Addr(daemon.ListenTLS), "127.0.0.83", s.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	plain.MustCmd("EHLO scanner.example.test", 250, "")
	plain.MustCmd("MAIL FROM:<alice@example.test>", 530, "5.7.57")
}

// TestConnector_LegacyTLS: a TLS 1.0 client is accepted after STARTTLS
// from the network of a --legacy-tls connector and submits; from a
// connector's network without it, it is refused with a tls_failed event
// that names the command to allow it.
func TestConnector_LegacyTLS(t *testing.T) {
	s := testkit.Start(t, connectorFixture(t, nil))
	c := testkit.DialFrom(t, s.Addr(daemon.ListenSubmission), "127.0.0.84")
	c.MustCmd("EHLO copier.example.test", 250, "")
	if err := c.TryStartTLS(tls10()); err != nil {
		t.Fatalf("TLS 1.0 under a legacy-TLS connector: %v", err)
	}
	c.MustCmd("EHLO copier.example.test", 250, "")
	c.MustCmd("MAIL FROM:<app@example.test>", 250, "2.0.0")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "2.0.0")
	c.Expect(c.SendData("From: app@example.test\nSubject: old\n\nhello\n"), 250, "2.0.0")
	if e := s.WaitTraceEvent(trace.KindSession, "127.0.0.84"); e.TLS != "" && e.TLS != "TLS 1.0" {
		t.Errorf("session event: %+v", e)
	}

	n := testkit.DialFrom(t, s.Addr(daemon.ListenSubmission), "127.0.0.87")
	n.MustCmd("EHLO copier.example.test", 250, "")
	if err := n.TryStartTLS(tls10()); err == nil {
		t.Fatal("TLS 1.0 accepted from a connector without --legacy-tls")
	}
	if e := s.WaitTraceEvent(trace.KindTLS, "127.0.0.87"); e.Reason != "tls_version" || !strings.Contains(e.Detail, "mailroom connector set new-copier --legacy-tls") {
		t.Errorf("tls_failed event: %+v", e)
	}
}

// TestConnector_SwaksOnRelayPort: swaks, as a device configured for port
// 25 without authentication, submits through a connector on the relay
// listener (STARTTLS offered, not used).
func TestConnector_SwaksOnRelayPort(t *testing.T) {
	swaks := lookTool(t, "swaks", "swaks")
	s := testkit.Start(t, connectorFixture(t, nil), withRelay)
	_, port, _ := net.SplitHostPort(s.Addr(daemon.ListenRelay))
	out, err := runTool(t, swaks, "--server", "127.0.0.1", "--port", port, "--local-interface", "127.0.0.81",
		"--from", "app@example.test", "--to", "carol@example.test", "--header", "Subject: swaks device")
	if err != nil || !strings.Contains(out, "<-  250 2.0.0 OK queued as") {
		t.Fatalf("swaks without AUTH from a connector's address: %v\n%s", err, out)
	}
	out, err = runTool(t, swaks, "--server", "127.0.0.1", "--port", port, "--local-interface", "127.0.0.88",
		"--from", "app@example.test", "--to", "carol@example.test")
	if err == nil || !strings.Contains(out, "530 5.7.57") {
		t.Fatalf("swaks without AUTH from elsewhere: %v\n%s", err, out)
	}
}

// TestConnector_OpenSSLTLS1: Debian's openssl s_client, limited to TLS
// 1.0, completes STARTTLS under a --legacy-tls connector, where its
// security level allows TLS 1.0 at all (SECLEVEL=0); otherwise the test
// skips and says why.
func TestConnector_OpenSSLTLS1(t *testing.T) {
	openssl := lookTool(t, "openssl", "openssl")
	s := testkit.Start(t, func(a *admin.Service) {
		senderFixture(a)
		_, err := a.AddConnector(context.Background(), admin.ConnectorSpec{Name: "lab", Mailbox: "app@example.test", Networks: []string{"127.0.0.1/32"}, LegacyTLS: true})
		testkit.MustAdd(t, err)
	})
	cmd := exec.Command(openssl, "s_client", "-connect", s.Addr(daemon.ListenSubmission), "-starttls", "smtp", "-tls1", "-cipher", "DEFAULT@SECLEVEL=0", "-brief", "-ign_eof")
	cmd.Stdin = strings.NewReader("EHLO lab.example.test\r\nMAIL FROM:<app@example.test>\r\nQUIT\r\n")
	out, err := cmd.CombinedOutput()
	switch {
	case strings.Contains(string(out), "no protocols available") || strings.Contains(string(out), "unsupported protocol") && !strings.Contains(string(out), "Protocol version: TLSv1"):
		t.Skipf("this openssl cannot speak TLS 1.0 even at SECLEVEL=0: skipping\n%s", out)
	case err != nil || !strings.Contains(string(out), "Protocol version: TLSv1\n") || !strings.Contains(string(out), "250 2.0.0 Roger"):
		t.Fatalf("openssl s_client -tls1: %v\n%s", err, out)
	}
}
