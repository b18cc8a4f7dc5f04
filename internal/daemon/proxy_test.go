package daemon_test

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"mailroom/internal/admin"
	"mailroom/internal/config"
	"mailroom/internal/daemon"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

// The load balancer in these tests is 127.0.0.2 (every 127/8 address is
// loopback on Linux); clients that connect directly use 127.0.0.1 and
// 127.0.0.3.
const balancer = "127.0.0.2"

// startProxied starts a server that trusts the balancer's PROXY headers.
func startProxied(t *testing.T, setup func(*admin.Service), opts ...testkit.Option) *testkit.Server {
	t.Helper()
	return testkit.Start(t, setup, append([]testkit.Option{testkit.WithProxyFrom(balancer + "/32")}, opts...)...)
}

// header returns the v1 or v2 header for a client at src.
func header(v int, src string) []byte {
	s, d := netip.MustParseAddrPort(src), netip.MustParseAddrPort("192.0.2.1:587")
	if s.Addr().Is6() {
		d = netip.MustParseAddrPort("[2001:db8::1]:587")
	}
	if v == 1 {
		return testkit.ProxyV1(s, d)
	}
	return testkit.ProxyV2(s, d)
}

// sessionRemote returns the Remote of the attempt that submitted the
// message msgID (its session's events must all agree).
func sessionRemote(t *testing.T, s *testkit.Server, msgID string) string {
	t.Helper()
	ds := s.TraceDetails(admin.TraceQuery{MessageID: msgID})
	if len(ds) != 1 {
		t.Fatalf("trace of %s: %+v", msgID, ds)
	}
	remote := ds[0].Remote
	for _, e := range ds[0].Events {
		if e.Remote != "" && e.Remote != remote {
			t.Fatalf("events of one session disagree on the remote: %q, %q", remote, e.Remote)
		}
	}
	return remote
}

// TestProxy_HeaderCarriesTheClientAddress: behind a trusted balancer, a
// v1 or v2 header (IPv4 or IPv6; STARTTLS or implicit-TLS port) makes the
// client's address the one the trace, the log and the Received: field
// record, not the balancer's.
func TestProxy_HeaderCarriesTheClientAddress(t *testing.T) {
	s := startProxied(t, fixture)
	for _, tc := range []struct {
		name     string
		v        int
		src      string
		implicit bool
	}{
		{"v1", 1, "203.0.113.7:5555", false},
		{"v2", 2, "198.51.100.9:6666", false},
		{"v2 IPv6", 2, "[2001:db8::7]:7777", false},
		{"v1 implicit TLS", 1, "203.0.113.70:5556", true},
		{"v2 implicit TLS", 2, "198.51.100.90:6667", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c *testkit.Conn
			if tc.implicit {
				c = testkit.DialProxiedTLS(t, s.Addr(daemon.ListenTLS), balancer, header(tc.v, tc.src), s.TLSConfig())
				c.MustCmd("EHLO client.example.test", 250, "")
			} else {
				c = testkit.DialProxied(t, s.Addr(daemon.ListenSubmission), balancer, header(tc.v, tc.src))
				c.MustCmd("EHLO client.example.test", 250, "")
				c.StartTLS(s.TLSConfig())
			}
			c.Expect(c.AuthPlain("alice@example.test", pw), 235, "2.0.0")
			c.MustCmd("MAIL FROM:<alice@example.test>", 250, "2.0.0")
			c.MustCmd("RCPT TO:<carol@example.test>", 250, "2.0.0")
			id := "<proxy-" + strings.ReplaceAll(tc.name, " ", "-") + "@example.test>"
			c.Expect(c.SendData("From: alice@example.test\nTo: carol@example.test\nMessage-ID: "+id+"\nSubject: via the balancer\n\nhi\n"), 250, "2.0.0")
			c.MustCmd("QUIT", 221, "2.0.0")

			if got := sessionRemote(t, s, id); got != tc.src {
				t.Errorf("trace remote = %q, want the client's %q", got, tc.src)
			}
			if want := "remote=" + tc.src; !strings.Contains(s.Log(), want) {
				t.Errorf("log lacks %q", want)
			}
			ip := netip.MustParseAddrPort(tc.src).Addr().String()
			testkit.Eventually(t, "the message in carol's Inbox", func() bool {
				for _, m := range s.Folder("carol@example.test", store.FolderInbox) {
					if strings.Contains(m, id) {
						if !strings.Contains(m, "(["+ip+"])") {
							t.Fatalf("Received: does not name the client %s:\n%s", ip, m)
						}
						return true
					}
				}
				return false
			})
		})
	}
	if strings.Contains(s.Log(), "remote="+balancer) {
		t.Errorf("the balancer's address reached the log:\n%s", s.Log())
	}
}

