package submission

import (
	"crypto/tls"
	"fmt"
	"strings"

	"github.com/emersion/go-smtp"

	"mailroom/internal/address"
	"mailroom/internal/policy"
	"mailroom/internal/store"
	"mailroom/internal/trace"
)

// This file turns session events into trace events. Each verb handler
// defers one call here; the refusal's reason token is read from the reply
// it returns (reasonOf), so replies.go stays the one place that words them.

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
	s.b.o.Trace.Record(e)
}

// traceSession records the (re)start of a session: a new connection, or
// the EHLO after STARTTLS.
func (s *Session) traceSession() {
	s.traceEvent(store.TraceEvent{Kind: trace.KindSession, Detail: "EHLO " + s.c.Hostname()})
}

// traceReply records a refusal a verb handler returns; arg is the
// command's address. Successes (nil, or a 2xx reply) are not traced here.
func (s *Session) traceReply(cmd, arg string, errp *error) {
	se, ok := (*errp).(*smtp.SMTPError)
	if !ok || se.Code < 400 {
		return
	}
	e := refusal(se)
	e.Kind, e.Command = trace.KindRefused, cmd
	if cmd == "AUTH" { // before the exchange: no TLS, an unknown mechanism
		metricAuth.WithLabelValues(e.Reason).Inc()
	} else {
		metricRefused.WithLabelValues(e.Reason).Inc()
	}
	switch cmd {
	case "MAIL":
		e.Sender = normalizedOr(arg)
	case "RCPT":
		e.Sender = s.from
		e.Recipients = []string{normalizedOr(arg)}
	case "DATA":
		e.Sender = s.from
		e.Recipients = append([]string(nil), s.rcpts...)
	}
	s.traceEvent(e)
}

// traceLogin records an AUTH attempt: the mailbox on success, the reason
// and the reply on failure.
func (s *Session) traceLogin(user string, errp *error) {
	if *errp == nil {
		metricAuth.WithLabelValues("ok").Inc()
		s.traceEvent(store.TraceEvent{Kind: trace.KindAuth, Command: "AUTH"})
		return
	}
	e := store.TraceEvent{Kind: trace.KindAuth, Status: trace.StatusRefused, Command: "AUTH", Mailbox: normalizedOr(user)}
	if se, ok := (*errp).(*smtp.SMTPError); ok {
		r := refusal(se)
		e.Reason, e.Code, e.Enhanced, e.Text = r.Reason, r.Code, r.Enhanced, r.Text
	}
	metricAuth.WithLabelValues(e.Reason).Inc()
	s.traceEvent(e)
}

// traceAccepted records an acceptance, its Sent Items copies and the local
// recipients delivered with it.
func (s *Session) traceAccepted(a store.Acceptance, copies []*store.Mailbox) {
	m := a.Message
	metricAccepted.Inc()
	s.traceEvent(store.TraceEvent{Kind: trace.KindAccepted, Status: trace.StatusAccepted, At: m.CreatedAt, QueueID: m.ID,
		Sender: m.EnvelopeFrom, Recipients: append([]string(nil), a.Recipients...), MessageID: m.MessageID, Size: m.Size,
		Code: 250, Enhanced: "2.0.0", Text: "OK queued as " + m.ID})
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
func refusal(se *smtp.SMTPError) store.TraceEvent {
	enh := ""
	if se.EnhancedCode != smtp.NoEnhancedCode && se.EnhancedCode != (smtp.EnhancedCode{}) {
		enh = fmt.Sprintf("%d.%d.%d", se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
	}
	return store.TraceEvent{Status: trace.StatusRefused, Reason: reasonOf(se.Code, enh, se.Message), Code: se.Code, Enhanced: enh, Text: se.Message}
}

// reasonOf names a reply of replies.go with a stable token: the policy
// Reason where the decision came from policy. TestReasonOf pins it for
// every reply.
func reasonOf(code int, enh, text string) string {
	switch fmt.Sprintf("%d %s", code, enh) {
	case "530 5.7.57":
		return "not_authenticated"
	case "538 5.7.11":
		return "no_tls"
	case "535 5.7.3":
		return string(policy.ReasonBadCredentials)
	case "535 5.7.139":
		switch {
		case strings.Contains(text, "SMTP AUTH is disabled"):
			return string(policy.ReasonSMTPAuthDisabled)
		case strings.Contains(text, "shared mailbox"):
			return string(policy.ReasonSharedMailbox)
		}
		return string(policy.ReasonNetworkNotAllowed)
	case "550 5.7.60", "554 5.7.60":
		return string(policy.ReasonSendAsDenied)
	case "550 5.7.1":
		return string(policy.ReasonNullSender)
	case "552 5.3.4":
		return "message_too_large"
	case "501 5.1.7":
		return "bad_sender_syntax"
	case "501 5.1.3":
		return "bad_recipient_syntax"
	case "550 5.1.1":
		return "no_such_mailbox"
	case "503 5.5.1":
		return "bad_sequence"
	case "554 5.6.0":
		return "malformed_message"
	case "554 5.2.2":
		return string(policy.ReasonOverQuota)
	case "432 4.3.2":
		return "concurrency_limit"
	case "450 4.7.0":
		return "rate_limit"
	case "452 4.5.3":
		if strings.HasPrefix(text, "Daily") {
			return "daily_recipient_limit"
		}
		return "recipients_per_message"
	case "554 5.2.0":
		return "daily_recipient_limit"
	case "421 4.7.0":
		switch {
		case strings.HasPrefix(text, "Too many connections"):
			return "connection_limit"
		case strings.HasPrefix(text, "Too many new connections"):
			return "connection_rate"
		}
		return "login_blocked"
	case "454 4.7.0":
		return "auth_busy"
	case "501 5.5.2":
		return "malformed_auth"
	case "504 5.5.4":
		return "unknown_mechanism"
	case "451 4.3.0":
		return "local_error"
	}
	return fmt.Sprintf("reply_%d", code)
}

// normalizedOr is addr normalized, or as given when it does not parse.
func normalizedOr(addr string) string {
	if n, err := address.Normalize(addr); err == nil {
		return n
	}
	return addr
}
