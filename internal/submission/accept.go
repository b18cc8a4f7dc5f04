package submission

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-smtp"

	"mailroom/internal/message"
	"mailroom/internal/policy"
	"mailroom/internal/store"
)

// storeTimeout bounds the acceptance transaction; past it the client gets
// 451 4.3.0 and nothing is accepted.
const storeTimeout = 30 * time.Second

// accept reads the message from r and makes it durable: the bodies are
// fsynced (file and directory) before one store transaction writes the
// message, a queue row per envelope recipient and the folder references.
// It returns the queue id, or an *smtp.SMTPError the client is told, or
// another error (a local failure: 451, nothing accepted).
func (s *Session) accept(r io.Reader) (string, error) {
	o := &s.b.o
	br := bufio.NewReaderSize(r, 32<<10)
	h, err := message.ReadHeader(br)
	if err != nil {
		if tooLarge(err) {
			return "", replyMessageTooLarge(o.MaxMessageBytes)
		}
		return "", replyMalformedHeader(err)
	}
	mb, ok := o.Directory.Snapshot().Mailbox(s.mailbox)
	if !ok {
		return "", replyAuthRequired()
	}
	if err := s.checkHeaderSenders(h, mb); err != nil {
		return "", err
	}

	now := o.Now()
	id := newQueueID(now.UnixMilli())
	stamp := message.Stamp{Hostname: o.Hostname, Helo: s.c.Hostname(), RemoteIP: remoteIP(s.c), QueueID: id, Now: now}
	if st, ok := s.c.TLSConnectionState(); ok {
		stamp.TLS = tls.VersionName(st.Version) + " " + tls.CipherSuiteName(st.CipherSuite)
	}
	msgID, err := message.Complete(&h, stamp, s.from)
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
	size := full.Size()
	fullKey := id + ".eml"
	if err := full.Commit(fullKey); err != nil {
		return "", err
	}
	keys := []string{fullKey}
	dlvKey := fullKey
	if message.HasBcc(h) {
		if dlvKey, err = s.writeWithoutBcc(h, fullKey, headerLen, id); err != nil {
			s.removeBlobs(keys)
			return "", err
		}
		keys = append(keys, dlvKey)
	}

	a := store.Acceptance{
		Message: store.Message{
			ID: id, MessageID: msgID, MailboxID: mb.ID, EnvelopeFrom: s.from,
			Size: size, Blob: fullKey, DeliveryBlob: dlvKey, CreatedAt: now,
		},
		Recipients: s.rcpts,
		Delivered:  make(map[string]bool),
		Entries:    []store.FolderEntry{{MailboxID: mb.ID, Folder: store.FolderSent, MessageID: id, Blob: fullKey, Size: size, CreatedAt: now}},
	}
	snap := o.Directory.Snapshot()
	for _, rcpt := range s.rcpts {
		if local, ok := snap.Mailbox(rcpt); ok {
			a.Delivered[rcpt] = true
			a.Entries = append(a.Entries, store.FolderEntry{MailboxID: local.ID, Folder: store.FolderInbox, MessageID: id, Blob: dlvKey, Size: size, CreatedAt: now})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := o.Store.Accept(ctx, a); err != nil {
		s.removeBlobs(keys)
		return "", fmt.Errorf("store acceptance %s: %w", id, err)
	}
	s.log.Info("accepted", "queue_id", id, "msgid", msgID, "from", s.from, "rcpts", len(s.rcpts), "local", len(a.Delivered), "size", size)
	return id, nil
}

// checkHeaderSenders applies the sender rule to From: and Sender:.
func (s *Session) checkHeaderSenders(h textproto.Header, mb *store.Mailbox) error {
	from, err := message.Addresses(h, "From")
	if err != nil {
		return replyMalformedHeader(err)
	}
	if len(from) == 0 {
		// Complete adds From: <envelope sender>, already checked at MAIL.
		from = []string{s.from}
	}
	senders, err := message.Addresses(h, "Sender")
	if err != nil {
		return replyMalformedHeader(err)
	}
	if len(senders) > 1 {
		return replyMalformedHeader(errors.New("Sender: must hold exactly one address (RFC 5322 §3.6.2)"))
	}
	sender := ""
	if len(senders) == 1 {
		sender = senders[0]
	}
	if d := policy.HeaderSenders(senderOf(mb), from, sender); !d.Allow {
		return replySendAsDeniedData(d.Detail)
	}
	return nil
}

// writeWithoutBcc writes the recipients' copy: the header without Bcc:,
// then the body read back from the committed full copy.
func (s *Session) writeWithoutBcc(h textproto.Header, fullKey string, headerLen int64, id string) (string, error) {
	blobs := s.b.o.Blobs
	src, err := blobs.Open(fullKey)
	if err != nil {
		return "", err
	}
	defer src.Close()
	w, err := blobs.Create()
	if err != nil {
		return "", err
	}
	defer w.Abort()
	if err := message.WriteHeader(w, message.WithoutBcc(h)); err != nil {
		return "", err
	}
	if _, err := io.Copy(w, io.NewSectionReader(src, headerLen, 1<<62)); err != nil {
		return "", fmt.Errorf("copy body: %w", err)
	}
	key := id + ".dlv.eml"
	return key, w.Commit(key)
}

func (s *Session) removeBlobs(keys []string) {
	for _, k := range keys {
		if err := s.b.o.Blobs.Remove(k); err != nil {
			s.log.Warn("remove unaccepted blob", "blob", k, "err", err)
		}
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

// newQueueID returns a time-ordered id: milliseconds since the epoch in hex,
// then 48 random bits.
func newQueueID(ms int64) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%011x%s", ms, hex.EncodeToString(b[:]))
}