// TestProxy_DirectClientsServed: with proxy_from set, a client that
// connects directly from another address is served as before, and seen
// from its own address.
func TestProxy_DirectClientsServed(t *testing.T) {
	s := startProxied(t, fixture)
	c := testkit.DialFrom(t, s.Addr(daemon.ListenSubmission), "127.0.0.3")
	c.MustCmd("EHLO client.example.test", 250, "")
	c.StartTLS(s.TLSConfig())
	c.Expect(c.AuthPlain("alice@example.test", pw), 235, "2.0.0")
	c.MustCmd("QUIT", 221, "2.0.0")
	tc := testkit.DialTLS(t, s.Addr(daemon.ListenTLS), s.TLSConfig())
	tc.MustCmd("EHLO client.example.test", 250, "")
	tc.Expect(tc.AuthPlain("alice@example.test", pw), 235, "2.0.0")
	if !strings.Contains(s.Log(), "remote=127.0.0.3:") {
		t.Errorf("direct client's own address not logged:\n%s", s.Log())
	}
}

// TestProxy_NetworkRestrictionSeesTheClient: a mailbox restricted to a
// network logs in through the balancer from inside it, and is refused,
// naming the client's address, from outside it.
func TestProxy_NetworkRestrictionSeesTheClient(t *testing.T) {
	s := startProxied(t, func(a *admin.Service) {
		fixture(a)
		nets := []string{"203.0.113.0/24"}
		_, err := a.SetMailbox(context.Background(), "alice@example.test", admin.MailboxChange{Networks: &nets})
		testkit.MustAdd(t, err)
	})
	login := func(src string) testkit.Reply {
		c := testkit.DialProxied(t, s.Addr(daemon.ListenSubmission), balancer, header(2, src))
		c.MustCmd("EHLO client.example.test", 250, "")
		c.StartTLS(s.TLSConfig())
		return c.AuthPlain("alice@example.test", pw)
	}
	inside := login("203.0.113.7:5555")
	if inside.Code != 235 || inside.Enhanced != "2.0.0" {
		t.Errorf("login from inside the network: %s", inside)
	}
	outside := login("198.51.100.1:5555")
	if outside.Code != 535 || outside.Enhanced != "5.7.139" || !strings.Contains(outside.Text, "198.51.100.1") {
		t.Errorf("login from outside the network: %s, want 535 5.7.139 naming 198.51.100.1", outside)
	}
}

// TestProxy_LoginGuardPerClient: failed logins through the balancer
// block the client's address only; other clients behind the same
// balancer keep logging in.
func TestProxy_LoginGuardPerClient(t *testing.T) {
	s := startProxied(t, fixture, func(c *config.Config) { c.Limits.LoginFailuresPerAddress = 2 })
	dial := func(src string) *testkit.Conn {
		c := testkit.DialProxied(t, s.Addr(daemon.ListenSubmission), balancer, header(1, src))
		c.MustCmd("EHLO client.example.test", 250, "")
		c.StartTLS(s.TLSConfig())
		return c
	}
	attacker := dial("203.0.113.66:4000")
	attacker.Expect(attacker.AuthPlain("carol@example.test", "guess-1"), 535, "5.7.3")
	attacker.Expect(attacker.AuthPlain("carol@example.test", "guess-2"), 421, "4.7.0")

	attacker = dial("203.0.113.66:4001")
	attacker.Expect(attacker.AuthPlain("alice@example.test", pw), 421, "4.7.0") // the client's address is blocked
	for _, src := range []string{"203.0.113.7:4002", "198.51.100.1:4003"} {
		c := dial(src)
		c.Expect(c.AuthPlain("alice@example.test", pw), 235, "2.0.0") // the balancer's is not
	}
}

// TestProxy_HeaderFromUntrustedAddressRefused: a peer outside proxy_from
// that opens with a header gets the greeting (the server speaks first)
// and then the connection closes; its header is never honoured.
func TestProxy_HeaderFromUntrustedAddressRefused(t *testing.T) {
	s := startProxied(t, fixture)
	for v, src := range map[int]string{1: "203.0.113.7:5555", 2: "198.51.100.9:6666"} {
		nc := testkit.DialRawFrom(t, s.Addr(daemon.ListenSubmission), "127.0.0.3", header(v, src))
		got := testkit.ReadUntilClosed(t, nc)
		if lines := strings.Split(strings.TrimSuffix(got, "\r\n"), "\r\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "220 ") {
			t.Errorf("v%d header from 127.0.0.3: server sent %q, want the greeting only, then a close", v, got)
		}
		// On the implicit-TLS port the server waits for the handshake:
		// it sends nothing before the close.
		nc = testkit.DialRawFrom(t, s.Addr(daemon.ListenTLS), "127.0.0.3", header(v, src))
		if got := testkit.ReadUntilClosed(t, nc); got != "" {
			t.Errorf("v%d header from 127.0.0.3 on the TLS port: server sent %q, want a close", v, got)
		}
	}
	testkit.Eventually(t, "the refusals logged", func() bool {
		return strings.Count(s.Log(), "PROXY protocol header from an address not in submission.proxy_from") == 4
	})
	if strings.Contains(s.Log(), "203.0.113.7") || strings.Contains(s.Log(), "198.51.100.9") {
		t.Errorf("an untrusted header's address reached the log:\n%s", s.Log())
	}
}

