package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"mailroom/internal/store"
)

// This file holds the trace's list of submission attempts (migration
// 0015): the attempt events, and the addresses they are found by.

// InsertTraceAddress is the statement that indexes one address of an
// attempt, with the arguments TraceAddresses returns.
const InsertTraceAddress = `INSERT INTO trace_addresses (event_id, role, address) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`

// The roles of trace_addresses.
const (
	roleFrom         = "from"
	roleHeaderFrom   = "header_from"
	roleHeaderSender = "header_sender"
	roleTo           = "to"
)

// TraceAddresses returns the arguments of InsertTraceAddress for each
// address of e (whose ID is set); none unless e is an attempt.
func TraceAddresses(e store.TraceEvent) [][]any {
	if !e.Attempt {
		return nil
	}
	var out [][]any
	add := func(role, a string) {
		if a != "" {
			out = append(out, []any{e.ID, role, a})
		}
	}
	add(roleFrom, e.Sender)
	for _, a := range e.HeaderFrom {
		add(roleHeaderFrom, a)
	}
	add(roleHeaderSender, e.HeaderSender)
	for _, a := range e.Recipients {
		add(roleTo, a)
	}
	return out
}

// traceColumns are the columns scanTraceEvent reads, in order.
const traceColumns = `id, at, session, queue_id, kind, status, command, remote, tls, mailbox, sender, recipients, message_id, size,
	reason, code, enhanced, text, detail, attempt, header_from, header_sender, subject, connector`

// scanTraceEvent reads the traceColumns of one row.
func scanTraceEvent(r *sql.Rows) (store.TraceEvent, error) {
	var e store.TraceEvent
	var at int64
	var rcpts, from string
	err := r.Scan(&e.ID, &at, &e.Session, &e.QueueID, &e.Kind, &e.Status, &e.Command, &e.Remote, &e.TLS, &e.Mailbox,
		&e.Sender, &rcpts, &e.MessageID, &e.Size, &e.Reason, &e.Code, &e.Enhanced, &e.Text, &e.Detail,
		&e.Attempt, &from, &e.HeaderSender, &e.Subject, &e.Connector)
	e.At = FromNanos(at)
	e.Recipients = splitRecipients(rcpts)
	e.HeaderFrom = splitRecipients(from)
	return e, err
}

// TraceEvent returns the event with that id.
func (db *DB) TraceEvent(ctx context.Context, id int64) (store.TraceEvent, error) {
	out, err := QueryAll(ctx, db.sql, scanTraceEvent, `SELECT `+traceColumns+` FROM trace_events WHERE id = $1`, id)
	if err != nil {
		return store.TraceEvent{}, fmt.Errorf("trace event %d: %w", id, err)
	}
	if len(out) == 0 {
		return store.TraceEvent{}, fmt.Errorf("trace event %d: %w", id, store.ErrNotFound)
	}
	return out[0], nil
}

// SearchAttempts returns the attempts f selects, newest first.
func (db *DB) SearchAttempts(ctx context.Context, f store.AttemptFilter) ([]store.TraceEvent, error) {
	if f.Limit < 1 || f.Limit > store.MaxAttemptPage {
		return nil, fmt.Errorf("search attempts: limit %d not in 1..%d", f.Limit, store.MaxAttemptPage)
	}
	q, args := AttemptsQuery(f)
	out, err := QueryAll(ctx, db.sql, scanTraceEvent, q, args...)
	if err != nil {
		return nil, fmt.Errorf("search attempts: %w", err)
	}
	return out, nil
}

// AttemptsQuery is SearchAttempts' statement for f and its arguments.
// Every condition but the subject's is one an index of migration 0015
// serves (the SQLite store's tests read its plan).
func AttemptsQuery(f store.AttemptFilter) (string, []any) {
	args := []any{true}
	where := []string{"attempt = $1"}
	add := func(cond string, as ...any) {
		refs := make([]any, len(as))
		for i, a := range as {
			args = append(args, a)
			refs[i] = len(args)
		}
		where = append(where, fmt.Sprintf(cond, refs...))
	}
	addresses := func(v string, prefix bool, roles ...string) {
		in := "role IN ('" + strings.Join(roles, "', '") + "')"
		if !prefix {
			add("id IN (SELECT event_id FROM trace_addresses WHERE address = $%d AND "+in+")", v)
			return
		}
		// Every string that starts with v sorts in [v, v+U+10FFFF): byte
		// order, as .Name compares in both databases; an index range.
		add("id IN (SELECT event_id FROM trace_addresses WHERE address >= $%d AND address < $%d AND "+in+")", v, v+"\U0010FFFF")
	}
	switch {
	case f.Mailbox != "" && f.MailboxPrefix:
		add("mailbox >= $%d AND mailbox < $%d", f.Mailbox, f.Mailbox+"\U0010FFFF")
	case f.Mailbox != "":
		add("mailbox = $%d", f.Mailbox)
	}
	if f.Sender != "" {
		addresses(f.Sender, f.SenderPrefix, roleFrom, roleHeaderFrom, roleHeaderSender)
	}
	if f.Recipient != "" {
		addresses(f.Recipient, f.RecipientPrefix, roleTo)
	}
	if f.Subject != "" {
		add(`LOWER(subject) LIKE $%d ESCAPE '!'`, "%"+likeEscape(strings.ToLower(f.Subject))+"%")
	}
	for _, eq := range []struct{ col, val string }{{"message_id", f.MessageID}, {"queue_id", f.QueueID}, {"status", f.Status}} {
		if eq.val != "" {
			add(eq.col+" = $%d", eq.val)
		}
	}
	if f.Delivery != "" {
		// Newest first, each attempt checked by its queue id (migration
		// 0015 says why).
		add("queue_id <> '' AND EXISTS (SELECT 1 FROM trace_events d WHERE d.queue_id = trace_events.queue_id AND d.status = $%d)", f.Delivery)
	}
	if !f.Since.IsZero() {
		add("at >= $%d", Bound(f.Since))
	}
	if !f.Until.IsZero() {
		add("at < $%d", Bound(f.Until))
	}
	if f.AfterID != 0 {
		at := Bound(f.AfterAt)
		// at <= … first: the term an index on at seeks by.
		add("at <= $%d AND (at < $%d OR id < $%d)", at, at, f.AfterID)
	}
	args = append(args, f.Limit)
	q := `SELECT ` + traceColumns + ` FROM trace_events WHERE ` + strings.Join(where, " AND ") +
		fmt.Sprintf(" ORDER BY at DESC, id DESC LIMIT $%d", len(args))
	return q, args
}

// likeEscape escapes LIKE's wildcards (and the escape character '!') in s.
func likeEscape(s string) string {
	return strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(s)
}
