package submission

import (
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"mailroom/internal/address"
	"mailroom/internal/store"
	"mailroom/internal/trace"
)

// This file turns session events into trace events. Each verb handler
// passes its outcome through answer; a refusal's reason token is the one
// its Reply carries, so nothing depends on the reply's wording.

// traceEvent fills what every event of the session carries and records it.
func (s *Session) traceEvent(e store.TraceEvent) {
	if s.b.o.Trace == nil {
		return
	}
	e.Session = s.tc.id
	if e.At.IsZero() {
		e.At = s.b.o.Now()
	}
	if e.Remote == "" {
		e.Remote = s.c.Conn().RemoteAddr().String()
	}
	if st, ok := s.c.TLSConnectionState(); ok {
		e.TLS = tls.VersionName(st.Version)
	}
	if e.Mailbox == "" {
		e.Mailbox = s.mailbox
	}
	if e.Connector == "" {
		e.Connector = s.connector
	}
	s.b.o.Trace.Record(e)
}

// traceSession records the (re)start of a session: a new connection, or
// the EHLO after STARTTLS.
func (s *Session) traceSession() {
	s.traceEvent(store.TraceEvent{Kind: trace.KindSession, Detail: "EHLO " + s.helo})
}

// maxTraced bounds every client-supplied string (an address as typed, a
// user name, a header field) before it reaches the trace or the log: 320
// octets, the longest address RFC 5321 allows (64 + 1 + 255).
const maxTraced = 320

// answer turns what a verb handler returned into what go-smtp writes: nil
// stays nil; a refusing *Reply is logged, counted and traced with its
// reason; any other error is a local failure (451). arg is the command's
// address as typed; t is the transaction the command was part of, if any.
func (s *Session) answer(cmd, arg string, t *txn, err error) error {
	if err == nil {
		return nil
	}
	var rp *Reply
	if !errors.As(err, &rp) {
		s.log.Error("local failure", "cmd", cmd, "err", err)
		rp = replyLocalError()
	}
	if rp.Code < 400 {
		return rp.SMTP()
	}
	arg = trace.Clip(arg, maxTraced)
	s.log.Info("refused", "cmd", cmd, "arg", arg, "reason", rp.Reason, "code", rp.Code, "enhanced", rp.EnhancedString(), "text", rp.Text)
	e := refusal(rp)
	e.Kind, e.Command = trace.KindRefused, cmd
	// A refused RCPT leaves the transaction going: it is an event of the
	// attempt that its DATA (or the client's giving up) ends.
	e.Attempt = cmd != "RCPT"
	if cmd == "AUTH" { // before the exchange: no TLS, an unknown mechanism
		metricAuth.WithLabelValues(e.Reason).Inc()
	} else {
		metricRefused.WithLabelValues(e.Reason).Inc()
	}
	if t != nil {
		e.Sender = t.from
		e.Recipients = append([]string(nil), t.rcpts...)
		t.hdr.fill(&e)
	}
	switch cmd {
	case "MAIL":
		e.Sender = normalizedOr(arg)
	case "RCPT":
		e.Recipients = []string{normalizedOr(arg)}
		if t != nil {
			t.unsent.add(e)
		}
	}
	s.traceEvent(e)
	return rp.SMTP()
}

// maxUnsentRecipients bounds the refused recipients an unsent
// transaction's row lists: a client may send any number of RCPTs.
const maxUnsentRecipients = 100

// refusedRcpts is what a transaction's refused RCPTs leave for its row
// in the trace, should it end without DATA.
type refusedRcpts struct {
	last       *store.TraceEvent // the last refusal: its reason and reply
	recipients []string          // the refused recipients, at most maxUnsentRecipients
	count      int
}

func (u *refusedRcpts) add(e store.TraceEvent) {
	u.last = &e
	u.count++
	if len(u.recipients) < maxUnsentRecipients {
		u.recipients = append(u.recipients, e.Recipients...)
	}
}