// TestProxy_TrustedWithoutHeaderRefused: a connection from the balancer
// that does not open with a valid header is closed before the greeting.
func TestProxy_TrustedWithoutHeaderRefused(t *testing.T) {
	s := startProxied(t, fixture)
	for _, first := range []string{"EHLO client.example.test\r\n", "PROXY TCP4 not-an-address 192.0.2.1 1 2\r\n"} {
		nc := testkit.DialRawFrom(t, s.Addr(daemon.ListenSubmission), balancer, []byte(first))
		if got := testkit.ReadUntilClosed(t, nc); got != "" {
			t.Errorf("after %q from the balancer: server sent %q, want a close without a greeting", first, got)
		}
	}
	testkit.Eventually(t, "the refusals logged", func() bool {
		return strings.Count(s.Log(), "without a valid PROXY protocol header") == 2
	})
}

// TestProxy_SilentBalancerConnectionStallsNoOne: a connection from the
// balancer that sends nothing holds no one up: clients behind the balancer
// and direct ones are greeted while it waits, and it is closed, without a
// greeting, after the header timeout (5s).
func TestProxy_SilentBalancerConnectionStallsNoOne(t *testing.T) {
	s := startProxied(t, fixture)
	silent := testkit.DialRawFrom(t, s.Addr(daemon.ListenSubmission), balancer, nil)
	// The silent connection is in the accept queue first; these two must
	// not wait for it.
	c := testkit.DialProxied(t, s.Addr(daemon.ListenSubmission), balancer, header(2, "203.0.113.7:5555"))
	c.MustCmd("EHLO client.example.test", 250, "")
	d := testkit.DialFrom(t, s.Addr(daemon.ListenSubmission), "127.0.0.3")
	d.MustCmd("EHLO client.example.test", 250, "")
	// Both were served while the silent connection was still waiting for
	// its header (a probe, not a timing: an Accept that waited on it would
	// have served them only after it was closed).
	_ = silent.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	if n, err := silent.Read(make([]byte, 1)); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("silent connection: read %d, %v; want it still open and silent", n, err)
	}
	if got := testkit.ReadUntilClosed(t, silent); got != "" {
		t.Errorf("silent connection got %q, want a close without a greeting", got)
	}
	testkit.Eventually(t, "the timeout logged", func() bool {
		return strings.Contains(s.Log(), "no PROXY protocol header within 5s")
	})
}

// TestProxy_OffByDefault: without proxy_from no header is read: a
// "PROXY" line from anyone is an unknown command.
func TestProxy_OffByDefault(t *testing.T) {
	s := testkit.Start(t, fixture)
	c := testkit.DialFrom(t, s.Addr(daemon.ListenSubmission), balancer)
	r := c.Cmd(strings.TrimSuffix(string(header(1, "203.0.113.7:5555")), "\r\n"))
	if r.Code != 501 || r.Enhanced != "5.5.2" {
		t.Errorf("PROXY line with proxy_from off: %s, want go-smtp's 501 5.5.2", r)
	}
}

// TestProxy_LocalCommandKeepsBalancerAddress: a v2 header with the LOCAL
// command (a balancer's own health check) is accepted, and the session
// is the balancer's.
func TestProxy_LocalCommandKeepsBalancerAddress(t *testing.T) {
	s := startProxied(t, fixture)
	local := []byte("\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00") // v2, LOCAL, AF_UNSPEC, no address
	c := testkit.DialProxied(t, s.Addr(daemon.ListenSubmission), balancer, local)
	c.MustCmd("EHLO balancer.example.test", 250, "")
	c.MustCmd("QUIT", 221, "2.0.0")
	testkit.Eventually(t, "the session logged", func() bool {
		return strings.Contains(s.Log(), "remote="+balancer+":")
	})
}

// TestProxy_ConnectionCapPerClient: the per-address connection cap counts
// each client behind the balancer, not the balancer.
func TestProxy_ConnectionCapPerClient(t *testing.T) {
	s := startProxied(t, fixture, func(c *config.Config) { c.Submission.MaxConnectionsPerAddress = 1 })
	addr := s.Addr(daemon.ListenSubmission)
	testkit.DialProxied(t, addr, balancer, header(2, "203.0.113.7:4000")) // held open
	nc := testkit.DialRawFrom(t, addr, balancer, header(2, "203.0.113.7:4001"))
	if got := testkit.ReadUntilClosed(t, nc); !strings.HasPrefix(got, "421 4.7.0 ") {
		t.Errorf("second connection of 203.0.113.7: %q, want 421 4.7.0 and a close", got)
	}
	c := testkit.DialProxied(t, addr, balancer, header(2, "203.0.113.8:4002")) // another client: greeted
	c.MustCmd("EHLO client.example.test", 250, "")
}
