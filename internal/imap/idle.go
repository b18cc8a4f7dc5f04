package imap

import (
	"fmt"
	"io"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// keepaliveWriteTimeout bounds the write of one keepalive.
const keepaliveWriteTimeout = 30 * time.Second

// Idle reports changes of the selected folder as they happen, until stop:
// the server's watcher probes the store and wakes the session. With no
// folder selected (IDLE is allowed in the authenticated state, RFC 9051
// §6.3.13) there is nothing to report, as in Dovecot. Either way it sends
// "* OK Still here" every IdleKeepalive, as Dovecot does, so NAT and
// firewalls keep the connection.
func (ss *session) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	if n := ss.s.idle.Add(1); n > int64(ss.s.o.MaxIdle) {
		ss.s.idle.Add(-1)
		return no(goimap.ResponseCodeLimit, "Too many IDLE sessions on this server; poll with NOOP instead")
	}
	defer ss.s.idle.Add(-1)
	var wake <-chan struct{} // nil, never ready, with no folder selected
	if ss.sel != nil {
		x := ss.s.watch.subscribe(ss.sel.t.Mailbox.ID)
		defer ss.s.watch.unsubscribe(x)
		if err := ss.update(w, true); err != nil {
			return err
		}
		wake = x.c
	}
	keepalive := time.NewTicker(ss.s.o.IdleKeepalive)
	defer keepalive.Stop()
	for {
		select {
		case <-stop:
			return nil
		case <-wake:
			if err := ss.update(w, true); err != nil {
				return err
			}
		case <-keepalive.C:
			if err := ss.stillHere(); err != nil {
				return err
			}
		}
	}
}

// stillHere writes IDLE's keepalive. imapserver has no writer for an
// untagged OK, so it goes to the connection itself; that is safe in IDLE
// only: the connection's goroutine reads (DONE) and writes nothing until
// Idle returns, and the updates Idle wrote are flushed (imapwire flushes
// each response at its CRLF).
func (ss *session) stillHere() error {
	nc := ss.conn.NetConn()
	if err := nc.SetWriteDeadline(time.Now().Add(keepaliveWriteTimeout)); err != nil {
		return fmt.Errorf("idle keepalive: %w", err)
	}
	defer nc.SetWriteDeadline(time.Time{})
	if _, err := io.WriteString(nc, "* OK Still here\r\n"); err != nil {
		return fmt.Errorf("idle keepalive: %w", err)
	}
	return nil
}
