package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"mailroom/internal/address"
	"mailroom/internal/store"
	"mailroom/internal/trace"
	"mailroom/internal/unit"
)

// The trace as people read it (issue 20): one row per submission attempt,
// newest first, in pages; Exchange's message trace is the model, with the
// refused attempts (a 535 AUTH, a 550 at MAIL, a 554 after DATA) that
// Exchange cannot show. TraceQuery is the one filter of the console, the
// CLI and the API.

// TraceQuery filters the trace, the same for the console, the CLI and the
// API. Zero values do not filter. An address filter that is a whole
// address matches it exactly; anything else matches the addresses that
// begin with it ("bob@").
type TraceQuery struct {
	Mailbox   string // the logged-in mailbox, or the connector's
	Sender    string // the envelope sender, a header From or the header Sender
	Recipient string // an envelope recipient
	Subject   string // part of the Subject, ASCII case ignored
	MessageID string // the Message-ID header, with or without <>
	QueueID   string
	Status    string // one of AttemptStatuses
	Since     time.Duration
	Until     time.Duration // what happened up to this long ago
	Cursor    string        // AttemptPage.Next of the page before
	Limit     int           // attempts a page, default DefaultTracePage, at most MaxTracePage
}

// Page sizes of TraceAttempts.
const (
	DefaultTracePage = 50
	MaxTracePage     = 1000
)

// maxTraceFilter bounds a text filter: the longest address (320 octets).
const maxTraceFilter = 320

// AttemptStatuses are the statuses TraceAttempts filters on: the
// attempt's own outcome, or (deferred, delivered, failed) a delivery of
// the message it accepted.
var AttemptStatuses = []string{trace.StatusAccepted, trace.StatusRefused, trace.StatusDeferred, trace.StatusDelivered,
	trace.StatusFailed, trace.StatusTLSFailed, trace.StatusNoCommand}

// Attempt is one row of the trace: one submission attempt.
type Attempt struct {
	ID           int64 // the trace event that ended the attempt; TraceAttempt's argument
	At           time.Time
	Session      string
	Remote       string
	TLS          string
	Mailbox      string // the logged-in mailbox (the user name tried, for a refused AUTH)
	Connector    string // the connector that admitted the client, "" after AUTH
	EnvelopeFrom string
	HeaderFrom   []string
	HeaderSender string
	Recipients   []string
	Subject      string
	Size         int64
	QueueID      string
	MessageID    string
	// Status is the attempt's outcome: accepted, refused, tls_failed or
	// no_command; Delivery, for an accepted one, the state of its
	// recipients: queued, deferred, delivered, failed (any failed), or ""
	// before any delivery event; Deliveries counts recipients by it.
	Status     string
	Delivery   string
	Deliveries string // "2 delivered, 1 deferred"
	Command    string // the refused command: AUTH, MAIL, DATA, BDAT
	Reason     string
	Reply      string // the reply sent: "550 5.7.60 SendAsDenied: …"
	Detail     string
}

// Login is who submitted: the mailbox, or the connector and its mailbox.
func (a Attempt) Login() string {
	if a.Connector != "" {
		return "connector " + a.Connector + " (" + a.Mailbox + ")"
	}
	return a.Mailbox
}

// AtText is the attempt's time as people read it: local, with the zone.
func (a Attempt) AtText() string { return TimeText(a.At) }

// SizeText is the message's size in KiB or MiB, "" when unknown.
func (a Attempt) SizeText() string {
	if a.Size <= 0 {
		return ""
	}
	return unit.Size(a.Size)
}

// ReplyBrief is the reply cut to a list's column (the detail has it whole).
func (a Attempt) ReplyBrief() string {
	const n = 90
	if r := []rune(a.Reply); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return a.Reply
}

// TimeText formats t in the local zone, with the zone's name.
func TimeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04:05 MST")
}

// AttemptPage is one page of TraceAttempts; Next, when not "", is the
// TraceQuery.Cursor of the following (older) page.
type AttemptPage struct {
	Attempts []Attempt
	Next     string
}

// TraceAttempts lists the submission attempts q selects, newest first,
// one page at a time.
func (s *Service) TraceAttempts(ctx context.Context, q TraceQuery, now time.Time) (AttemptPage, error) {
	f, err := q.filter(now)
	if err != nil {
		return AttemptPage{}, err
	}
	f.Limit++ // one more tells whether there is a next page
	es, err := s.st.SearchAttempts(ctx, f)
	if err != nil {
		return AttemptPage{}, err
	}
	var page AttemptPage
	if len(es) == f.Limit {
		es = es[:len(es)-1]
		last := es[len(es)-1]
		page.Next = fmt.Sprintf("%d.%d", last.At.UnixNano(), last.ID)
	}
	var ids []string
	for _, e := range es {
		if e.QueueID != "" {
			ids = append(ids, e.QueueID)
		}
	}
	var dels []store.TraceEvent
	if len(ids) > 0 {
		if dels, err = s.st.SearchTrace(ctx, store.TraceFilter{QueueIDs: ids}); err != nil {
			return AttemptPage{}, err
		}
	}
	for _, e := range es {
		page.Attempts = append(page.Attempts, attemptOf(e, dels))
	}
	return page, nil
}

