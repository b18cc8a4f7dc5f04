package queue

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-message/textproto"

	"mailroom/internal/message"
	"mailroom/internal/store"
)

// notice builds the DSN about notes (recipients of message e) and makes it
// durable as a blob; the returned Acceptance is written by Record together
// with the outcomes it reports. A local sender gets it in the Inbox; a
// remote one through the queue, with a null envelope sender. A copy of a
// DSN that reports a failure goes to the postmaster, by the same rules.
func (q *Queue) notice(ctx context.Context, e store.QueueEntry, notes []note, now time.Time) (*store.Acceptance, error) {
	// The original header identifies the message to the sender; without
	// it (an unreadable blob, a header over MaxHeaderBytes) the DSN still
	// goes, naming the queue id.
	var h textproto.Header
	if src, err := q.o.Blobs.Open(e.DeliveryBlob); err != nil {
		q.log.Error("dsn without the original header", "queue_id", e.MessageID, "err", err)
	} else {
		h, err = message.ReadHeaderMax(bufio.NewReader(src), q.o.MaxHeaderBytes)
		src.Close()
		if err != nil {
			q.log.Error("dsn without the original header", "queue_id", e.MessageID, "err", err)
		}
	}
	d := message.DSN{
		Hostname: q.o.Hostname, To: e.EnvelopeFrom, QueueID: e.MessageID,
		Arrival: e.AcceptedAt, Date: now, Header: h,
	}
	for _, n := range notes {
		d.Recipients = append(d.Recipients, message.DSNRecipient{
			Recipient: n.entry.Recipient, Action: n.action, Status: n.status,
			Diagnostic: n.result.Reply(), RemoteMTA: n.result.Remote, Upstream: n.result.Upstream, LastAttempt: now,
			RetryUntil: e.AcceptedAt.Add(q.o.MaxAge),
		})
	}
	id := NewID(now)
	w, err := q.o.Blobs.Create()
	if err != nil {
		return nil, err
	}
	defer w.Abort()
	msgID, err := message.WriteDSN(w, d)
	if err != nil {
		return nil, err
	}
	size := w.Size()
	key := id + ".eml"
	if err := w.Commit(key); err != nil {
		return nil, err
	}
	a := &store.Acceptance{
		Message:    store.Message{ID: id, MessageID: msgID, EnvelopeFrom: "", Size: size, Blob: key, DeliveryBlob: key, CreatedAt: now},
		Recipients: noticeRecipients(e.EnvelopeFrom, q.o.Postmaster, notes),
		Delivered:  map[string]bool{},
	}
	for _, rcpt := range a.Recipients {
		local, mb, err := q.local(ctx, rcpt)
		if err != nil {
			_ = q.o.Blobs.Remove(key)
			return nil, fmt.Errorf("look up dsn recipient %s: %w", rcpt, err)
		}
		if local {
			a.Delivered[rcpt] = true
			a.Entries = append(a.Entries, store.FolderEntry{MailboxID: mb.ID, Folder: store.FolderInbox, MessageID: id, Blob: key, Size: size, CreatedAt: now})
		}
		// Else a remote sender (or postmaster): the DSN is queued like
		// any message.
	}
	return a, nil
}

// noticeRecipients are the envelope recipients of a DSN about notes of a
// message from sender: the sender, and the postmaster (delivery.postmaster,
// "" for none) when a recipient failed; a delay notice concerns only the
// sender.
func noticeRecipients(sender, postmaster string, notes []note) []string {
	out := []string{sender}
	if postmaster == "" || strings.EqualFold(postmaster, sender) {
		return out
	}
	for _, n := range notes {
		if n.action == message.ActionFailed {
			return append(out, postmaster)
		}
	}
	return out
}

// local reports whether a DSN to rcpt goes into a local Inbox, and whose:
// a mailbox's, unless its domain is a relay domain (the sender's real
// mailbox is upstream; the DSN is queued for the domain's route).
func (q *Queue) local(ctx context.Context, rcpt string) (bool, store.Mailbox, error) {
	mb, err := q.o.Store.Mailbox(ctx, rcpt)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, store.Mailbox{}, nil
	case err != nil:
		return false, store.Mailbox{}, err
	}
	ds, err := q.o.Store.Domains(ctx)
	if err != nil {
		return false, store.Mailbox{}, err
	}
	return !relayed(ds, mb.Domain), mb, nil
}

// relayed reports whether domain is a relay domain among ds.
func relayed(ds []store.Domain, domain string) bool {
	for _, d := range ds {
		if d.Name == domain {
			return d.Role == store.DomainRelay
		}
	}
	return false
}
