package testkit

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"mailroom/internal/config"
	"mailroom/internal/store"
	"mailroom/internal/store/postgres/pgtest"
)

// Remote is the outside world of a test: a DNS server, and receiving SMTP
// servers for remote domains, each on its own loopback address
// (127.0.0.2, 127.0.0.3, …) and all on one port, which delivery.mx_port
// names.
type Remote struct {
	DNS  *DNS
	Port int
	next int
}

// NewRemote starts the DNS server; MX adds receiving servers.
func NewRemote(tb testing.TB) *Remote {
	tb.Helper()
	return &Remote{DNS: StartDNS(tb), next: 2}
}

// MX starts a receiving server for domain and publishes it: "domain MX
// 10 mx.domain" and "mx.domain A 127.0.0.N".
func (r *Remote) MX(tb testing.TB, domain string, o MXOptions) *MX {
	tb.Helper()
	host := "mx." + domain
	m := r.Host(tb, host, o)
	r.DNS.Add(tb, domain+". MX 10 "+host+".")
	return m
}

// Host starts a receiving server at host (an A record on the next
// loopback address), without publishing an MX for it.
func (r *Remote) Host(tb testing.TB, host string, o MXOptions) *MX {
	tb.Helper()
	ip := fmt.Sprintf("127.0.0.%d", r.next)
	r.next++
	m := StartMX(tb, net.JoinHostPort(ip, strconv.Itoa(r.Port)), o)
	if r.Port == 0 {
		_, p, _ := net.SplitHostPort(m.Addr)
		r.Port, _ = strconv.Atoi(p)
	}
	r.DNS.Add(tb, host+". A "+ip)
	return m
}

// WithRemote points delivery at r, and retries after 20 ms, so tests
// watch retries without waiting. Call it after the MX servers are
// started (it reads r.Port).
func WithRemote(r *Remote) Option {
	return func(c *config.Config) {
		c.Delivery.Resolver = r.DNS.Addr
		c.Delivery.MXPort = r.Port
		c.Delivery.RetrySchedule = []config.Duration{config.Duration(20 * time.Millisecond)}
	}
}

// WithPostgres runs the daemon (and the test's store handle) on a fresh
// PostgreSQL schema instead of SQLite; it skips tb when no test database is
// set (MAILROOM_TEST_POSTGRES_DSN, README "PostgreSQL"). Message bodies
// are in PostgreSQL too ([store] bodies = "auto").
func WithPostgres(tb testing.TB) Option {
	tb.Helper()
	return WithPostgresDSN(pgtest.DSN(tb))
}

// WithPostgresDSN runs the daemon on the PostgreSQL database dsn names. Two
// servers started with one DSN (from pgtest.DSN), each on its own data
// directory, are two nodes of a cluster.
func WithPostgresDSN(dsn string) Option {
	return func(c *config.Config) { c.Store.Driver, c.Store.DSN = config.DriverPostgres, dsn }
}

// WithDataDir runs the daemon on dir, to restart a server on the data of
// one that stopped.
func WithDataDir(dir string) Option {
	return func(c *config.Config) { c.DataDir = dir }
}

// Eventually polls cond until it holds, failing the test (with what) if
// it does not within 30 seconds: a bound for a broken build, not a timed
// assertion.
func Eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Folder returns the messages in a mailbox's folder, oldest first.
func (s *Server) Folder(addr string, f store.Folder) []string {
	s.TB.Helper()
	ctx := context.Background()
	mb, err := s.Store.Mailbox(ctx, addr)
	if err != nil {
		s.TB.Fatalf("mailbox %s: %v", addr, err)
	}
	es, err := s.Store.FolderEntries(ctx, mb.ID, f)
	if err != nil {
		s.TB.Fatalf("folder %s of %s: %v", f, addr, err)
	}
	var out []string
	for _, e := range es {
		b, err := s.Body(e.Blob)
		if err != nil {
			s.TB.Fatalf("read blob %s: %v", e.Blob, err)
		}
		out = append(out, string(b))
	}
	return out
}

// QueueStates returns the state of each recipient of a message.
func (s *Server) QueueStates(id string) map[string]string {
	s.TB.Helper()
	rows, err := s.Store.QueueRows(context.Background(), id)
	if err != nil {
		s.TB.Fatalf("queue rows of %s: %v", id, err)
	}
	out := map[string]string{}
	for _, r := range rows {
		out[r.Recipient] = r.State
	}
	return out
}

// Send submits one message as user (password pass) over STARTTLS and
// returns its queue id.
func (s *Server) Send(user, pass, from string, rcpts []string, msg string) string {
	s.TB.Helper()
	c := Ready(s.TB, s, user, pass)
	defer c.Close()
	c.MustCmd("MAIL FROM:<"+from+">", 250, "")
	for _, r := range rcpts {
		c.MustCmd("RCPT TO:<"+r+">", 250, "")
	}
	r := c.Expect(c.SendData(msg), 250, "2.0.0")
	c.Cmd("QUIT")
	const prefix = "OK queued as "
	if len(r.Text) <= len(prefix) {
		s.TB.Fatalf("250 without a queue id: %q", r.Text)
	}
	return r.Text[len(prefix):]
}
