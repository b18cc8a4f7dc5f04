package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"mailroom/internal/store"
)

// EntryCols is the column list ScanEntry reads, of a queue row q joined
// with its message m.
const EntryCols = `q.id, q.message_id, q.recipient, q.state, q.attempts, q.next_attempt_at,
	q.last_reply, q.updated_at, q.lease_until, q.delay_notified,
	m.envelope_from, m.message_id, m.delivery_blob, m.size, m.created_at`

// ScanEntry reads one row of EntryCols.
func ScanEntry(row interface{ Scan(...any) error }) (store.QueueEntry, error) {
	var e store.QueueEntry
	var next, updated, lease, accepted int64
	err := row.Scan(&e.ID, &e.MessageID, &e.Recipient, &e.State, &e.Attempts, &next,
		&e.LastReply, &updated, &lease, &e.DelayNotified,
		&e.EnvelopeFrom, &e.HeaderID, &e.DeliveryBlob, &e.Size, &accepted)
	if err != nil {
		return e, err
	}
	e.NextAttemptAt = FromNanos(next)
	e.UpdatedAt = FromNanos(updated)
	if lease != 0 {
		e.LeaseUntil = FromNanos(lease)
	}
	e.AcceptedAt = FromNanos(accepted)
	return e, nil
}

// QueryEntries runs a query of EntryCols rows on q.
func QueryEntries(ctx context.Context, q Querier, query string, args ...any) ([]store.QueueEntry, error) {
	return QueryAll(ctx, q, func(r *sql.Rows) (store.QueueEntry, error) { return ScanEntry(r) }, query, args...)
}

// The statements of Record: a row given back unattempted, and an
// attempt's outcome. Each changes the row only while the claim's lease
// is still its own.
const (
	releaseRow = `UPDATE queue SET lease_until = 0, updated_at = $1
		WHERE id = $2 AND lease_until = $3 AND state = 'queued'`
	recordRow = `UPDATE queue SET state = CAST($1 AS TEXT), attempts = attempts + 1,
		next_attempt_at = CASE WHEN CAST($1 AS TEXT) = 'queued' THEN CAST($2 AS BIGINT) ELSE next_attempt_at END,
		last_reply = $3, lease_until = 0, updated_at = $4,
		delay_notified = CASE WHEN $5 THEN TRUE ELSE delay_notified END
		WHERE id = $6 AND lease_until = $7 AND state = 'queued'`
)

// Clock returns the time queue leases are set and compared on, in unix
// nanoseconds: the database's (Dialect.Clock), read in tx, or the store's
// own.
func (db *DB) Clock(ctx context.Context, tx *sql.Tx) (int64, error) {
	if db.d.Clock == "" {
		return Nanos(db.Stamp()), nil
	}
	var now int64
	err := tx.QueryRowContext(ctx, `SELECT `+db.d.Clock).Scan(&now)
	return now, err
}

// RenewQueueLeases extends the leases of the rows of ids that still hold old
// until the lease clock plus lease.
func (db *DB) RenewQueueLeases(ctx context.Context, ids []int64, old time.Time, lease time.Duration) (time.Time, []int64, error) {
	if len(ids) == 0 || lease <= 0 {
		return time.Time{}, nil, fmt.Errorf("renew queue leases: %d rows and lease %v must be positive", len(ids), lease)
	}
	var until int64
	var renewed []int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		now, err := db.Clock(ctx, tx)
		if err != nil {
			return err
		}
		until = now + lease.Nanoseconds()
		args := []any{until, Nanos(old)}
		for _, id := range ids {
			args = append(args, id)
		}
		renewed, err = QueryAll(ctx, tx, func(r *sql.Rows) (int64, error) {
			var id int64
			return id, r.Scan(&id)
		}, `UPDATE queue SET lease_until = $1
			WHERE lease_until = $2 AND state = 'queued' AND id IN (`+In(3, len(ids))+`) RETURNING id`, args...)
		return err
	})
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("renew queue leases: %w", err)
	}
	slices.Sort(renewed)
	return FromNanos(until), renewed, nil
}

// Record writes the outcomes of claimed rows and, when one of them failed a
// row or noted a delay, the notice; all in one transaction.
func (db *DB) Record(ctx context.Context, at time.Time, outcomes []store.Outcome, notice *store.Acceptance) (int, bool, error) {
	skipped, noticed := 0, false
	now := Nanos(at)
	err := db.write(ctx, func(tx *sql.Tx) error {
		skipped, noticed = 0, false
		noticeDue := false
		var entries []store.FolderEntry // written last, all together: EntryRows orders their locks
		for _, o := range outcomes {
			n, err := recordOutcome(ctx, tx, now, o)
			if err != nil {
				return fmt.Errorf("record queue row %d: %w", o.RowID, err)
			}
			if n == 0 {
				skipped++
				continue
			}
			if o.Attempted && (o.State == store.StateFailed || o.DelayNotified) {
				noticeDue = true
			}
			if o.Entry != nil {
				entries = append(entries, *o.Entry)
			}
		}
		if notice != nil && noticeDue {
			noticed = true
			n := *notice
			for _, e := range n.Entries {
				if e.MessageID == "" {
					e.MessageID = n.Message.ID
				}
				entries = append(entries, e)
			}
			n.Entries = nil
			if err := db.insertNotice(ctx, tx, n, now); err != nil {
				return err
			}
		}
		return execRows(ctx, tx, db.EntryRows("", now, entries))
	})
	if err != nil {
		return 0, false, fmt.Errorf("record delivery outcomes: %w", err)
	}
	return skipped, noticed, nil
}

