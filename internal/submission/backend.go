// Package submission owns the SMTP submission protocol (RFC 6409) on top of
// github.com/emersion/go-smtp: it turns AUTH, MAIL, RCPT and DATA into
// questions to the directory and to policy, writes accepted messages through
// blob and store, and answers with the replies of replies.go. It never
// speaks SQL.
//
// go-smtp creates a Session at the first EHLO and logs it out at STARTTLS;
// what must outlive that (the connection id, the drain state) lives in the
// tracked connection, not the Session.
package submission

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"

	"mailroom/internal/blob"
	"mailroom/internal/directory"
	"mailroom/internal/limits"
	"mailroom/internal/message"
	"mailroom/internal/oauth"
	"mailroom/internal/store"
	"mailroom/internal/trace"
)

// Options are the dependencies and settings of a Backend.
type Options struct {
	Hostname        string
	MaxMessageBytes int64
	// MaxHeaderBytes bounds a message's header section while it streams
	// in (552 5.3.4 past it). Default message.DefaultMaxHeaderBytes.
	MaxHeaderBytes int64
	Directory      *directory.Directory
	Store          store.Store
	Blobs          blob.Store
	Log            *slog.Logger
	// Limits holds the per-mailbox counters (default an empty
	// limits.Tracker); ServerLimits are the server-wide defaults that
	// domains and mailboxes override.
	Limits       Limiter
	ServerLimits store.Limits
	// ConcurrencyWait is how long MAIL waits for a free concurrency slot
	// of the mailbox before 432 4.3.2 (limits.Waiting); 0 answers at once.
	ConcurrencyWait time.Duration
	// DailyReject answers a spent daily recipient budget with Exchange's
	// permanent 554 5.2.0 instead of the transient 452 4.5.3.
	DailyReject bool
	// Logins counts failed logins and blocks past its thresholds.
	Logins *limits.LoginGuard
	// HashWait bounds how long a login waits for its turn to have its
	// password checked (Logins' logins in progress per address, the
	// directory's hash slots); then 454 4.7.0. Default 5 seconds.
	HashWait time.Duration
	// Conns caps the connections per client address at accept (Listen);
	// nil caps nothing.
	Conns *limits.Connections
	// Now is the clock; default time.Now.
	Now func() time.Time
	// CommandTimeout bounds the wait for each command line and BDAT chunk;
	// DataTimeout bounds a whole DATA transfer (data.go). Defaults 5
	// and 10 minutes.
	CommandTimeout time.Duration
	DataTimeout    time.Duration
	// Trace records the trace events of every session; nil records none.
	Trace *trace.Writer
	// OAuth verifies the tokens of XOAUTH2 and OAUTHBEARER, offered only
	// when it has an issuer; OAuthClients returns the mailboxes an
	// app-only client of an issuer may act as (nil: none).
	OAuth        *oauth.Verifier
	OAuthClients func(issuer, clientID string) []string
}

// Limiter takes a mailbox's concurrency slot and message-rate reservation
// at MAIL FROM; the Hold it returns reserves recipients and ends with the
// transaction. A refusal is a *limits.Refusal; any other error means the
// limits could not be checked (the client gets 451). There are two:
// limits.Tracker keeps the counters in this process (one node, SQLite);
// limits.Shared keeps them in PostgreSQL for nodes that share it.
type Limiter interface {
	Acquire(ctx context.Context, mailboxID int64, lim store.Limits, now time.Time) (limits.Hold, error)
}

// Backend is the go-smtp backend shared by the STARTTLS and implicit-TLS
// servers.
type Backend struct {
	o   Options
	log *slog.Logger

	mu       sync.Mutex
	conns    map[*trackedConn]struct{}
	draining bool

	touchMu sync.Mutex
	touched map[int64]time.Time // app password id → last recorded use
}

var _ smtp.Backend = (*Backend)(nil)

// NewBackend returns a Backend.
func NewBackend(o Options) *Backend {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Limits == nil {
		o.Limits = limits.New()
	}
	if o.ConcurrencyWait > 0 {
		o.Limits = limits.NewWaiting(o.Limits, o.ConcurrencyWait, o.Log)
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = message.DefaultMaxHeaderBytes
	}
	if o.CommandTimeout <= 0 {
		o.CommandTimeout = 5 * time.Minute
	}
	if o.DataTimeout <= 0 {
		o.DataTimeout = 10 * time.Minute
	}
	if o.Logins == nil {
		o.Logins = &limits.LoginGuard{PerAddress: 10, PerMailbox: 30, Window: 15 * time.Minute, Cooloff: 15 * time.Minute}
	}
	if o.HashWait <= 0 {
		o.HashWait = 5 * time.Second
	}
	if o.Conns == nil {
		o.Conns = &limits.Connections{}
	}
	return &Backend{o: o, log: o.Log, conns: make(map[*trackedConn]struct{}), touched: make(map[int64]time.Time)}
}

