package pgtest

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

	mu         sync.Mutex
	conns      []net.Conn
	cut        bool
	loseCommit bool // the next COMMIT's reply is lost
}

// LoseCommitReply makes the next COMMIT sent through the proxy reach the
// database and be answered there, and then cuts that connection before the
// reply reaches the client: a commit whose outcome the client cannot know.
func (p *Proxy) LoseCommitReply() {
	p.mu.Lock()
	p.loseCommit = true
	p.mu.Unlock()
}

// takeCommit reports whether chunk, sent by a client, holds a COMMIT
// whose reply is to be lost, and disarms LoseCommitReply if so.
func (p *Proxy) takeCommit(chunk []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.loseCommit || !bytes.Contains(bytes.ToLower(chunk), []byte("commit\x00")) {
		return false
	}
	p.loseCommit = false
	return true
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
		var losing atomic.Bool // a COMMIT went up; its reply must not come down
		go func() {
			buf := make([]byte, 32<<10)
			for {
				n, err := c.Read(buf)
				if n > 0 && p.takeCommit(buf[:n]) {
					losing.Store(true)
				}
				if n > 0 {
					if _, werr := up.Write(buf[:n]); werr != nil {
						break
					}
				}
				if err != nil {
					break
				}
			}
			up.Close()
		}()
		go func() {
			buf := make([]byte, 32<<10)
			for {
				n, err := up.Read(buf)
				if n > 0 && losing.Load() {
					break // the database answered the COMMIT: it ran
				}
				if n > 0 {
					if _, werr := c.Write(buf[:n]); werr != nil {
						break
					}
				}
				if err != nil {
					break
				}
			}
			c.Close()
			up.Close()
		}()
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
