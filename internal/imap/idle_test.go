package imap_test

import (
	"bufio"
	"crypto/tls"
	"slices"
	"strings"
	"testing"
	"time"

	"mailroom/internal/config"
	"mailroom/internal/testkit"
)

// rawIMAP is a line-level IMAP client over implicit TLS, for what
// go-imap's client does not show (untagged OK responses).
type rawIMAP struct {
	t  *testing.T
	nc *tls.Conn
	r  *bufio.Reader
}

func dialRawIMAP(t *testing.T, s *testkit.Server) *rawIMAP {
	t.Helper()
	nc, err := tls.Dial("tcp", s.IMAPTLSAddr(), s.TLSConfig())
	if err != nil {
		t.Fatalf("dial IMAP: %v", err)
	}
	t.Cleanup(func() { nc.Close() })
	c := &rawIMAP{t: t, nc: nc, r: bufio.NewReader(nc)}
	c.expect("* OK")
	return c
}

// send writes one line.
func (c *rawIMAP) send(line string) {
	c.t.Helper()
	if _, err := c.nc.Write([]byte(line + "\r\n")); err != nil {
		c.t.Fatalf("write %q: %v", line, err)
	}
}

// expect reads lines until one begins with prefix and returns the lines
// read; 30 s bounds a broken server, it is no timing assertion.
func (c *rawIMAP) expect(prefix string) []string {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	var lines []string
	for {
		l, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("waiting for %q after %q: %v", prefix, lines, err)
		}
		l = strings.TrimRight(l, "\r\n")
		lines = append(lines, l)
		if strings.HasPrefix(l, prefix) {
			return lines
		}
	}
}

// TestIMAP_IdleWithoutSelectedFolder: IDLE is allowed in the authenticated
// state (RFC 9051 §6.3.13); as in Dovecot, the session reports no mailbox
// there, only its keepalive "* OK Still here" (imap.idle_keepalive, as
// Dovecot's imap_idle_notify_interval), which a selected session sends
// too, and DONE ends it with OK. A delivery meanwhile is seen on SELECT.
func TestIMAP_IdleWithoutSelectedFolder(t *testing.T) {
	s := testkit.Start(t, fixture, func(c *config.Config) { c.IMAP.IdleKeepalive = config.Duration(20 * time.Millisecond) })
	c := dialRawIMAP(t, s)
	c.send("a LOGIN bob@example.test " + pw)
	c.expect("a OK")

	c.send("b IDLE")
	c.expect("+ ")
	submit(t, s, []string{"bob@example.test"}, message("m1@example.test", "While idling"))
	for range 2 {
		if got := c.expect("* OK Still here"); len(got) != 1 {
			t.Fatalf("IDLE without a selected folder sent %q, want only keepalives", got)
		}
	}
	c.send("DONE")
	if got := c.expect("b "); !strings.HasPrefix(got[len(got)-1], "b OK") {
		t.Fatalf("DONE: %q", got)
	}
	c.send("c SELECT INBOX")
	if got := c.expect("c "); !strings.HasPrefix(got[len(got)-1], "c OK") || !slices.Contains(got, "* 1 EXISTS") {
		t.Fatalf("SELECT after IDLE: %q", got)
	}

	// Selected, the session sends keepalives besides its updates.
	c.send("d IDLE")
	c.expect("+ ")
	c.expect("* OK Still here")
	c.send("DONE")
	c.expect("d OK")
}
