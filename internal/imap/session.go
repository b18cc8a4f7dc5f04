package imap

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/netip"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"mailroom/internal/store"
)

// session is one IMAP connection. imapserver calls it from the
// connection's goroutine only, but for Idle, whose updates it writes from
// another while the connection's goroutine waits for DONE: the two never
// run session methods at once.
type session struct {
	s      *Server
	conn   *imapserver.Conn
	guard  *guardConn // nil when the listener was not the server's own
	id     string
	remote netip.Addr
	log    *slog.Logger

	mb     *store.Mailbox   // the logged-in mailbox; nil before login
	shared []*store.Mailbox // the shared mailboxes it has full access to
	sel    *selected        // the selected folder; nil when none
}

var (
	_ imapserver.SessionIMAP4rev2   = (*session)(nil)
	_ imapserver.SessionSASL        = (*session)(nil)
	_ imapserver.SessionAppendLimit = (*session)(nil)
)

// newSession starts the session of a new connection.
func (s *Server) newSession(c *imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, nil, &goimap.Error{Type: goimap.StatusResponseTypeBye, Text: "Server shutting down"}
	}
	nc := c.NetConn()
	var b [6]byte
	_, _ = rand.Read(b[:])
	ss := &session{s: s, conn: c, guard: guardOf(nc), id: "i" + hex.EncodeToString(b[:]), remote: addrOf(nc.RemoteAddr())}
	ss.log = s.log.With("conn", ss.id, "remote", ss.remote)
	return ss, nil, nil
}

// Close ends the session.
func (ss *session) Close() error {
	ss.sel = nil
	return nil
}

// AppendLimit is APPENDLIMIT: the submission's message size cap.
func (ss *session) AppendLimit() uint32 {
	return uint32(min(ss.s.o.MaxMessageBytes, 1<<32-1))
}

// Namespace answers NAMESPACE (RFC 2342): the personal folders without a
// prefix, and the shared mailboxes under Shared/.
func (ss *session) Namespace() (*goimap.NamespaceData, error) {
	data := &goimap.NamespaceData{Personal: []goimap.NamespaceDescriptor{{Prefix: "", Delim: Delim}}}
	if len(ss.shared) > 0 {
		data.Other = []goimap.NamespaceDescriptor{{Prefix: SharedPrefix, Delim: Delim}}
	}
	return data, nil
}
