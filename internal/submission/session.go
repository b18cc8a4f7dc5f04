package submission

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"

	"github.com/emersion/go-smtp"

	"mailroom/internal/address"
	"mailroom/internal/directory"
	"mailroom/internal/limits"
	"mailroom/internal/policy"
	"mailroom/internal/store"
)

// Session is one client's state between EHLO and QUIT (or STARTTLS, which
// starts a new Session).
//
// go-smtp calls the verb handlers on the connection's goroutine, except
// Data for BDAT, which runs on a goroutine of its own while the connection
// reads the next chunk. The transaction has one owner at a time: the
// connection's goroutine from MAIL on, then Data, which takes it (take) and
// ends it when it returns (release). The patched go-smtp
// (third_party/go-smtp/PATCHES.md) also waits for that Data to return
// before it calls Reset or Logout after a RSET or a disconnect; take and
// release keep the Session race-free without relying on that.
type Session struct {
	b    *Backend
	c    *smtp.Conn
	tc   *trackedConn
	log  *slog.Logger
	tls  bool
	helo string // the EHLO argument of this session, validated

	mailbox string // canonical address after a successful AUTH, or of the connector that admitted the client (connector.go)
	// connector is the name of the connector that admitted the client, ""
	// after AUTH; the trace shows it as the login.
	connector string
	// acted is set by AUTH and MAIL: a session that ends without either
	// is traced as such (traceNoCommand).
	acted bool

	mu sync.Mutex
	tx *txn // the open transaction, between MAIL and DATA; nil outside one
}

// txn is one mail transaction, from MAIL to its end.
type txn struct {
	from  string
	rcpts []string
	hold  limits.Hold // the mailbox's slot and reservations
	hdr   traceHeader // what the trace records of the message's header, once read
	// unsent is what the trace records of the refused RCPTs, for a
	// transaction that ends without DATA (traceUnsent).
	unsent refusedRcpts
}

var (
	_ smtp.Session     = (*Session)(nil)
	_ smtp.AuthSession = (*Session)(nil)
)

// Mail starts a transaction once the client has authenticated and the
// envelope sender is one the mailbox may use.
func (s *Session) Mail(from string, opts *smtp.MailOptions) error {
	return s.answer("MAIL", from, nil, s.mail(from, opts))
}

func (s *Session) mail(from string, opts *smtp.MailOptions) error {
	s.acted = true
	// Reset before deciding (RFC 5321 §4.1.1.2): a MAIL ends any open
	// transaction, so a refused one never leaves the old envelope usable.
	s.Reset()
	if s.b.isDraining() {
		// Shutting down: a transaction begun now might be cut at the end
		// of the grace period. Busy clients go too, not only idle ones.
		s.tc.closeAfterWrite.Store(true)
		return replyShuttingDown()
	}
	if s.mailbox == "" {
		s.admitConnector()
	}
	if s.mailbox == "" {
		return replyAuthRequired()
	}
	snap := s.b.o.Directory.Snapshot()
	mb, ok := snap.Mailbox(s.mailbox)
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
	d := policy.EnvelopeSender(snap.Sender(mb), norm)
	if !d.Allow {
		if d.Reason == policy.ReasonNullSender {
			return replyNullSender(d.Detail)
		}
		return replySendAsDeniedMail(d.Reason, d.Detail)
	}
	if err := s.checkQuota(mb, 0); err != nil {
		return err
	}
	now := s.b.o.Now()
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout+s.b.o.ConcurrencyWait)
	defer cancel()
	hold, err := s.b.o.Limits.Acquire(ctx, mb.ID, s.effectiveLimits(snap, mb), now)
	if err != nil {
		var ref *limits.Refusal
		if !errors.As(err, &ref) {
			s.log.Error("limits", "cmd", "MAIL", "err", err)
			return replyLocalError()
		}
		s.log.Info("limit", "cmd", "MAIL", "kind", ref.Kind, "limit", ref.Limit)
		if ref.Kind == limits.KindConcurrent {
			return replyConcurrency(mb.Address, ref.Limit)
		}
		return replyRate(mb.Address, ref.Limit, ref.RetryAt, now)
	}
	s.mu.Lock()
	s.tx = &txn{from: norm, hold: hold}
	s.mu.Unlock()
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
func (s *Session) Rcpt(to string, opts *smtp.RcptOptions) error {
	return s.answer("RCPT", to, s.open(), s.rcpt(to))
}

