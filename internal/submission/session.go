package submission

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"

	"github.com/emersion/go-smtp"

	"mailroom/internal/address"
	"mailroom/internal/directory"
	"mailroom/internal/limits"
	"mailroom/internal/policy"
	"mailroom/internal/store"
)

// Session is one client's state between EHLO and QUIT (or STARTTLS, which
// starts a new Session).
type Session struct {
	b   *Backend
	c   *smtp.Conn
	tc  *trackedConn
	log *slog.Logger
	tls bool

	mailbox string // canonical address after a successful AUTH

	// The current transaction.
	from  string
	rcpts []string
	tx    limits.Hold // the mailbox's slot and reservations; nil outside a transaction
}

var (
	_ smtp.Session     = (*Session)(nil)
	_ smtp.AuthSession = (*Session)(nil)
)

// Mail starts a transaction once the client has authenticated and the
// envelope sender is one the mailbox may use.
func (s *Session) Mail(from string, opts *smtp.MailOptions) (err error) {
	defer s.traceReply("MAIL", from, &err)
	if s.b.isDraining() {
		// Shutting down: a transaction begun now might be cut at the end
		// of the grace period. Busy clients go too, not only idle ones.
		s.tc.closeAfterWrite.Store(true)
		return replyShuttingDown()
	}
	if s.mailbox == "" {
		s.log.Info("refused", "cmd", "MAIL", "reason", "not_authenticated", "code", 530)
		return replyAuthRequired()
	}
	mb, ok := s.b.o.Directory.Snapshot().Mailbox(s.mailbox)
	if !ok {
		// Removed since the login.
		return replyAuthRequired()
	}
	var norm string
	if from != "" {
		var err error
		if norm, err = address.Normalize(from); err != nil {
			return replyBadSenderSyntax(err)
		}
	}
	snap := s.b.o.Directory.Snapshot()
	d := policy.EnvelopeSender(snap.Sender(mb), norm)
	if !d.Allow {
		s.log.Info("refused", "cmd", "MAIL", "from", from, "reason", d.Reason, "code", 550)
		if d.Reason == policy.ReasonNullSender {
			return replyNullSender(d.Detail)
		}
		return replySendAsDeniedMail(d.Detail)
	}
	if err := s.checkQuota(mb, 0); err != nil {
		s.log.Info("refused", "cmd", "MAIL", "reason", policy.ReasonOverQuota, "code", 554)
		return err
	}
	s.Reset() // a MAIL without RSET after a refused one starts afresh
	now := s.b.o.Now()
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	tx, err := s.b.o.Limits.Acquire(ctx, mb.ID, s.effectiveLimits(snap, mb), now)
	if err != nil {
		var ref *limits.Refusal
		if !errors.As(err, &ref) {
			s.log.Error("limits", "cmd", "MAIL", "err", err)
			return replyLocalError()
		}
		s.log.Info("refused", "cmd", "MAIL", "reason", "limit", "kind", ref.Kind, "limit", ref.Limit)
		if ref.Kind == limits.KindConcurrent {
			return replyConcurrency(mb.Address, ref.Limit)
		}
		return replyRate(mb.Address, ref.Limit, ref.RetryAt, now)
	}
	s.tx = tx
	s.from = norm
	s.tc.inTx.Store(true)
	return nil
}

// effectiveLimits merges server, domain and mailbox limits.
func (s *Session) effectiveLimits(snap *directory.Snapshot, mb *store.Mailbox) store.Limits {
	var dom store.Limits
	if d, ok := snap.Domain(mb.Domain); ok {
		dom = d.Limits
	}
	return limits.Effective(s.b.o.ServerLimits, dom, mb.Limits)
}

// Rcpt adds an envelope recipient. Addresses of served domains must name
// a mailbox; others are queued for remote delivery.
func (s *Session) Rcpt(to string, opts *smtp.RcptOptions) (err error) {
	defer s.traceReply("RCPT", to, &err)
	if s.from == "" {
		if s.mailbox == "" {
			return replyAuthRequired()
		}
		return replyNeedMail()
	}
	norm, err := address.Normalize(to)
	if err != nil {
		return replyBadRecipientSyntax(err)
	}
	snap := s.b.o.Directory.Snapshot()
	if snap.ServesDomain(address.DomainOf(norm)) {
		if _, ok := snap.Resolve(norm); !ok {
			s.log.Info("refused", "cmd", "RCPT", "rcpt", norm, "reason", "no_such_mailbox", "code", 550)
			return replyNoSuchMailbox(norm)
		}
	}
	if slices.Contains(s.rcpts, norm) {
		return nil
	}
	now := s.b.o.Now()
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := s.tx.Reserve(ctx, now); err != nil {
		var ref *limits.Refusal
		if !errors.As(err, &ref) {
			s.log.Error("limits", "cmd", "RCPT", "err", err)
			return replyLocalError()
		}
		s.log.Info("refused", "cmd", "RCPT", "rcpt", norm, "reason", "limit", "kind", ref.Kind, "limit", ref.Limit)
		switch {
		case ref.Kind == limits.KindPerMessage:
			return replyTooManyRecipients(ref.Limit)
		case s.b.o.DailyReject:
			return replyDailyReject(s.mailbox, ref.Limit, ref.RetryAt)
		default:
			return replyDailyDefer(s.mailbox, ref.Limit, ref.RetryAt, now)
		}
	}
	s.rcpts = append(s.rcpts, norm)
	return nil
}

// Data reads the message, checks its header senders and accepts it
// durably; see accept.go.
func (s *Session) Data(r io.Reader) (err error) {
	defer s.traceReply("DATA", "", &err)
	if s.from == "" || len(s.rcpts) == 0 {
		return replyNeedMail()
	}
	g := s.guardData(r) // bare CR/LF, NUL, timeouts: data.go
	id, err := s.accept(g)
	if err = g.outcome(err); err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			s.log.Info("refused", "cmd", "DATA", "code", se.Code, "enhanced", fmt.Sprintf("%d.%d.%d", se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2]), "text", se.Message)
			return se
		}
		s.log.Error("accept", "err", err)
		return replyLocalError()
	}
	return replyQueued(id)
}

// Reset ends the transaction (RSET, a new EHLO, or after DATA): the
// mailbox's slot and any reservations not committed by an acceptance are
// released.
func (s *Session) Reset() {
	if s.tx != nil {
		s.tx.Abort()
		s.tx = nil
	}
	s.from = ""
	s.rcpts = s.rcpts[:0]
	s.tc.inTx.Store(false)
}

// Logout ends the session (QUIT, disconnect, or STARTTLS).
func (s *Session) Logout() error {
	s.Reset()
	s.tc.session.CompareAndSwap(s, nil)
	s.log.Info("session end")
	return nil
}

// checkQuota refuses when the mailbox is at or over its storage quota, or
// would be with incoming more bytes.
func (s *Session) checkQuota(mb *store.Mailbox, incoming int64) error {
	if mb.QuotaBytes <= 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	usage, err := s.b.o.Store.MailboxUsage(ctx, mb.ID)
	if err != nil {
		s.log.Error("mailbox usage", "err", err)
		return replyLocalError()
	}
	if d := policy.Quota(mb.Address, usage, mb.QuotaBytes, incoming); !d.Allow {
		return replyOverQuota(d.Detail)
	}
	return nil
}