// filter validates q and turns it into the store's filter.
func (q TraceQuery) filter(now time.Time) (store.AttemptFilter, error) {
	var f store.AttemptFilter
	for _, v := range []struct {
		name, val string
	}{{"mailbox", q.Mailbox}, {"sender", q.Sender}, {"recipient", q.Recipient}, {"subject", q.Subject}, {"message id", q.MessageID}, {"queue id", q.QueueID}} {
		if len(v.val) > maxTraceFilter {
			return f, fmt.Errorf("%w: %s: over %d octets", ErrInvalid, v.name, maxTraceFilter)
		}
	}
	f.Mailbox, f.MailboxPrefix = addressMatch(q.Mailbox)
	f.Sender, f.SenderPrefix = addressMatch(q.Sender)
	f.Recipient, f.RecipientPrefix = addressMatch(q.Recipient)
	f.Subject = strings.TrimSpace(q.Subject)
	f.MessageID = strings.Trim(strings.TrimSpace(q.MessageID), "<>")
	f.QueueID = strings.TrimSpace(q.QueueID)
	switch q.Status {
	case "":
	case trace.StatusDeferred, trace.StatusDelivered, trace.StatusFailed:
		f.Delivery = q.Status
	default:
		if !slices.Contains(AttemptStatuses, q.Status) {
			return f, fmt.Errorf("%w: status %q: want %s", ErrInvalid, q.Status, strings.Join(AttemptStatuses, ", "))
		}
		f.Status = q.Status
	}
	if q.Since < 0 || q.Until < 0 {
		return f, fmt.Errorf("%w: since and until must not be negative", ErrInvalid)
	}
	if q.Since > 0 {
		f.Since = now.Add(-q.Since)
	}
	if q.Until > 0 {
		f.Until = now.Add(-q.Until)
	}
	switch {
	case q.Limit < 0 || q.Limit > MaxTracePage:
		return f, fmt.Errorf("%w: limit %d: want 1 to %d", ErrInvalid, q.Limit, MaxTracePage)
	case q.Limit == 0:
		f.Limit = DefaultTracePage
	default:
		f.Limit = q.Limit
	}
	if q.Cursor != "" {
		at, id, ok := strings.Cut(q.Cursor, ".")
		n, err1 := strconv.ParseInt(at, 10, 64)
		i, err2 := strconv.ParseInt(id, 10, 64)
		if !ok || err1 != nil || err2 != nil || i <= 0 {
			return f, fmt.Errorf("%w: cursor %q: want the next of a previous page", ErrInvalid, q.Cursor)
		}
		f.AfterAt, f.AfterID = time.Unix(0, n), i
	}
	return f, nil
}

// addressMatch reads an address filter: a whole address matches exactly
// (normalized); anything else ("bob@", "bob", "shared@exa") matches the
// addresses that begin with it, lowercased.
func addressMatch(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", false
	}
	if n, err := address.Normalize(v); err == nil {
		return n, false
	}
	return strings.ToLower(v), true
}

// attemptOf is the row of attempt event e; dels holds the events of the
// queue ids of the page (their deliveries).
func attemptOf(e store.TraceEvent, dels []store.TraceEvent) Attempt {
	a := Attempt{ID: e.ID, At: e.At, Session: e.Session, Remote: e.Remote, TLS: e.TLS, Mailbox: e.Mailbox, Connector: e.Connector,
		EnvelopeFrom: e.Sender, HeaderFrom: e.HeaderFrom, HeaderSender: e.HeaderSender, Recipients: e.Recipients, Subject: e.Subject,
		Size: e.Size, QueueID: e.QueueID, MessageID: e.MessageID, Status: e.Status, Reason: e.Reason, Detail: e.Detail}
	if e.Status == trace.StatusRefused {
		a.Command = e.Command
	}
	switch {
	case e.Status == trace.StatusAccepted:
	case e.Code != 0:
		a.Reply = strings.TrimSpace(fmt.Sprintf("%d %s %s", e.Code, e.Enhanced, e.Text))
	case e.Status == trace.StatusRefused:
		a.Reply = e.Text // an IMAP refusal has no SMTP code: "NO [OVERQUOTA] …"
	}
	if e.QueueID != "" {
		a.Delivery, a.Deliveries = deliveryState(e, dels)
	}
	return a
}

