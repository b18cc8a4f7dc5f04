package imap

import (
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Listen wraps a listener of plain connections (the STARTTLS port): each
// connection is counted against Options.Conns (one over the cap is closed
// at once, before a greeting) and bounded until it logs in
// (Options.LoginTimeout and PreAuthBytes). imapserver bounds neither.
func (s *Server) Listen(l net.Listener) net.Listener { return &listener{Listener: l, s: s} }

// ListenTLS is Listen for implicit TLS (port 993): the caps apply beneath
// TLS, before a handshake is paid for. imapserver allows a login only on a
// *tls.Conn, which is what the connections it accepts are.
func (s *Server) ListenTLS(l net.Listener, cfg *tls.Config) net.Listener {
	return tls.NewListener(s.Listen(l), cfg)
}

type listener struct {
	net.Listener
	s *Server
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		remote := addrOf(c.RemoteAddr())
		release := func() {}
		if l.s.o.Conns != nil {
			release, err = l.s.o.Conns.Open(remote, l.s.o.Now())
			if err != nil {
				l.s.log.Info("connection refused", "remote", remote, "err", err)
				_ = c.Close()
				continue
			}
		}
		g := &guardConn{Conn: c, release: release, budget: l.s.o.PreAuthBytes}
		g.timer = time.AfterFunc(l.s.o.LoginTimeout, func() {
			if !g.authed.Load() {
				_ = g.Close()
			}
		})
		return g, nil
	}
}

// errPreAuthBytes is the read error of a connection that sent more than
// its pre-login budget.
var errPreAuthBytes = errors.New("too much data before login")

// guardConn is one client connection: its slot in Options.Conns, and its
// bounds until login (a byte budget and a deadline).
type guardConn struct {
	net.Conn
	release func()
	timer   *time.Timer
	authed  atomic.Bool
	budget  int64 // bytes left before login; read by one goroutine
	once    sync.Once
}

func (g *guardConn) Read(p []byte) (int, error) {
	if g.authed.Load() {
		return g.Conn.Read(p)
	}
	if g.budget <= 0 {
		_ = g.Close()
		return 0, errPreAuthBytes
	}
	if int64(len(p)) > g.budget {
		p = p[:g.budget]
	}
	n, err := g.Conn.Read(p)
	g.budget -= int64(n)
	return n, err
}

// loggedIn lifts the pre-login bounds.
func (g *guardConn) loggedIn() {
	g.authed.Store(true)
	g.timer.Stop()
}

func (g *guardConn) Close() error {
	g.once.Do(func() {
		g.timer.Stop()
		g.release()
	})
	return g.Conn.Close()
}

// guardOf finds the guardConn beneath c (a *tls.Conn after STARTTLS or on
// the TLS port); nil when there is none.
func guardOf(c net.Conn) *guardConn {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	g, _ := c.(*guardConn)
	return g
}

// addrOf is the IP address of a connection's address.
func addrOf(a net.Addr) netip.Addr {
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}
