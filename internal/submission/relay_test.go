package submission_test

import (
	"net/netip"
	"strings"
	"testing"

	"mailroom/internal/config"
	"mailroom/internal/daemon"
	"mailroom/internal/testkit"
	"mailroom/internal/trace"
)

// withRelay turns the port-25 listener on.
func withRelay(c *config.Config) { c.Submission.ListenRelay = "127.0.0.1:0" }

// TestRelayListener_NotOpen: the port-25 listener offers STARTTLS, and
// AUTH only under it; a client that matches no connector and does not log
// in gets 530 5.7.57 (no open relay), one that logs in submits.
func TestRelayListener_NotOpen(t *testing.T) {
	s := testkit.Start(t, senderFixture, withRelay)
	c := testkit.DialFrom(t, s.Addr(daemon.ListenRelay), "127.0.0.61")
	ehlo := c.MustCmd("EHLO device.example.test", 250, "")
	if caps := strings.Join(ehlo.Lines, "\n"); !strings.Contains(caps, "STARTTLS") || strings.Contains(caps, "AUTH") {
		t.Fatalf("EHLO before TLS on the relay port:\n%s", caps)
	}
	c.MustCmd("MAIL FROM:<app@example.test>", 530, "5.7.57")
	c.MustCmd("QUIT", 221, "2.0.0")

	c = testkit.DialFrom(t, s.Addr(daemon.ListenRelay), "127.0.0.62")
	c.MustCmd("EHLO device.example.test", 250, "")
	c.StartTLS(s.TLSConfig())
	c.Expect(c.AuthPlain("app@example.test", pw), 235, "2.0.0")
	c.Expect(submit(t, c, "app@example.test", "carol@example.test", "From: app@example.test\nSubject: port 25\n\nhello\n"), 250, "2.0.0")
}

// TestRelayListener_Proxy: the relay listener takes a PROXY header from
// submission.proxy_from, as the others do: the trace shows the client's
// address, not the balancer's.
func TestRelayListener_Proxy(t *testing.T) {
	s := testkit.Start(t, senderFixture, withRelay, testkit.WithProxyFrom("127.0.0.70/32"))
	dst := netip.MustParseAddrPort(s.Addr(daemon.ListenRelay))
	c := testkit.DialProxied(t, s.Addr(daemon.ListenRelay), "127.0.0.70", testkit.ProxyV1(netip.MustParseAddrPort("192.0.2.77:40000"), dst))
	c.MustCmd("EHLO device.example.test", 250, "")
	c.MustCmd("MAIL FROM:<app@example.test>", 530, "5.7.57")
	c.MustCmd("QUIT", 221, "2.0.0")
	e := s.WaitTraceEvent(trace.KindRefused, "192.0.2.77")
	if e.Reason != "not_authenticated" || e.Code != 530 {
		t.Fatalf("refusal through the balancer: %+v", e)
	}
}
