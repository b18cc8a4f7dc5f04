package admin

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"mailroom/internal/address"
	"mailroom/internal/store"
	"mailroom/internal/trace"
	"mailroom/internal/unit"
)

// TraceQuery filters the trace, the same for the console, the CLI and the
// API. Zero values do not filter. An address filter that is a whole
// address matches it exactly; anything else matches the addresses that
// begin with it ("bob@"). TraceAttempts reads every field; Trace (the
// per-session timelines) reads Sender and Recipient (whole addresses),
// MessageID, QueueID, Status, Since and Limit.
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
	Limit     int           // attempts a page, default DefaultTracePage, at most MaxTracePage (Trace: timelines, default 50)
}

// Timeline is the trace of one submission attempt: the events of one
// client session, with the delivery events of every message accepted in
// it; or, for a message whose session events are gone (a DSN, expired
// events), the events of its queue id.
type Timeline struct {
	Session  string
	QueueIDs []string
	// Status is the last status an event of the timeline set: refused,
	// accepted, deferred, delivered or failed.
	Status string
	Events []store.TraceEvent
}

// Trace searches the trace: a submission attempt matches when one of its
// events (or, for --status, one of its events' statuses) matches every
// filter. It returns the matching timelines, most recent first, each with
// all of its events oldest first.
func (s *Service) Trace(ctx context.Context, q TraceQuery, now time.Time) ([]Timeline, error) {
	f := store.TraceFilter{MessageID: strings.Trim(strings.TrimSpace(q.MessageID), "<>"), QueueID: strings.TrimSpace(q.QueueID), Status: q.Status}
	var err error
	if q.Sender != "" {
		if f.Sender, err = address.Normalize(q.Sender); err != nil {
			return nil, fmt.Errorf("%w: sender: %v", ErrInvalid, err)
		}
	}
	if q.Recipient != "" {
		if f.Recipient, err = address.Normalize(q.Recipient); err != nil {
			return nil, fmt.Errorf("%w: recipient: %v", ErrInvalid, err)
		}
	}
	if q.Status != "" && !slices.Contains(trace.Statuses, q.Status) {
		return nil, fmt.Errorf("%w: status %q: want %s", ErrInvalid, q.Status, strings.Join(trace.Statuses, ", "))
	}
	if q.Since < 0 {
		return nil, fmt.Errorf("%w: since must not be negative", ErrInvalid)
	}
	if q.Since > 0 {
		f.Since = now.Add(-q.Since)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	// Matching events, newest first, until limit distinct timelines.
	f.Limit = limit * 20
	hits, err := s.st.SearchTrace(ctx, f)
	if err != nil {
		return nil, err
	}
	var sessions, queueIDs []string
	keys := map[string]bool{}
	for _, e := range hits {
		k := "s:" + e.Session
		if e.Session == "" {
			k = "q:" + e.QueueID
		}
		if keys[k] {
			continue
		}
		if len(keys) == limit {
			break
		}
		keys[k] = true
		if e.Session != "" {
			sessions = append(sessions, e.Session)
		}
		if e.QueueID != "" {
			queueIDs = append(queueIDs, e.QueueID)
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	// All events of those sessions and queue ids; then once more for the
	// queue ids the sessions' acceptances name (their deliveries), and the
	// sessions that accepted the queue ids.
	var events []store.TraceEvent
	for range 2 {
		if events, err = s.st.SearchTrace(ctx, store.TraceFilter{Sessions: sessions, QueueIDs: queueIDs}); err != nil {
			return nil, err
		}
		grew := false
		for _, e := range events {
			if e.QueueID != "" && !slices.Contains(queueIDs, e.QueueID) {
				queueIDs, grew = append(queueIDs, e.QueueID), true
			}
			if e.Session != "" && !slices.Contains(sessions, e.Session) {
				sessions, grew = append(sessions, e.Session), true
			}
		}
		if !grew {
			break
		}
	}
	return timelines(events), nil
}

// timelines groups events (oldest first) by session, attaching queue
// events to the session that accepted their queue id; most recent first.
func timelines(events []store.TraceEvent) []Timeline {
	owner := map[string]string{} // queue id → session
	for _, e := range events {
		if e.Session != "" && e.QueueID != "" {
			owner[e.QueueID] = e.Session
		}
	}
	var out []*Timeline
	byKey := map[string]*Timeline{}
	for _, e := range events {
		key := e.Session
		if key == "" {
			key = owner[e.QueueID]
		}
		if key == "" {
			key = "q:" + e.QueueID
		}
		t := byKey[key]
		if t == nil {
			t = &Timeline{}
			if e.Session != "" || owner[e.QueueID] != "" {
				t.Session = key
			}
			byKey[key] = t
			out = append(out, t)
		}
		t.Events = append(t.Events, e)
		if e.QueueID != "" && !slices.Contains(t.QueueIDs, e.QueueID) {
			t.QueueIDs = append(t.QueueIDs, e.QueueID)
		}
		if e.Status != "" {
			t.Status = e.Status
		}
	}
	res := make([]Timeline, len(out))
	for i, t := range out {
		res[len(out)-1-i] = *t
	}
	return res
}

// FormatEvent is one line of a timeline, as the CLI prints it.
func FormatEvent(e store.TraceEvent) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %-8s", e.At.Local().Format("2006-01-02 15:04:05.000 MST"), e.Kind)
	add := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, " %s=%s", k, v)
		}
	}
	add("status", e.Status)
	add("cmd", e.Command)
	// The connection's and the mailbox's details are shown where they
	// change; every event carries them for searching.
	if e.Kind == trace.KindSession || e.Kind == trace.KindDelivery || e.Kind == trace.KindTLS {
		add("remote", e.Remote)
	}
	if e.Kind == trace.KindSession {
		add("tls", e.TLS)
	}
	if e.Kind == trace.KindAuth || e.Kind == trace.KindCopy {
		add("mailbox", e.Mailbox)
	}
	add("queue_id", e.QueueID)
	if e.Kind == trace.KindAccepted || e.Command == "MAIL" || e.Kind == trace.KindDelivery {
		from := e.Sender
		if from == "" && e.Kind != trace.KindDelivery {
			from = "<>"
		}
		add("from", from)
	}
	add("to", strings.Join(e.Recipients, ","))
	add("msgid", e.MessageID)
	if e.Size > 0 {
		add("size", strings.ReplaceAll(unit.Size(e.Size), " ", ""))
	}
	add("reason", e.Reason)
	if e.Code != 0 {
		fmt.Fprintf(&b, "\n    reply: %d", e.Code)
		if e.Enhanced != "" {
			b.WriteString(" " + e.Enhanced)
		}
		if e.Text != "" {
			b.WriteString(" " + e.Text)
		}
	}
	if e.Detail != "" {
		b.WriteString("\n    " + e.Detail)
	}
	return b.String()
}

// traceDrop records an administrator's drop in the trace, written at once
// (the CLI process has no batching writer). A failure to write it is not
// the drop's failure: the rows are already changed.
func (s *Service) traceDrop(ctx context.Context, sel store.QueueSelector, n int, err error) {
	if err != nil || n == 0 {
		return
	}
	e := store.TraceEvent{At: time.Now(), Kind: trace.KindDropped, Status: trace.StatusFailed, QueueID: sel.MessageID,
		Detail: fmt.Sprintf("%d queued recipient(s) dropped by an administrator; no DSN sent", n)}
	if sel.Recipient != "" {
		e.Recipients = []string{sel.Recipient}
	}
	if sel.All {
		e.Detail = fmt.Sprintf("%d queued recipient(s) of all messages dropped by an administrator (queue drop --all); no DSN sent", n)
	}
	_ = s.st.AppendTrace(ctx, []store.TraceEvent{e})
}