// recordOutcome writes one outcome and returns how many rows it changed
// (0 when the row no longer holds the claim's lease).
func recordOutcome(ctx context.Context, tx *sql.Tx, now int64, o store.Outcome) (int64, error) {
	var res sql.Result
	var err error
	if !o.Attempted {
		res, err = tx.ExecContext(ctx, releaseRow, now, o.RowID, Nanos(o.Lease))
	} else {
		switch o.State {
		case store.StateQueued, store.StateDelivered, store.StateFailed:
		default:
			return 0, fmt.Errorf("unknown state %q", o.State)
		}
		res, err = tx.ExecContext(ctx, recordRow,
			o.State, Nanos(o.NextAttemptAt), o.LastReply, now, o.DelayNotified, o.RowID, Nanos(o.Lease))
	}
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// insertNotice writes a DSN: its message row, queue rows and entries
// (Record writes them with the outcomes' instead).
func (db *DB) insertNotice(ctx context.Context, tx *sql.Tx, a store.Acceptance, now int64) error {
	if a.Message.CreatedAt.IsZero() {
		a.Message.CreatedAt = FromNanos(now)
	}
	rows, err := db.AcceptanceRows(a, false)
	if err == nil {
		err = execRows(ctx, tx, rows)
	}
	if err != nil {
		return fmt.Errorf("insert notice %s: %w", a.Message.ID, err)
	}
	return nil
}

// ListQueue returns queue rows joined with their message, oldest first.
func (db *DB) ListQueue(ctx context.Context, f store.QueueFilter) ([]store.QueueEntry, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.State != "" {
		where = append(where, "q.state = "+arg(f.State))
	}
	if f.MessageID != "" {
		where = append(where, "q.message_id = "+arg(f.MessageID))
	}
	q := `SELECT ` + EntryCols + ` FROM queue q JOIN messages m ON m.id = q.message_id`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY q.id"
	if f.Limit > 0 {
		q += " LIMIT " + arg(f.Limit)
	}
	es, err := QueryEntries(ctx, db.sql, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list queue: %w", err)
	}
	return es, nil
}

// selectorWhere turns sel into a WHERE clause on queued rows whose
// parameters are numbered from first.
func selectorWhere(sel store.QueueSelector, first int) (string, []any, error) {
	switch {
	case sel.All:
		return "state = 'queued'", nil, nil
	case sel.MessageID != "" && sel.Recipient != "":
		return "state = 'queued' AND message_id = $" + strconv.Itoa(first) + " AND recipient = $" + strconv.Itoa(first+1),
			[]any{sel.MessageID, sel.Recipient}, nil
	case sel.MessageID != "":
		return "state = 'queued' AND message_id = $" + strconv.Itoa(first), []any{sel.MessageID}, nil
	}
	return "", nil, errors.New("select a message, or all rows")
}

// RetryNow makes the selected queued rows due at now.
func (db *DB) RetryNow(ctx context.Context, sel store.QueueSelector, now time.Time) (int, error) {
	where, args, err := selectorWhere(sel, 3)
	if err != nil {
		return 0, fmt.Errorf("retry queue rows: %w", err)
	}
	n, err := db.exec(ctx, `UPDATE queue SET next_attempt_at = $1, updated_at = $2 WHERE `+where,
		append([]any{Nanos(now), Nanos(now)}, args...)...)
	if err != nil {
		return 0, fmt.Errorf("retry queue rows: %w", err)
	}
	return int(n), nil
}

// Drop marks the selected queued rows failed, without a DSN.
func (db *DB) Drop(ctx context.Context, sel store.QueueSelector, reply string, now time.Time) (int, error) {
	where, args, err := selectorWhere(sel, 3)
	if err != nil {
		return 0, fmt.Errorf("drop queue rows: %w", err)
	}
	n, err := db.exec(ctx, `UPDATE queue SET state = 'failed', last_reply = $1, lease_until = 0, updated_at = $2 WHERE `+where,
		append([]any{reply, Nanos(now)}, args...)...)
	if err != nil {
		return 0, fmt.Errorf("drop queue rows: %w", err)
	}
	return int(n), nil
}
