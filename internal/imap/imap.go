// Package imap owns mailroom's IMAP server: go-imap v2 sessions
// (imapserver) over the same directory, login guard and folders as SMTP
// submission, so people read their Inbox and Sent Items, and the shared
// mailboxes they have full access to, in their own mail client.
//
// The protocol is go-imap's; this package answers its Session calls from
// the store (store.Folders) and blob store. Where go-imap falls short,
// this package works around it, and says so where it does:
//
//   - go-imap's MailboxTracker keeps a mailbox's changes in one process;
//     mailroom's messages arrive through other processes and nodes (the
//     acceptance, the queue), so each session keeps its own view of the
//     selected folder (selected.go) and diffs it against the store on
//     NOOP, after commands and in IDLE, where one poller per server
//     probes the folders of every idling session at once (watch.go).
//   - imapserver does not bound what a client sends before it logs in,
//     nor how long it may stay unauthenticated: the listener's connections
//     count their bytes and carry a login deadline (listener.go).
//   - imapserver writes no untagged OK: IDLE's keepalive, "* OK Still
//     here" as Dovecot sends it, goes to the connection directly (idle.go).
//   - EXAMINE is not read-only in imapserver ("TODO: forbid write
//     commands"), and a FETCH of BODY[] does not set \Seen: the session
//     does both.
package imap

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"mailroom/internal/blob"
	"mailroom/internal/directory"
	"mailroom/internal/limits"
	"mailroom/internal/store"
	"mailroom/internal/trace"
)

// Options configure a Server. Directory, Store, Blobs and Logins are
// required; Logins must be the instance SMTP submission uses, so failed
// logins count together.
type Options struct {
	Directory *directory.Directory
	Store     store.Store
	Blobs     blob.Store
	Logins    *limits.LoginGuard
	// Conns caps the connections per client address (its own instance:
	// an IMAP client's connections must not crowd out its SMTP ones).
	Conns *limits.Connections
	Trace *trace.Writer // nil records nothing
	Log   *slog.Logger
	// TLSConfig serves STARTTLS (and is what ListenTLS is usually given).
	TLSConfig *tls.Config
	// HashWait bounds how long a login waits for its password check.
	HashWait time.Duration
	// MaxMessageBytes bounds an APPEND (APPENDLIMIT).
	MaxMessageBytes int64
	// MaxIdle bounds the sessions in IDLE at once.
	MaxIdle int
	// IdleKeepalive is how often IDLE sends "* OK Still here"; default
	// two minutes, Dovecot's imap_idle_notify_interval.
	IdleKeepalive time.Duration
	// LoginTimeout closes a connection that has not logged in by then;
	// PreAuthBytes one that sent more before it logged in.
	LoginTimeout time.Duration
	PreAuthBytes int64
	// PollInterval is how often IDLE probes the store; default 250ms, so
	// a new message is reported within a second.
	PollInterval time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Server serves IMAP on the listeners given to Serve.
type Server struct {
	o     Options
	log   *slog.Logger
	srv   *imapserver.Server
	watch *watcher
	idle  atomic.Int64 // sessions in IDLE

	mu        sync.Mutex
	closed    bool
	listeners map[net.Listener]struct{} // being served; guarded by mu
	serving   sync.WaitGroup            // Serve calls running; Add under mu while not closed
}

// New returns a server; call Serve with each listener.
func New(o Options) *Server {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 250 * time.Millisecond
	}
	if o.HashWait <= 0 {
		o.HashWait = 5 * time.Second
	}
	if o.LoginTimeout <= 0 {
		o.LoginTimeout = time.Minute
	}
	if o.PreAuthBytes <= 0 {
		o.PreAuthBytes = 64 << 10
	}
	if o.MaxIdle <= 0 {
		o.MaxIdle = 10000
	}
	if o.IdleKeepalive <= 0 {
		o.IdleKeepalive = 2 * time.Minute
	}
	s := &Server{o: o, log: o.Log.With("proto", "imap"), listeners: make(map[net.Listener]struct{})}
	s.watch = newWatcher(o.Store, o.PollInterval, s.log)
	s.srv = imapserver.New(&imapserver.Options{
		NewSession: s.newSession,
		Caps: goimap.CapSet{
			goimap.CapIMAP4rev1: {}, goimap.CapIMAP4rev2: {},
			goimap.CapNamespace: {}, goimap.CapUIDPlus: {}, goimap.CapMove: {},
			goimap.CapSpecialUse: {}, goimap.CapCreateSpecialUse: {},
			goimap.CapListExtended: {}, goimap.CapListStatus: {}, goimap.CapStatusSize: {},
			goimap.CapESearch: {}, goimap.CapSearchRes: {}, goimap.CapChildren: {},
			goimap.CapLiteralPlus: {}, goimap.CapAppendLimit: {},
		},
		Logger:    slogPrintf{s.log},
		TLSConfig: o.TLSConfig,
	})
	return s
}

// Serve accepts connections on l (from Listen or ListenTLS) until Close;
// after Close it closes l and returns net.ErrClosed.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		return net.ErrClosed
	}
	s.listeners[l] = struct{}{}
	s.serving.Add(1)
	s.mu.Unlock()
	defer s.serving.Done()
	return s.srv.Serve(l)
}

// Close closes every listener and connection and stops the IDLE poller.
// It closes the listeners itself and waits for every Serve to return
// before imapserver's Close: imapserver.Serve adds to its WaitGroup after
// releasing its lock, so its Close, waiting on that group, raced with a
// Serve just starting (the race detector caught it at a daemon shutdown
// right after its start).
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	for l := range s.listeners {
		l.Close()
	}
	s.mu.Unlock()
	s.serving.Wait()
	s.watch.close()
	return s.srv.Close()
}

// slogPrintf is go-imap's Logger over slog.
type slogPrintf struct{ log *slog.Logger }

func (l slogPrintf) Printf(format string, args ...any) {
	l.log.Warn("imapserver", "msg", fmt.Sprintf(format, args...))
}
