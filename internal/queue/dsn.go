package queue

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/emersion/go-message/textproto"

	"mailroom/internal/message"
	"mailroom/internal/store"
)

// notice builds the DSN about notes (recipients of message e) and makes it
// durable as a blob; the returned Acceptance is written by Record together
// with the outcomes it reports. A local sender gets it in the Inbox; a
// remote one through the queue, with a null envelope sender.
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
			Diagnostic: n.result.Reply(), RemoteMTA: n.result.Remote, LastAttempt: now,
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
		Recipients: []string{e.EnvelopeFrom},
		Delivered:  map[string]bool{},
	}
	mb, err := q.o.Store.Mailbox(ctx, e.EnvelopeFrom)
	switch {
	case err == nil:
		a.Delivered[e.EnvelopeFrom] = true
		a.Entries = []store.FolderEntry{{MailboxID: mb.ID, Folder: store.FolderInbox, MessageID: id, Blob: key, Size: size, CreatedAt: now}}
	case errors.Is(err, store.ErrNotFound):
		// A remote sender: the DSN is queued like any message.
	default:
		_ = q.o.Blobs.Remove(key)
		return nil, fmt.Errorf("look up dsn recipient %s: %w", e.EnvelopeFrom, err)
	}
	return a, nil
}