func (s *Session) rcpt(to string) error {
	t := s.open()
	if t == nil {
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
	if snap.Hosts(address.DomainOf(norm)) { // a relay domain's addresses live upstream
		if _, ok := snap.Resolve(norm); !ok {
			return replyNoSuchMailbox(norm)
		}
	}
	if slices.Contains(t.rcpts, norm) {
		return nil
	}
	now := s.b.o.Now()
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := t.hold.Reserve(ctx, now); err != nil {
		var ref *limits.Refusal
		if !errors.As(err, &ref) {
			s.log.Error("limits", "cmd", "RCPT", "err", err)
			return replyLocalError()
		}
		s.log.Info("limit", "cmd", "RCPT", "rcpt", norm, "kind", ref.Kind, "limit", ref.Limit)
		switch {
		case ref.Kind == limits.KindPerMessage:
			return replyTooManyRecipients(ref.Limit)
		case s.b.o.DailyReject:
			return replyDailyReject(s.mailbox, ref.Limit, ref.RetryAt)
		default:
			return replyDailyDefer(s.mailbox, ref.Limit, ref.RetryAt, now)
		}
	}
	t.rcpts = append(t.rcpts, norm)
	return nil
}

// Data reads the message, checks its header senders and accepts it
// durably; see accept.go. For BDAT it runs on its own goroutine and owns
// the transaction it takes until it returns.
func (s *Session) Data(r io.Reader) error {
	t := s.take()
	if t == nil {
		return s.answer("DATA", "", nil, replyNeedMail())
	}
	defer s.release(t)
	g := s.guardData(r) // bare CR/LF, NUL, timeouts: data.go
	id, err := s.accept(t, g)
	if g.abandoned() {
		// RSET or a disconnect between BDAT chunks: go-smtp answered the
		// RSET itself and sends no reply to this transfer, so none is
		// traced; the trace says the client abandoned it.
		s.traceAbandoned(t)
		return replyDataAborted().SMTP()
	}
	if err = g.outcome(err); err != nil {
		return s.answer("DATA", "", t, err)
	}
	return replyQueued(id).SMTP()
}

// open is the transaction between MAIL and DATA, or nil.
func (s *Session) open() *txn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tx
}

// take hands the open transaction to Data, or returns nil when there is
// none (or it has no recipients: go-smtp checks that too).
func (s *Session) take() *txn {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tx
	if t == nil || len(t.rcpts) == 0 {
		return nil
	}
	s.tx = nil
	return t
}

// release ends the transaction Data owned: its slot and any reservation
// an acceptance did not commit are given back.
func (s *Session) release(t *txn) {
	t.hold.Abort()
	s.mu.Lock()
	idle := s.tx == nil
	s.mu.Unlock()
	if idle {
		s.tc.inTx.Store(false)
	}
}

// Reset ends the open transaction (RSET, a new EHLO or MAIL, or after
// DATA): the mailbox's slot and any reservations not committed by an
// acceptance are released.
func (s *Session) Reset() {
	s.mu.Lock()
	t := s.tx
	s.tx = nil
	s.mu.Unlock()
	if t != nil {
		t.hold.Abort()
		s.traceUnsent(t)
	}
	s.tc.inTx.Store(false)
}

// Logout ends the session (QUIT, disconnect, or STARTTLS).
func (s *Session) Logout() error {
	s.Reset()
	s.tc.session.CompareAndSwap(s, nil)
	s.traceNoCommand()
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