// deliveryState sums up the latest delivery status of each recipient of
// the accepted attempt e: the state (failed if any failed, else deferred
// if any is, else queued if any has no delivery yet, else delivered) and
// the counts.
func deliveryState(e store.TraceEvent, dels []store.TraceEvent) (string, string) {
	last := map[string]string{}
	for _, d := range dels {
		if d.QueueID != e.QueueID || (d.Kind != trace.KindDelivery && d.Kind != trace.KindDropped) {
			continue
		}
		rs := d.Recipients
		if len(rs) == 0 { // a drop of every recipient
			rs = e.Recipients
		}
		for _, r := range rs {
			last[r] = d.Status
		}
	}
	if len(last) == 0 {
		return "", ""
	}
	count := map[string]int{}
	for _, r := range e.Recipients {
		st := last[r]
		if st == "" {
			st = "queued"
		}
		count[st]++
	}
	var parts []string
	state := ""
	for _, st := range []string{trace.StatusFailed, trace.StatusDeferred, "queued", trace.StatusDelivered} {
		if count[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[st], st))
			if state == "" {
				state = st
			}
		}
	}
	return state, strings.Join(parts, ", ")
}

// AttemptDetail is one attempt with what explains it: its session's
// events, each recipient's deliveries, and where the message can be read.
type AttemptDetail struct {
	Attempt
	// Events are the session's events up to the attempt: the connection,
	// TLS and AUTH, then the commands of this attempt (those after the
	// session's previous attempt), oldest first.
	Events []store.TraceEvent
	// ByRecipient is one entry per envelope recipient of an accepted
	// attempt.
	ByRecipient []RecipientDeliveries
	// Copies are the mailboxes whose Sent Items hold the message.
	Copies []string
}

// RecipientDeliveries is one recipient of an accepted message: its queue
// row (State "" once the row is gone) and its delivery events.
type RecipientDeliveries struct {
	Recipient     string
	State         string // queued, delivered, failed
	Attempts      int
	NextAttemptAt time.Time
	LastReply     string
	Events        []store.TraceEvent
}

// TraceAttempt returns attempt id (Attempt.ID) with its detail;
// ErrNotFound if there is none.
func (s *Service) TraceAttempt(ctx context.Context, id int64) (AttemptDetail, error) {
	e, err := s.st.TraceEvent(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !e.Attempt) {
		return AttemptDetail{}, fmt.Errorf("trace attempt %d %w", id, ErrNotFound)
	}
	if err != nil {
		return AttemptDetail{}, err
	}
	var evs []store.TraceEvent
	if e.Session != "" || e.QueueID != "" {
		f := store.TraceFilter{}
		if e.Session != "" {
			f.Sessions = []string{e.Session}
		}
		if e.QueueID != "" {
			f.QueueIDs = []string{e.QueueID}
		}
		if evs, err = s.st.SearchTrace(ctx, f); err != nil {
			return AttemptDetail{}, err
		}
	}
	d := AttemptDetail{Attempt: attemptOf(e, evs)}
	d.Events = sessionEvents(e, evs)
	if e.QueueID == "" {
		return d, nil
	}
	for _, ev := range evs {
		if ev.QueueID == e.QueueID && ev.Kind == trace.KindCopy && !slices.Contains(d.Copies, ev.Mailbox) {
			d.Copies = append(d.Copies, ev.Mailbox)
		}
	}
	rows, err := s.st.ListQueue(ctx, store.QueueFilter{MessageID: e.QueueID, Limit: len(e.Recipients) + 1})
	if err != nil {
		return AttemptDetail{}, err
	}
	for _, r := range e.Recipients {
		rd := RecipientDeliveries{Recipient: r}
		for _, q := range rows {
			if q.Recipient == r {
				rd.State, rd.Attempts, rd.NextAttemptAt, rd.LastReply = q.State, q.Attempts, q.NextAttemptAt, q.LastReply
			}
		}
		if rd.State != store.StateQueued {
			rd.NextAttemptAt = time.Time{}
		}
		for _, ev := range evs {
			if ev.QueueID == e.QueueID && (ev.Kind == trace.KindDelivery || ev.Kind == trace.KindDropped) &&
				(slices.Contains(ev.Recipients, r) || len(ev.Recipients) == 0) {
				rd.Events = append(rd.Events, ev)
			}
		}
		d.ByRecipient = append(d.ByRecipient, rd)
	}
	return d, nil
}

// sessionEvents picks, from evs (oldest first), the events of e's session
// that explain e: the connection, TLS and AUTH events up to e, and every
// other event after the session's previous attempt, up to e.
func sessionEvents(e store.TraceEvent, evs []store.TraceEvent) []store.TraceEvent {
	var out []store.TraceEvent
	from := 0 // the first event after the previous attempt
	for i, ev := range evs {
		if ev.ID == e.ID {
			break
		}
		if ev.Session == e.Session && ev.Attempt {
			from = i + 1
		}
	}
	for i, ev := range evs {
		if ev.Session != e.Session || e.Session == "" {
			continue
		}
		keep := i >= from || ev.Kind == trace.KindSession || ev.Kind == trace.KindTLS || (ev.Kind == trace.KindAuth && ev.Status == "")
		if keep {
			out = append(out, ev)
		}
		if ev.ID == e.ID {
			break
		}
	}
	if e.Session == "" {
		out = append(out, e)
	}
	return out
}
