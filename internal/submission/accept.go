package submission

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"time"

	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-smtp"

	"mailroom/internal/address"
	"mailroom/internal/directory"
	"mailroom/internal/message"
	"mailroom/internal/policy"
	"mailroom/internal/queue"
	"mailroom/internal/store"
	"mailroom/internal/trace"
)

// storeTimeout bounds the acceptance transaction; past it the client gets
// 451 4.3.0 and nothing is accepted.
const storeTimeout = 30 * time.Second

// accept reads the message from r and makes it durable: one store
// transaction writes the message, a queue row per envelope recipient, the
// folder references and (when small) the bodies; a large body is made
// durable before that transaction.
// It returns the queue id, or a *Reply the client is told, or
// another error (a local failure: 451, nothing accepted).
func (s *Session) accept(t *txn, r io.Reader) (string, error) {
	o := &s.b.o
	br := bufio.NewReaderSize(r, 32<<10)
	// The header is read within max_header_bytes: folded lines cannot
	// make it grow toward the size of the message in memory.
	h, err := message.ReadHeaderMax(br, int(o.MaxHeaderBytes))
	switch {
	case tooLarge(err):
		return "", replyMessageTooLarge(o.MaxMessageBytes)
	case errors.Is(err, message.ErrHeaderTooLarge):
		return "", replyHeaderTooLarge(o.MaxHeaderBytes)
	case errors.Is(err, errRefused):
		return "", err // the guard's refusal (data.go)
	case err != nil:
		return "", replyMalformedHeader(err)
	}
	t.hdr = readTraceHeader(h) // as sent, for a refusal's trace
	snap := o.Directory.Snapshot()
	mb, ok := snap.Mailbox(s.mailbox)
	if !ok {
		return "", replyAuthRequired()
	}
	copies, err := s.applySenderPolicy(t, &h, snap, mb)
	if err != nil {
		return "", err
	}
	t.hdr.sender = traceSender(h) // as accepted: with the Sender: send-on-behalf adds

	now := o.Now()
	id := queue.NewID(now)
	stamp := message.Stamp{Hostname: o.Hostname, Helo: s.helo, RemoteIP: remoteIP(s.c), QueueID: id, Now: now}
	if st, ok := s.c.TLSConnectionState(); ok {
		stamp.TLS = tls.VersionName(st.Version) + " " + tls.CipherSuiteName(st.CipherSuite)
	}
	msgID, err := message.Complete(&h, stamp, t.from)
	if err != nil {
		return "", err
	}

	// The copy as submitted (Bcc kept) is the Sent Items copy.
	full, err := o.Blobs.Create()
	if err != nil {
		return "", err
	}
	defer full.Abort()
	if err := message.WriteHeader(full, h); err != nil {
		return "", err
	}
	headerLen := full.Size()
	if _, err := io.Copy(full, br); err != nil {
		if tooLarge(err) {
			return "", replyMessageTooLarge(o.MaxMessageBytes)
		}
		return "", fmt.Errorf("read message: %w", err)
	}
	dataEnd := time.Now() // the final dot has been read
	size := full.Size()
	if err := s.checkQuota(mb, size); err != nil {
		return "", err
	}
	// A small body rides in the acceptance's transaction; a large one is
	// made durable (fsynced) first, and removed again if the rows fail.
	fullKey := id + ".eml"
	var bodies []store.Body
	var keys []string // bodies committed on their own
	var src io.ReaderAt
	if data, ok := full.Inline(); ok {
		bodies = append(bodies, store.Body{Key: fullKey, Data: data})
		src = bytes.NewReader(data)
	} else {
		if err := full.Commit(fullKey); err != nil {
			return "", err
		}
		keys = append(keys, fullKey)
	}
	dlvKey, dlvSize := fullKey, size
	if message.HasDropped(h) {
		if src == nil { // read the committed full copy back
			r, err := o.Blobs.Open(fullKey)
			if err != nil {
				s.removeBlobs(keys)
				return "", err
			}
			defer r.Close()
			src = r
		}
		dlvKey = id + ".dlv.eml"
		body, committed, n, err := s.writeRecipientsCopy(h, src, headerLen, dlvKey)
		if err != nil {
			s.removeBlobs(keys)
			return "", err
		}
		dlvSize = n
		if committed {
			keys = append(keys, dlvKey)
		} else {
			bodies = append(bodies, body)
		}
	}

	a := store.Acceptance{
		Message: store.Message{
			ID: id, MessageID: msgID, MailboxID: mb.ID, EnvelopeFrom: t.from,
			Size: size, Blob: fullKey, DeliveryBlob: dlvKey, CreatedAt: now,
		},
		Recipients: t.rcpts,
		Delivered:  make(map[string]bool),
		Bodies:     bodies,
	}
	a.Lease = t.hold.Lease()
	for _, c := range copies {
		a.Entries = append(a.Entries, store.FolderEntry{MailboxID: c.ID, Folder: store.FolderSent, MessageID: id, Blob: fullKey, Size: size, CreatedAt: now})
	}
	inboxes := make(map[int64]bool)
	for _, rcpt := range t.rcpts {
		local, ok := snap.Inbox(rcpt) // none in a relay domain: queued for its route
		if !ok {
			continue
		}
		a.Delivered[rcpt] = true
		if !inboxes[local.ID] { // alice@ and alice+x@ in one message: one copy
			inboxes[local.ID] = true
			a.Entries = append(a.Entries, store.FolderEntry{MailboxID: local.ID, Folder: store.FolderInbox, MessageID: id, Blob: dlvKey, Size: dlvSize, CreatedAt: now})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := o.Store.Accept(ctx, a); err != nil {
		if !errors.Is(err, store.ErrMaybeCommitted) {
			// The rows may be committed: the bodies stay, and the orphan
			// sweep removes them if no message names them.
			s.removeBlobs(keys)
		}
		return "", fmt.Errorf("store acceptance %s: %w", id, err)
	}
	t.hold.Commit(now) // the same time the submission log records
	metricAcceptSeconds.Observe(time.Since(dataEnd).Seconds())
	s.traceAccepted(t, a, copies)
	s.log.Info("accepted", "queue_id", id, "msgid", trace.Clip(msgID, maxTraced), "from", t.from, "rcpts", len(t.rcpts), "local", len(a.Delivered), "sent_copies", len(copies), "size", size)
	return id, nil
}

// applySenderPolicy checks From: and Sender: against what the mailbox owns
// and is granted, adds Sender: for send-on-behalf, applies the domains'
// display-name policy, and returns the mailboxes that keep a Sent Items copy.
func (s *Session) applySenderPolicy(t *txn, h *textproto.Header, snap *directory.Snapshot, mb *store.Mailbox) ([]*store.Mailbox, error) {
	from, err := message.AddressList(*h, "From")
	if err != nil {
		return nil, replyMalformedHeader(err)
	}
	if len(from) == 0 {
		// Complete adds From: <envelope sender>, already checked at MAIL.
		from = []message.Address{{Addr: t.from, Norm: t.from}}
	}
	senders, err := message.AddressList(*h, "Sender")
	if err != nil {
		return nil, replyMalformedHeader(err)
	}
	if len(senders) > 1 {
		return nil, replyMalformedHeader(errors.New("the Sender: field must hold exactly one address (RFC 5322 §3.6.2)"))
	}
	sender := ""
	if len(senders) == 1 {
		sender = senders[0].Norm
	}
	norms := make([]string, len(from))
	for i, f := range from {
		norms[i] = f.Norm
	}
	d := policy.HeaderSenders(snap.Sender(mb), norms, sender)
	if !d.Allow {
		if d.Reason == policy.ReasonMultipleFromNoSnd {
			return nil, replySenderRequired(d.Detail)
		}
		return nil, replySendAsDeniedData(d.Reason, d.Detail)
	}
	if d.AddSender != "" {
		h.Set("Sender", (&mail.Address{Name: mb.DisplayName, Address: mb.Address}).String())
	}
	if rewriteDisplayNames(snap, from) && h.Has("From") {
		message.SetAddressList(h, "From", from)
	}

	targets := make([]policy.CopyTarget, 0, len(from))
	byAddr := map[string]*store.Mailbox{mb.Address: mb}
	for i, f := range from {
		if d.Vias[i] != policy.ViaSendAs && d.Vias[i] != policy.ViaSendOnBehalf {
			continue
		}
		if t, ok := snap.Resolve(f.Norm); ok {
			byAddr[t.Address] = t
			targets = append(targets, policy.CopyTarget{Mailbox: t.Address, Via: d.Vias[i], CopySentAs: t.CopySentAs, CopySentOnBehalf: t.CopySentOnBehalf})
		}
	}
	var out []*store.Mailbox
	for _, addr := range policy.SentCopies(mb.Address, mb.SaveSent, targets) {
		out = append(out, byAddr[addr])
	}
	return out, nil
}

// rewriteDisplayNames replaces the display name of every From: address
// whose domain has the "directory" policy with its mailbox's display name.
// It reports whether it changed anything.
func rewriteDisplayNames(snap *directory.Snapshot, from []message.Address) bool {
	changed := false
	for i, f := range from {
		dom, ok := snap.Domain(address.DomainOf(f.Norm))
		if !ok || dom.DisplayName != store.DisplayNameDirectory {
			continue
		}
		m, ok := snap.Resolve(f.Norm)
		if !ok || m.DisplayName == from[i].Name {
			continue
		}
		from[i].Name = m.DisplayName
		changed = true
	}
	return changed
}

// writeRecipientsCopy writes the recipients' copy under key: the header
// without Bcc: and the other fields recipients must not see
// (message.WithoutDropped), then the body read from the full copy src after its
// header. It returns the copy to write with the acceptance, or committed
// true when the copy was large enough to be committed on its own; and its
// size, which the recipients' Inbox entries record (IMAP's RFC822.SIZE).
func (s *Session) writeRecipientsCopy(h textproto.Header, src io.ReaderAt, headerLen int64, key string) (store.Body, bool, int64, error) {
	w, err := s.b.o.Blobs.Create()
	if err != nil {
		return store.Body{}, false, 0, err
	}
	defer w.Abort()
	if err := message.WriteHeader(w, message.WithoutDropped(h)); err != nil {
		return store.Body{}, false, 0, err
	}
	if _, err := io.Copy(w, io.NewSectionReader(src, headerLen, 1<<62)); err != nil {
		return store.Body{}, false, 0, fmt.Errorf("copy body: %w", err)
	}
	n := w.Size()
	if data, ok := w.Inline(); ok {
		return store.Body{Key: key, Data: data}, false, n, nil
	}
	return store.Body{}, true, n, w.Commit(key)
}

// removeBlobs removes the bodies committed for a message that was not
// accepted after all.
func (s *Session) removeBlobs(keys []string) {
	if len(keys) == 0 {
		return
	}
	if err := s.b.o.Blobs.Remove(keys...); err != nil {
		s.log.Warn("remove unaccepted bodies", "blobs", keys, "err", err)
	}
}

// tooLarge reports whether err is go-smtp's size-limit error.
func tooLarge(err error) bool { return errors.Is(err, smtp.ErrDataTooLarge) }

// remoteIP is the client's IP address without the port.
func remoteIP(c *smtp.Conn) string {
	if a, ok := c.Conn().RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	return c.Conn().RemoteAddr().String()
}
