package daemon

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pires/go-proxyproto"
)

// This file puts the PROXY protocol (v1 and v2, as HAProxy, AWS NLB and
// others send it) under a listener, for every protocol mailroom serves.
// As Postfix's smtpd_upstream_proxy_protocol: a trusted peer (a load
// balancer) must open with a header within proxyHeaderTimeout, or the
// connection is closed; unlike Postfix, other peers are served directly on
// the same listener, and a header from one of them closes its connection.

// proxyHeaderTimeout bounds the wait for a load balancer's PROXY header,
// as Postfix's smtpd_upstream_proxy_timeout (5s). A balancer sends it at
// once, in the connection's first packet.
const proxyHeaderTimeout = 5 * time.Second

// errUntrustedHeader ends a connection whose peer, not a trusted load
// balancer, opened with a PROXY header. It is a closed connection to the
// server above (go-smtp ends the session quietly); the refusal is logged
// here.
var errUntrustedHeader = fmt.Errorf("PROXY protocol header from an address not trusted to send one: %w", net.ErrClosed)

// proxyOptions configure proxied.
type proxyOptions struct {
	// Trusted are the load balancers' networks; none turns the PROXY
	// protocol off.
	Trusted []netip.Prefix
	// Key is the configuration key of Trusted, for the log.
	Key string
	// Timeout bounds the wait for a header; default proxyHeaderTimeout.
	Timeout time.Duration
	Log     *slog.Logger
}

// proxied wraps l so that connections from o.Trusted must open with a
// PROXY header, and report the client address it carries as their
// RemoteAddr (which everything above reads: limits, network
// restrictions, trace, log, Received:); connections from elsewhere are
// served as they are, but closed if they open with a header. Wrap before
// TLS: the header precedes the handshake.
//
// Headers are read in a goroutine per connection, so Accept never waits
// on a slow balancer and a conn is only handed up once its address is
// known. l is returned as it is when o.Trusted is empty.
func proxied(l net.Listener, o proxyOptions) net.Listener {
	if len(o.Trusted) == 0 {
		return l
	}
	if o.Timeout <= 0 {
		o.Timeout = proxyHeaderTimeout
	}
	p := &proxyListener{Listener: l, o: o, ready: make(chan accepted), done: make(chan struct{}), pending: make(map[net.Conn]struct{})}
	go p.acceptLoop()
	return p
}

// proxyListener is the listener proxied returns.
type proxyListener struct {
	net.Listener
	o     proxyOptions
	ready chan accepted // connections whose address is known, and accept errors
	done  chan struct{} // closed by Close
	stop  sync.Once

	mu      sync.Mutex
	pending map[net.Conn]struct{} // waiting for their header
}

type accepted struct {
	c   net.Conn
	err error
}