// NewServer returns a go-smtp server for this backend. implicitTLS says
// whether the listener it will serve already speaks TLS (port 465).
func (b *Backend) NewServer(tlsConfig *tls.Config) *smtp.Server {
	s := smtp.NewServer(b)
	s.Domain = b.o.Hostname
	s.TLSConfig = tlsConfig
	s.MaxMessageBytes = b.o.MaxMessageBytes
	s.MaxLineLength = maxLineLength // data.go
	s.EnableSMTPUTF8 = true
	// go-smtp would answer AUTH before TLS with 523 5.7.10; our contract is
	// 538 5.7.11, which Session.Auth returns. AuthMechanisms hides AUTH from
	// EHLO until TLS is up.
	s.AllowInsecureAuth = true
	// RFC 5321 §4.5.3.2.7: at least 5 minutes for commands. go-smtp sets
	// the deadline before each command line, so a BDAT chunk is read under
	// its command's deadline; Session.Data sets DataTimeout for DATA.
	s.ReadTimeout = b.o.CommandTimeout
	s.WriteTimeout = time.Minute
	s.ErrorLog = slogErrorLog{b.log}
	return s
}

// Listen wraps l so that every connection is tracked for logging and
// draining, and refused past the per-address connection caps (Conns) with
// a 421 4.7.0 greeting, then closed.
func (b *Backend) Listen(l net.Listener) net.Listener { return &trackedListener{Listener: l, b: b} }

// ListenTLS is Listen for an implicit-TLS listener (port 465): it tracks
// and caps the connections beneath TLS, before any handshake is paid for.
// A refused connection is closed without a reply: a plaintext 421 would
// reach a client waiting for a TLS handshake as garbage.
func (b *Backend) ListenTLS(l net.Listener, cfg *tls.Config) net.Listener {
	return &tlsListener{Listener: &trackedListener{Listener: l, b: b, implicitTLS: true}, cfg: cfg}
}

// Drain closes every connection that is not inside a mail transaction, now
// and whenever one leaves its transaction, until ctx ends. Call it after
// the servers' listeners are closed; in-flight transactions may finish and
// get their reply first.
func (b *Backend) Drain(ctx context.Context) {
	b.mu.Lock()
	b.draining = true
	b.mu.Unlock()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		b.mu.Lock()
		for c := range b.conns {
			if !c.inTx.Load() {
				c.shutdown()
			}
		}
		n := len(b.conns)
		b.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// isDraining reports whether Drain has begun.
func (b *Backend) isDraining() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.draining
}

// CloseAll closes every tracked connection at once.
func (b *Backend) CloseAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for c := range b.conns {
		_ = c.Conn.Close()
	}
}

// NewSession starts a session at the client's (first, or post-STARTTLS) EHLO.
func (b *Backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	tc := b.tracked(c)
	s := &Session{b: b, c: c, tc: tc, helo: c.Hostname()}
	state, isTLS := c.TLSConnectionState()
	s.tls = isTLS
	s.log = b.log.With("conn", tc.id)
	if err := checkHelo(s.helo); err != nil {
		// go-smtp writes the reply and lets the client try EHLO again;
		// nothing of the argument reaches the trace beyond its first
		// octets.
		s.helo = trace.Clip(s.helo, maxTraced)
		return nil, s.answer("EHLO", "", nil, replyBadHelo(err.Error()))
	}
	attrs := []any{"remote", c.Conn().RemoteAddr().String(), "helo", s.helo}
	if isTLS {
		attrs = append(attrs, "tls", tls.VersionName(state.Version))
	}
	s.log.Info("session start", attrs...)
	if isTLS {
		tc.tlsw.phase.Store(hsDone)
	}
	tc.session.Store(s)
	s.traceSession()
	return s, nil
}

// tracked finds the tracked connection beneath c, unwrapping TLS.
func (b *Backend) tracked(c *smtp.Conn) *trackedConn {
	nc := c.Conn()
	if t, ok := nc.(*tls.Conn); ok {
		nc = t.NetConn()
	}
	if tc, ok := nc.(*trackedConn); ok {
		return tc
	}
	// A listener that was not wrapped by Listen: track nothing, but keep a
	// usable id.
	return &trackedConn{Conn: nc, id: newID()}
}

// trackedListener registers each accepted connection with the Backend,
// after the per-address connection caps.
type trackedListener struct {
	net.Listener
	b           *Backend
	implicitTLS bool
}

