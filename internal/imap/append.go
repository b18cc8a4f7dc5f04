package imap

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-message/textproto"

	"mailroom/internal/message"
	"mailroom/internal/queue"
	"mailroom/internal/store"
	"mailroom/internal/trace"
)

// sentDedupeWindow is how far back an APPEND to Sent Items looks for the
// copy mailroom made of the same message.
const sentDedupeWindow = 24 * time.Hour

// maxAppendHeader bounds the header read to find an appended message's
// Message-ID.
const maxAppendHeader = 256 << 10

// Append answers APPEND. The body is made durable (fsynced, or written in
// the transaction when small) before its rows commit, as an accepted
// message's is, and counts against the target mailbox's quota.
//
// An APPEND to Sent Items of a message mailroom already copied there
// (same Message-ID, within a day) is answered OK and stored once: many
// clients save what they sent over SMTP, and mailroom keeps that copy
// already. The client's flags go to the existing copy.
func (ss *session) Append(name string, r goimap.LiteralReader, options *goimap.AppendOptions) (data *goimap.AppendData, err error) {
	t, err := ss.resolve(name)
	if err != nil {
		if err == errNonExistent {
			err = errTryCreate
		}
		return nil, err
	}
	var msgID, outcome string
	defer func() { ss.traceAppend(t, msgID, r.Size(), outcome, err) }()
	o := &ss.s.o
	if r.Size() > o.MaxMessageBytes {
		return nil, no(goimap.ResponseCodeTooBig, fmt.Sprintf("Message too large: at most %d bytes", o.MaxMessageBytes))
	}
	ctx, cancel := ss.ctx()
	defer cancel()
	f, err := o.Store.Folder(ctx, t.Mailbox.ID, t.Folder)
	if err != nil {
		return nil, ss.fail("APPEND", err, errTryCreate)
	}
	now := o.Now()
	w, err := o.Blobs.Create()
	if err != nil {
		return nil, ss.fail("APPEND", err, nil)
	}
	defer w.Abort()
	var head bytes.Buffer
	src := io.TeeReader(io.LimitReader(r, o.MaxMessageBytes), &capped{&head, maxAppendHeader})
	if _, err := io.Copy(w, src); err != nil {
		return nil, fmt.Errorf("read appended message: %w", err)
	}
	if h, err := textproto.ReadHeader(bufio.NewReader(&head)); err == nil {
		msgID = message.MessageID(h)
	}
	flags := storedFlags(options.Flags)
	if t.Folder == store.FolderSent && msgID != "" {
		e, err := o.Store.SentCopy(ctx, t.Mailbox.ID, msgID, now.Add(-sentDedupeWindow))
		switch {
		case err == nil:
			if len(flags) > 0 {
				if _, err := o.Store.SetFlags(ctx, t.Mailbox.ID, t.Folder, []store.UIDRange{{Start: e.UID, Stop: e.UID}}, store.FlagsAdd, flags); err != nil {
					return nil, ss.fail("APPEND", err, nil)
				}
			}
			outcome = fmt.Sprintf("deduplicated: the copy mailroom kept (uid %d) stays", e.UID)
			return &goimap.AppendData{UID: goimap.UID(e.UID), UIDValidity: f.UIDValidity}, nil
		case !errors.Is(err, store.ErrNotFound):
			return nil, ss.fail("APPEND", err, nil)
		}
	}
	date := options.Time
	if date.IsZero() {
		date = now
	}
	id := queue.NewID(now)
	key := id + ".eml"
	size := w.Size()
	a := store.Appended{
		Message:    store.Message{ID: id, MessageID: msgID, MailboxID: t.Mailbox.ID, Size: size, Blob: key, DeliveryBlob: key, CreatedAt: date},
		Entry:      store.FolderEntry{MailboxID: t.Mailbox.ID, Folder: t.Folder, Flags: flags},
		QuotaBytes: t.Mailbox.QuotaBytes,
	}
	committed := false
	if body, ok := w.Inline(); ok {
		a.Bodies = []store.Body{{Key: key, Data: body}}
	} else {
		if err := w.Commit(key); err != nil {
			return nil, ss.fail("APPEND", err, nil)
		}
		committed = true
	}
	e, err := o.Store.AppendMessage(ctx, a)
	if err != nil {
		if committed && !errors.Is(err, store.ErrMaybeCommitted) {
			if rerr := o.Blobs.Remove(key); rerr != nil {
				ss.log.Warn("remove unappended body", "blob", key, "err", rerr)
			}
		}
		return nil, ss.fail("APPEND", err, nil)
	}
	outcome = fmt.Sprintf("stored as uid %d", e.UID)
	return &goimap.AppendData{UID: goimap.UID(e.UID), UIDValidity: f.UIDValidity}, nil
}

// capped writes into b until it holds n bytes, then drops the rest.
type capped struct {
	b *bytes.Buffer
	n int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.n - c.b.Len(); room > 0 {
		c.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// traceAppend records an APPEND: where it went, and what became of it.
func (ss *session) traceAppend(t target, msgID string, size int64, outcome string, err error) {
	e := store.TraceEvent{Kind: trace.KindAppend, Command: "APPEND", Mailbox: t.Mailbox.Address, MessageID: trace.Clip(msgID, maxUserBytes), Size: size,
		Detail: fmt.Sprintf("imap %s: %s", t.Folder, outcome)}
	if err != nil {
		e.Status, e.Attempt = trace.StatusRefused, true // a row of the readable trace
		var ie *goimap.Error
		if errors.As(err, &ie) {
			e.Reason, e.Text = string(ie.Code), fmt.Sprintf("NO [%s] %s", ie.Code, ie.Text)
		}
		e.Detail = fmt.Sprintf("imap %s: refused", t.Folder)
	}
	ss.trace(e)
}
