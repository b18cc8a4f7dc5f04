package daemon_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"mailroom/internal/admin"
	"mailroom/internal/daemon"
	"mailroom/internal/testkit"
)

// TestProxy_HAProxyInFrontOfTwoNodes: Debian's haproxy, in TCP mode with
// send-proxy-v2 (the README's configuration), balances clients over two
// nodes; each node's trace records the client's address and port, not
// haproxy's (127.0.0.1), and haproxy's health checks (a v2 LOCAL header)
// are neither refused nor sessions.
func TestProxy_HAProxyInFrontOfTwoNodes(t *testing.T) {
	nodes := []*testkit.Server{
		testkit.Start(t, fixture, testkit.WithProxyFrom("127.0.0.1/32")),
		testkit.Start(t, fixture, testkit.WithProxyFrom("127.0.0.1/32")),
	}
	front := testkit.StartHAProxy(t, nodes[0].Addr(daemon.ListenSubmission), nodes[1].Addr(daemon.ListenSubmission))

	const client = "127.0.0.9"
	served := make([]int, len(nodes))
	for i := range 4 {
		c := testkit.DialFrom(t, front, client)
		c.MustCmd("EHLO client.example.test", 250, "")
		c.MustCmd("STARTTLS", 220, "2.0.0")
		testkit.Upgrade(t, c) // the certificate is the node's own, whichever haproxy chose
		c.Expect(c.AuthPlain("alice@example.test", pw), 235, "2.0.0")
		c.MustCmd("MAIL FROM:<alice@example.test>", 250, "2.0.0")
		c.MustCmd("RCPT TO:<carol@example.test>", 250, "2.0.0")
		id := fmt.Sprintf("<haproxy-%d@example.test>", i)
		c.Expect(c.SendData("From: alice@example.test\nTo: carol@example.test\nMessage-ID: "+id+"\nSubject: through haproxy\n\nhi\n"), 250, "2.0.0")
		c.MustCmd("QUIT", 221, "2.0.0")

		found := 0
		for n, s := range nodes {
			if !traced(s, id) {
				continue
			}
			found++
			served[n]++
			if got, want := sessionRemote(t, s, id), c.LocalAddr().String(); got != want {
				t.Errorf("node %d traced %s from %q, want the client's %q", n+1, id, got, want)
			}
		}
		if found != 1 {
			t.Fatalf("%s traced by %d nodes, want 1", id, found)
		}
	}
	if served[0] == 0 || served[1] == 0 {
		t.Errorf("haproxy sent the clients to one node only: %v", served)
	}
	for n, s := range nodes {
		if strings.Contains(s.Log(), "PROXY protocol header") || strings.Contains(s.Log(), "remote=127.0.0.1:") {
			t.Errorf("node %d: haproxy's connections (health checks included) refused or seen as clients:\n%s", n+1, s.Log())
		}
	}
}

// traced reports whether s's trace has the message msgID.
func traced(s *testkit.Server, msgID string) bool {
	s.Daemon.FlushTrace()
	page, err := s.Admin.TraceAttempts(context.Background(), admin.TraceQuery{MessageID: msgID}, time.Now())
	return err == nil && len(page.Attempts) > 0
}
