package pgtest

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// Proxy relays connections to the test database, so that a test can cut
// one process off it at once, as if that process had died: nothing it
// sends after Cut reaches the database, and it cannot reconnect.
type Proxy struct {
	// DSN is the DSN given to Open, pointed at the proxy.
	DSN string

	l      net.Listener
	target string // network address of the database
	netw   string

	mu    sync.Mutex
	conns []net.Conn
	cut   bool
}

// NewProxy starts a proxy in front of the database dsn names (a Unix
// socket directory, as .ci/postgres.sh sets up, or a TCP host). It is cut
// when the test ends.
func NewProxy(tb testing.TB, dsn string) *Proxy {
	tb.Helper()
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		tb.Fatalf("parse %s: %v", EnvDSN, err)
	}
	p := &Proxy{}
	port := strconv.Itoa(int(cfg.Port))
	if strings.HasPrefix(cfg.Host, "/") {
		// A Unix socket path is short (108 bytes): not under t.TempDir().
		dir, err := os.MkdirTemp("", "pgproxy")
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { os.RemoveAll(dir) })
		name := ".s.PGSQL." + port
		p.netw, p.target = "unix", filepath.Join(cfg.Host, name)
		if p.l, err = net.Listen("unix", filepath.Join(dir, name)); err != nil {
			tb.Fatal(err)
		}
		p.DSN = WithParam(tb, dsn, "host", dir)
	} else {
		p.netw, p.target = "tcp", net.JoinHostPort(cfg.Host, port)
		if p.l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			tb.Fatal(err)
		}
		_, lport, _ := net.SplitHostPort(p.l.Addr().String())
		p.DSN = WithParam(tb, WithParam(tb, dsn, "host", "127.0.0.1"), "port", lport)
	}
	tb.Cleanup(p.Cut)
	go p.accept()
	return p
}

func (p *Proxy) accept() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial(p.netw, p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.Close()
			up.Close()
			return
		}
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); up.Close() }()
		go func() { _, _ = io.Copy(c, up); c.Close() }()
	}
}

// Cut closes the proxy and every connection through it. The database sees
// the connections end; their sessions' locks and uncommitted work go.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return
	}
	p.cut = true
	p.l.Close()
	for _, c := range p.conns {
		c.Close()
	}
}