// Accept returns the next connection whose client address is known.
func (p *proxyListener) Accept() (net.Conn, error) {
	select {
	case a := <-p.ready:
		return a.c, a.err
	case <-p.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting and closes the connections still waiting for
// their header.
func (p *proxyListener) Close() error {
	p.stop.Do(func() {
		close(p.done)
		p.mu.Lock()
		for c := range p.pending {
			_ = c.Close()
		}
		p.mu.Unlock()
	})
	return p.Listener.Close()
}

// acceptLoop accepts until the listener closes: a trusted peer's
// connection goes to a goroutine that reads its header, any other is
// handed up at once.
func (p *proxyListener) acceptLoop() {
	for {
		c, err := p.Listener.Accept()
		if err != nil {
			// go-smtp retries temporary errors and stops on others.
			if !p.handUp(accepted{err: err}) || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if !p.trusted(c.RemoteAddr()) {
			if !p.handUp(accepted{c: &directConn{Conn: c, o: &p.o}}) {
				return
			}
			continue
		}
		p.mu.Lock()
		select {
		case <-p.done:
			p.mu.Unlock()
			_ = c.Close()
			return
		default:
		}
		p.pending[c] = struct{}{}
		p.mu.Unlock()
		go p.readHeader(c)
	}
}

// handUp passes a to Accept, or closes its connection when the listener
// closed first; it reports whether the listener is still open.
func (p *proxyListener) handUp(a accepted) bool {
	select {
	case p.ready <- a:
		return true
	case <-p.done:
		if a.c != nil {
			_ = a.c.Close()
		}
		return false
	}
}

// readHeader reads a trusted peer's header, then hands the connection up
// with the address the header carries; without a valid header in time
// the connection is closed, before any greeting.
func (p *proxyListener) readHeader(c net.Conn) {
	br := bufio.NewReaderSize(c, 256) // a v1 line is at most 107 octets, a v2 header with TLVs fits or refills
	h, err := proxyproto.ReadHeaderTimeout(c, br, p.o.Timeout)
	p.mu.Lock()
	delete(p.pending, c)
	p.mu.Unlock()
	if err == nil && h == nil {
		err = proxyproto.ErrNoProxyProtocol
	}
	if err != nil {
		_ = c.Close()
		select {
		case <-p.done:
			return // closed by Close, at shutdown
		default:
		}
		if errors.Is(err, proxyproto.ErrNoProxyProtocol) {
			err = fmt.Errorf("no PROXY protocol header within %s: %w", p.o.Timeout, err)
		}
		p.o.Log.Warn("connection from a load balancer without a valid PROXY protocol header; closed",
			"proxy", c.RemoteAddr().String(), "key", p.o.Key, "err", err)
		return
	}
	pc := &proxiedConn{Conn: c, r: br, remote: c.RemoteAddr()}
	if src, ok := h.SourceAddr.(*net.TCPAddr); ok && h.Command.IsProxy() {
		// LOCAL (a balancer's own health check) and UNKNOWN keep the
		// balancer's address.
		pc.remote = src
	}
	p.handUp(accepted{c: pc})
}

// trusted reports whether addr is a load balancer's.
func (p *proxyListener) trusted(addr net.Addr) bool {
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return false
	}
	ip := ap.Addr().Unmap()
	for _, n := range p.o.Trusted {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// proxiedConn is a load balancer's connection after its header: the
// client's address, and the bytes the balancer sent past the header.
type proxiedConn struct {
	net.Conn
	r      *bufio.Reader // read past the header; nil once drained
	remote net.Addr
}

func (c *proxiedConn) Read(b []byte) (int, error) {
	if c.r != nil {
		if c.r.Buffered() > 0 {
			return c.r.Read(b)
		}
		c.r = nil
	}
	return c.Conn.Read(b)
}

// RemoteAddr is the client's address the header carried.
func (c *proxiedConn) RemoteAddr() net.Addr { return c.remote }

// directConn is a connection from a peer that may not send a PROXY
// header: its first read fails, and the connection ends, when the stream
// opens with a header's signature. The peer gets the greeting first (the
// server speaks first; waiting for a header that will not come would
// delay every client), and the header is never honoured.
type directConn struct {
	net.Conn
	o       *proxyOptions
	checked bool
	head    []byte // read while checking, not yet returned
}

func (c *directConn) Read(b []byte) (int, error) {
	if !c.checked {
		if err := c.check(); err != nil {
			return 0, err
		}
	}
	if len(c.head) > 0 {
		n := copy(b, c.head)
		c.head = c.head[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

// check reads until the stream's first octets match a header's signature
// or cannot; at most a v2 signature's 12 octets. A client whose first
// octets are a signature's start (a bare CRLF) is read on until it sends
// more, or its command timeout ends the connection.
func (c *directConn) check() error {
	for {
		var buf [12]byte
		n, err := c.Conn.Read(buf[:len(proxyproto.SIGV2)-len(c.head)])
		c.head = append(c.head, buf[:n]...)
		switch proxySignature(c.head) {
		case sigFound:
			c.o.Log.Warn("PROXY protocol header from an address not in "+c.o.Key+"; connection closed",
				"remote", c.Conn.RemoteAddr().String())
			_ = c.Conn.Close()
			return errUntrustedHeader
		case sigNone:
			c.checked = true
			return nil
		}
		if err != nil {
			return err
		}
	}
}

type sigState int

const (
	sigMaybe sigState = iota // a prefix of a signature, so far
	sigFound
	sigNone
)

// proxySignature says whether b opens with a PROXY header's signature.
func proxySignature(b []byte) sigState {
	st := sigNone
	for _, sig := range [][]byte{proxyproto.SIGV1, proxyproto.SIGV2} {
		n := min(len(b), len(sig))
		if !bytes.Equal(b[:n], sig[:n]) {
			continue
		}
		if n == len(sig) {
			return sigFound
		}
		st = sigMaybe
	}
	return st
}