// traceUnsent records, as an attempt, a transaction that ended without
// DATA (RSET, a new MAIL, QUIT, a disconnect) after RCPTs were refused:
// an application whose every recipient hit a limit shows in the trace as
// one refused row, with the last refusal's reason and reply.
func (s *Session) traceUnsent(t *txn) {
	u := t.unsent
	if u.last == nil {
		return
	}
	e := *u.last
	e.At, e.ID, e.Attempt = time.Time{}, 0, true
	e.Sender, e.Recipients = t.from, u.recipients
	e.Detail = fmt.Sprintf("the client ended the transaction without DATA after %d refused recipient(s)", u.count)
	if len(t.rcpts) > 0 {
		e.Detail += fmt.Sprintf("; %d accepted recipient(s) were not sent to", len(t.rcpts))
	}
	s.traceEvent(e)
}

// traceAbandoned records a BDAT transfer the client ended with RSET or by
// going away: nothing was accepted, and no reply was sent.
func (s *Session) traceAbandoned(t *txn) {
	s.log.Info("transfer abandoned", "cmd", "BDAT")
	e := store.TraceEvent{Kind: trace.KindRefused, Status: trace.StatusRefused, Command: "BDAT", Reason: reasonTransferInterrupted, Attempt: true,
		Sender: t.from, Recipients: append([]string(nil), t.rcpts...), Detail: "the client reset the transaction or disconnected between BDAT chunks; no reply was sent and nothing was accepted"}
	t.hdr.fill(&e)
	s.traceEvent(e)
}

// traceLogin records an AUTH attempt: the mailbox on success, the reason
// and the reply on failure, and what detail says of the method; and makes
// any refusal a *Reply (saslReplies turns it into what go-smtp writes).
func (s *Session) traceLogin(user, detail string, errp *error) {
	if *errp == nil {
		metricAuth.WithLabelValues("ok").Inc()
		s.traceEvent(store.TraceEvent{Kind: trace.KindAuth, Command: "AUTH", Detail: detail})
		return
	}
	e := store.TraceEvent{Kind: trace.KindAuth, Status: trace.StatusRefused, Command: "AUTH", Mailbox: normalizedOr(user), Detail: detail, Attempt: true}
	var rp *Reply
	if !errors.As(*errp, &rp) {
		s.log.Error("local failure", "cmd", "AUTH", "err", *errp)
		rp = replyLocalError()
	}
	r := refusal(rp)
	e.Reason, e.Code, e.Enhanced, e.Text = r.Reason, r.Code, r.Enhanced, r.Text
	metricAuth.WithLabelValues(e.Reason).Inc()
	s.traceEvent(e)
	*errp = rp
}

// traceAccepted records an acceptance, its Sent Items copies and the local
// recipients delivered with it.
func (s *Session) traceAccepted(t *txn, a store.Acceptance, copies []*store.Mailbox) {
	m := a.Message
	metricAccepted.Inc()
	e := store.TraceEvent{Kind: trace.KindAccepted, Status: trace.StatusAccepted, At: m.CreatedAt, QueueID: m.ID, Attempt: true,
		Sender: m.EnvelopeFrom, Recipients: append([]string(nil), a.Recipients...), MessageID: m.MessageID, Size: m.Size,
		Code: 250, Enhanced: "2.0.0", Text: "OK queued as " + m.ID}
	t.hdr.fill(&e)
	s.traceEvent(e)
	for _, c := range copies {
		s.traceEvent(store.TraceEvent{Kind: trace.KindCopy, At: m.CreatedAt, QueueID: m.ID, MessageID: m.MessageID, Mailbox: c.Address, Detail: string(store.FolderSent)})
	}
	for _, r := range a.Recipients {
		if a.Delivered[r] {
			s.traceEvent(store.TraceEvent{Kind: trace.KindDelivery, Status: trace.StatusDelivered, At: m.CreatedAt, QueueID: m.ID, MessageID: m.MessageID,
				Sender: m.EnvelopeFrom, Recipients: []string{r}, Remote: "local", Detail: "delivered to the local Inbox at acceptance"})
		}
	}
}

// refusal is the trace event of a refusing reply.
func refusal(rp *Reply) store.TraceEvent {
	return store.TraceEvent{Status: trace.StatusRefused, Reason: rp.Reason, Code: rp.Code, Enhanced: rp.EnhancedString(), Text: rp.Text}
}

// normalizedOr is addr normalized, or as given (clipped) when it does not
// parse.
func normalizedOr(addr string) string {
	if n, err := address.Normalize(addr); err == nil {
		return n
	}
	return trace.Clip(addr, maxTraced)
}
