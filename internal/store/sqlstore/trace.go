package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"mailroom/internal/store"
)

// InsertTrace is the statement that appends one trace event, with the
// arguments TraceArgs returns. PostgreSQL appends RETURNING id; SQLite
// reads the id as the last insert id.
const InsertTrace = `INSERT INTO trace_events
	(at, session, queue_id, kind, status, command, remote, tls, mailbox, sender, recipients, message_id, size, reason, code, enhanced, text, detail,
	 attempt, header_from, header_sender, subject, connector)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)`

// TraceArgs returns the arguments of InsertTrace for e, first setting a
// zero e.At to the current time.
func (db *DB) TraceArgs(e *store.TraceEvent) []any {
	if e.At.IsZero() {
		e.At = db.Stamp()
	}
	return []any{Nanos(e.At), e.Session, e.QueueID, e.Kind, e.Status, e.Command, e.Remote, e.TLS, e.Mailbox, e.Sender,
		joinRecipients(e.Recipients), e.MessageID, e.Size, e.Reason, e.Code, e.Enhanced, e.Text, e.Detail,
		e.Attempt, joinRecipients(e.HeaderFrom), e.HeaderSender, e.Subject, e.Connector}
}

// joinRecipients stores addresses as ",a,b," (SearchAttempts finds an
// address in trace_addresses, not here).
func joinRecipients(rs []string) string {
	if len(rs) == 0 {
		return ""
	}
	return "," + strings.Join(rs, ",") + ","
}

func splitRecipients(s string) []string {
	s = strings.Trim(s, ",")
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// SearchTrace returns the events f selects.
func (db *DB) SearchTrace(ctx context.Context, f store.TraceFilter) ([]store.TraceEvent, error) {
	var where []string
	var args []any
	add := func(cond string, a any) {
		args = append(args, a)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Mailbox != "" {
		add("mailbox = $%d", f.Mailbox)
	}
	if f.Status != "" {
		add("status = $%d", f.Status)
	}
	if !f.Since.IsZero() {
		add("at >= $%d", Bound(f.Since))
	}
	if len(f.Sessions) > 0 || len(f.QueueIDs) > 0 {
		var or []string
		for _, c := range []struct {
			col  string
			vals []string
		}{{"session", f.Sessions}, {"queue_id", f.QueueIDs}} {
			if vals := c.vals; len(vals) > 0 {
				or = append(or, c.col+" IN ("+In(len(args)+1, len(vals))+")")
				for _, v := range vals {
					args = append(args, v)
				}
			}
		}
		where = append(where, "("+strings.Join(or, " OR ")+")")
	}
	q := `SELECT ` + traceColumns + ` FROM trace_events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if f.Limit > 0 {
		args = append(args, f.Limit)
		q += fmt.Sprintf(" ORDER BY at DESC, id DESC LIMIT $%d", len(args))
	} else {
		q += " ORDER BY at, id"
	}
	out, err := QueryAll(ctx, db.sql, scanTraceEvent, q, args...)
	if err != nil {
		return nil, fmt.Errorf("search trace: %w", err)
	}
	return out, nil
}

// DeleteTraceBefore deletes events older than cutoff.
func (db *DB) DeleteTraceBefore(ctx context.Context, cutoff time.Time) (int, error) {
	// The addresses first: an address left without its event is never
	// read; an event left without its addresses would not be found.
	if _, err := db.exec(ctx, `DELETE FROM trace_addresses WHERE event_id IN (SELECT id FROM trace_events WHERE at < $1)`, Bound(cutoff)); err != nil {
		return 0, fmt.Errorf("delete trace addresses before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	n, err := db.exec(ctx, `DELETE FROM trace_events WHERE at < $1`, Bound(cutoff))
	if err != nil {
		return 0, fmt.Errorf("delete trace before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	return int(n), nil
}
