package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"mailroom/internal/store"
)

// selectEntry is the column list scanEntry reads: a queue row joined with
// its message.
const selectEntry = `SELECT q.id, q.message_id, q.recipient, q.state, q.attempts, q.next_attempt_at,
	q.last_reply, q.updated_at, q.lease_until, q.delay_notified,
	m.envelope_from, m.message_id, m.delivery_blob, m.size, m.created_at
	FROM queue q JOIN messages m ON m.id = q.message_id`

// scanEntry reads one row of selectEntry.
func scanEntry(row interface{ Scan(...any) error }) (store.QueueEntry, error) {
	var e store.QueueEntry
	var next, updated, lease, accepted int64
	err := row.Scan(&e.ID, &e.MessageID, &e.Recipient, &e.State, &e.Attempts, &next,
		&e.LastReply, &updated, &lease, &e.DelayNotified,
		&e.EnvelopeFrom, &e.HeaderID, &e.DeliveryBlob, &e.Size, &accepted)
	if err != nil {
		return e, err
	}
	e.NextAttemptAt = fromNanos(next)
	e.UpdatedAt = fromNanos(updated)
	if lease != 0 {
		e.LeaseUntil = fromNanos(lease)
	}
	e.AcceptedAt = fromNanos(accepted)
	return e, nil
}

// queryEntries runs a query of selectEntry rows.
func queryEntries(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) ([]store.QueueEntry, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var es []store.QueueEntry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		es = append(es, e)
	}
	return es, rows.Err()
}

// ClaimDue leases up to limit rows due at now until the store's clock
// (db.Now) plus lease, in one IMMEDIATE transaction, so that two claimers
// (two processes on one file) never get the same row.
func (db *DB) ClaimDue(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]store.QueueEntry, error) {
	if limit <= 0 || lease <= 0 {
		return nil, fmt.Errorf("claim due queue rows: limit %d and lease %v must be positive", limit, lease)
	}
	clock := db.now()
	at, held, until := nanos(now), nanos(clock), nanos(clock.Add(lease))
	var es []store.QueueEntry
	err := db.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx,
			`SELECT id FROM queue
			 WHERE state = 'queued' AND next_attempt_at <= ? AND lease_until <= ?
			 ORDER BY next_attempt_at, message_id, id LIMIT ?`, at, held, limit)
		if err != nil {
			return err
		}
		var ids []any
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		in := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
		args := append([]any{until}, ids...)
		if _, err := tx.ExecContext(ctx, `UPDATE queue SET lease_until = ? WHERE id IN (`+in+`)`, args...); err != nil {
			return err
		}
		es, err = queryEntries(ctx, tx, selectEntry+` WHERE q.id IN (`+in+`) ORDER BY q.next_attempt_at, q.message_id, q.id`, ids...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim due queue rows: %w", err)
	}
	return es, nil
}

// RenewQueueLeases extends the leases of the rows of ids that still hold old
// until the store's clock plus lease.
func (db *DB) RenewQueueLeases(ctx context.Context, ids []int64, old time.Time, lease time.Duration) (time.Time, []int64, error) {
	if len(ids) == 0 || lease <= 0 {
		return time.Time{}, nil, fmt.Errorf("renew queue leases: %d rows and lease %v must be positive", len(ids), lease)
	}
	until := db.now().Add(lease)
	args := []any{nanos(until), nanos(old)}
	for _, id := range ids {
		args = append(args, id)
	}
	in := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
	var renewed []int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		renewed = renewed[:0]
		rows, err := tx.QueryContext(ctx,
			`UPDATE queue SET lease_until = ?
			 WHERE lease_until = ? AND state = 'queued' AND id IN (`+in+`) RETURNING id`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			renewed = append(renewed, id)
		}
		return rows.Err()
	})
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("renew queue leases: %w", err)
	}
	return until, renewed, nil
}