func (l *trackedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		release, err := l.b.o.Conns.Open(addrOf(c.RemoteAddr()), l.b.o.Now())
		if err != nil {
			l.refuse(c, err)
			continue
		}
		tc := &trackedConn{Conn: c, id: newID(), b: l.b, release: release}
		if l.implicitTLS {
			tc.tlsw.await()
		}
		metricSessions.Inc()
		metricSessionsActive.Inc()
		l.b.mu.Lock()
		l.b.conns[tc] = struct{}{}
		l.b.mu.Unlock()
		return tc, nil
	}
}

// refuse answers a connection over a per-address cap with 421 4.7.0 as its
// greeting (RFC 5321 §3.1) and closes it, within the accept loop: the
// reply fits an empty socket buffer, and the write deadline keeps a
// connection that cannot take it from holding the loop.
func (l *trackedListener) refuse(c net.Conn, err error) {
	now := l.b.o.Now()
	r := replyTooManyConnections(0)
	if cr := (*limits.ConnRefusal)(nil); errors.As(err, &cr) {
		r = replyTooManyConnections(cr.Limit)
		if cr.Kind == limits.ConnRate {
			r = replyConnectionRate(cr.Limit, cr.RetryAt, now)
		}
	}
	reason := refusal(r).Reason
	metricConnRefused.WithLabelValues(reason).Inc()
	l.b.log.Debug("connection refused", "remote", c.RemoteAddr().String(), "reason", reason, "code", r.Code)
	if !l.implicitTLS {
		_ = c.SetWriteDeadline(now.Add(100 * time.Millisecond))
		_, _ = fmt.Fprintf(c, "%s\r\n", r.Error())
	}
	_ = c.Close()
}

// addrOf is the IP address of a connection's remote end.
func addrOf(a net.Addr) netip.Addr {
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// trackedConn is one client connection, across STARTTLS.
type trackedConn struct {
	net.Conn
	id      string
	b       *Backend
	inTx    atomic.Bool // between MAIL and the end of the transaction
	session atomic.Pointer[Session]
	once    sync.Once
	// closeAfterWrite closes the connection after the next write: the
	// reply that says it is closing (421) goes out first.
	closeAfterWrite atomic.Bool
	release         func() // gives the connection back to the per-address caps; nil when untracked
	tlsw            tlsWatch
	tlsConn         atomic.Pointer[tls.Conn] // implicit TLS: the connection above this one
}

// Read passes through. A read that times out (command_timeout, or
// data_timeout in DATA) ends the connection after the next reply:
// bufio drops the timeout when part of a line has arrived, so go-smtp would
// take the fragment for a command and read on under a fresh deadline; a
// client that trickles bytes would never be cut off.
func (c *trackedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.tlsw.pending() {
		c.tlsw.read(p[:n], err)
	}
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		c.closeAfterWrite.Store(true)
	}
	return n, err
}

// Write passes through, and closes the connection after a reply that
// announced the close. A plaintext write while a TLS handshake is under
// way is go-smtp's reply to a failed STARTTLS: every write of crypto/tls
// starts with a record's content type, no SMTP reply does.
func (c *trackedConn) Write(p []byte) (int, error) {
	if len(p) > 0 && (p[0] < recordChangeCipherSpec || p[0] > recordHeartbeat) {
		if ph := c.tlsw.phase.Load(); ph == hsHello || ph == hsVerified {
			c.tlsFailed()
		}
	}
	n, err := c.Conn.Write(p)
	if c.closeAfterWrite.Load() {
		_ = c.Conn.Close()
	}
	return n, err
}

// Close closes and unregisters the connection, and traces a TLS handshake
// it cut short.
func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		if c.closedDuringHandshake() {
			c.tlsFailed()
		}
		if c.release != nil {
			c.release()
		}
		if c.b != nil {
			metricSessionsActive.Dec()
			c.b.mu.Lock()
			delete(c.b.conns, c)
			c.b.mu.Unlock()
		}
	})
	return err
}

// shutdown tells an idle client the service is going away and closes the
// connection. The caller holds b.mu.
func (c *trackedConn) shutdown() {
	if s := c.session.Load(); s != nil {
		// The client is idle (not in a transaction), so go-smtp is waiting
		// for a command and nothing else writes to the connection now.
		_ = s.c.Conn().SetWriteDeadline(time.Now().Add(time.Second))
		r := replyShuttingDown()
		_, _ = fmt.Fprintf(s.c.Conn(), "%s\r\n", r.Error())
	}
	_ = c.Conn.Close()
}

// newID returns a short random id for connections and queue entries.
func newID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// slogErrorLog adapts go-smtp's error logger to slog.
type slogErrorLog struct{ log *slog.Logger }

func (l slogErrorLog) Printf(format string, v ...any) {
	l.log.Warn("smtp", "err", fmt.Sprintf(format, v...))
}
func (l slogErrorLog) Println(v ...any) { l.log.Warn("smtp", "err", fmt.Sprint(v...)) }