// Record writes the outcomes of claimed rows and, when one of them failed a
// row or noted a delay, the notice; all in one transaction.
func (db *DB) Record(ctx context.Context, at time.Time, outcomes []store.Outcome, notice *store.Acceptance) (int, bool, error) {
	skipped := 0
	noticed := false
	now := nanos(at)
	err := db.write(ctx, func(tx *sql.Tx) error {
		skipped, noticed = 0, false
		noticeDue := false
		for _, o := range outcomes {
			var res sql.Result
			var err error
			if !o.Attempted {
				res, err = tx.ExecContext(ctx,
					`UPDATE queue SET lease_until = 0, updated_at = ?
					 WHERE id = ? AND lease_until = ? AND state = 'queued'`,
					now, o.RowID, nanos(o.Lease))
			} else {
				switch o.State {
				case store.StateQueued, store.StateDelivered, store.StateFailed:
				default:
					return fmt.Errorf("queue row %d: unknown state %q", o.RowID, o.State)
				}
				next := nanos(o.NextAttemptAt)
				res, err = tx.ExecContext(ctx,
					`UPDATE queue SET state = ?, attempts = attempts + 1,
					   next_attempt_at = CASE WHEN ? = 'queued' THEN ? ELSE next_attempt_at END,
					   last_reply = ?, lease_until = 0, updated_at = ?,
					   delay_notified = MAX(delay_notified, ?)
					 WHERE id = ? AND lease_until = ? AND state = 'queued'`,
					o.State, o.State, next, o.LastReply, now, o.DelayNotified, o.RowID, nanos(o.Lease))
			}
			if err != nil {
				return fmt.Errorf("record queue row %d: %w", o.RowID, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if n == 0 {
				skipped++
				continue
			}
			if o.Attempted && (o.State == store.StateFailed || o.DelayNotified) {
				noticeDue = true
			}
			if o.Entry != nil {
				if err := insertEntry(ctx, db.txStmts(ctx, tx), o.Entry.MessageID, now, *o.Entry); err != nil {
					return err
				}
			}
		}
		if notice == nil || !noticeDue {
			return nil
		}
		noticed = true
		return insertNotice(ctx, db.txStmts(ctx, tx), *notice, now)
	})
	if err != nil {
		return 0, false, fmt.Errorf("record delivery outcomes: %w", err)
	}
	return skipped, noticed, nil
}

// insertNotice writes a DSN: its message row, queue rows and entries.
func insertNotice(ctx context.Context, st acceptStmts, a store.Acceptance, now int64) error {
	if a.Message.CreatedAt.IsZero() {
		a.Message.CreatedAt = fromNanos(now)
	}
	if err := insertAcceptance(ctx, st, a, false); err != nil {
		return fmt.Errorf("insert notice %s: %w", a.Message.ID, err)
	}
	return nil
}

// ListQueue returns queue rows joined with their message, oldest first.
func (db *DB) ListQueue(ctx context.Context, f store.QueueFilter) ([]store.QueueEntry, error) {
	var where []string
	var args []any
	if f.State != "" {
		where, args = append(where, "q.state = ?"), append(args, f.State)
	}
	if f.MessageID != "" {
		where, args = append(where, "q.message_id = ?"), append(args, f.MessageID)
	}
	q := selectEntry
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY q.id"
	if f.Limit > 0 {
		q, args = q+" LIMIT ?", append(args, f.Limit)
	}
	es, err := queryEntries(ctx, db.sql, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list queue: %w", err)
	}
	return es, nil
}

// selectorWhere turns sel into a WHERE clause on queued rows.
func selectorWhere(sel store.QueueSelector) (string, []any, error) {
	switch {
	case sel.All:
		return "state = 'queued'", nil, nil
	case sel.MessageID != "" && sel.Recipient != "":
		return "state = 'queued' AND message_id = ? AND recipient = ?", []any{sel.MessageID, sel.Recipient}, nil
	case sel.MessageID != "":
		return "state = 'queued' AND message_id = ?", []any{sel.MessageID}, nil
	}
	return "", nil, errors.New("select a message, or all rows")
}

// RetryNow makes the selected queued rows due at now.
func (db *DB) RetryNow(ctx context.Context, sel store.QueueSelector, now time.Time) (int, error) {
	where, args, err := selectorWhere(sel)
	if err != nil {
		return 0, fmt.Errorf("retry queue rows: %w", err)
	}
	return db.updateQueue(ctx, "retry queue rows",
		`UPDATE queue SET next_attempt_at = ?, updated_at = ? WHERE `+where,
		append([]any{nanos(now), nanos(now)}, args...)...)
}

// Drop marks the selected queued rows failed, without a DSN.
func (db *DB) Drop(ctx context.Context, sel store.QueueSelector, reply string, now time.Time) (int, error) {
	where, args, err := selectorWhere(sel)
	if err != nil {
		return 0, fmt.Errorf("drop queue rows: %w", err)
	}
	return db.updateQueue(ctx, "drop queue rows",
		`UPDATE queue SET state = 'failed', last_reply = ?, lease_until = 0, updated_at = ? WHERE `+where,
		append([]any{reply, nanos(now)}, args...)...)
}

func (db *DB) updateQueue(ctx context.Context, what, q string, args ...any) (int, error) {
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return int(n), nil
}
