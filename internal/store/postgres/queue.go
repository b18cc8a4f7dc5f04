package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"mailroom/internal/store"
)

// entryCols is the column list scanEntry reads, of a queue row q joined
// with its message m.
const entryCols = `q.id, q.message_id, q.recipient, q.state, q.attempts, q.next_attempt_at,
	q.last_reply, q.updated_at, q.lease_until, q.delay_notified,
	m.envelope_from, m.message_id, m.delivery_blob, m.size, m.created_at`

// scanEntry reads one row of entryCols.
func scanEntry(row pgx.CollectableRow) (store.QueueEntry, error) {
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

// claimSQL leases due rows in one statement. FOR UPDATE SKIP LOCKED passes
// over rows another claimer is leasing at that moment; a row whose lease
// another claimer has just committed is re-checked against the WHERE
// clause (READ COMMITTED re-evaluates locked rows) and dropped. So
// concurrent claimers, on any number of nodes, never get the same row.
// Leases are read and set on the database's clock, read once (clock), so
// the rows of one claim share one lease whatever the nodes' clocks say.
const claimSQL = `WITH clock AS MATERIALIZED (SELECT ` + dbNow + ` AS now),
	due AS (
		SELECT id FROM queue, clock
		WHERE state = 'queued' AND next_attempt_at <= $1 AND lease_until <= clock.now
		ORDER BY next_attempt_at, message_id, id
		LIMIT $2
		FOR UPDATE OF queue SKIP LOCKED
	), claimed AS (
		UPDATE queue q SET lease_until = clock.now + $3 FROM due, clock WHERE q.id = due.id
		RETURNING q.*
	)
	SELECT ` + entryCols + ` FROM claimed q JOIN messages m ON m.id = q.message_id
	ORDER BY q.next_attempt_at, q.message_id, q.id`

// ClaimDue leases up to limit rows due at now until the database's clock
// plus lease, oldest due first, rows of one message together.
func (db *DB) ClaimDue(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]store.QueueEntry, error) {
	if limit <= 0 || lease <= 0 {
		return nil, fmt.Errorf("claim due queue rows: limit %d and lease %v must be positive", limit, lease)
	}
	rows, err := db.pool.Query(ctx, claimSQL, nanos(now), limit, lease.Nanoseconds())
	if err != nil {
		return nil, fmt.Errorf("claim due queue rows: %w", err)
	}
	es, err := collect(rows, scanEntry)
	if err != nil {
		return nil, fmt.Errorf("claim due queue rows: %w", err)
	}
	return es, nil
}

// RenewQueueLeases extends the leases of the rows of ids that still hold old
// until the database's clock plus lease.
func (db *DB) RenewQueueLeases(ctx context.Context, ids []int64, old time.Time, lease time.Duration) (time.Time, []int64, error) {
	if len(ids) == 0 || lease <= 0 {
		return time.Time{}, nil, fmt.Errorf("renew queue leases: %d rows and lease %v must be positive", len(ids), lease)
	}
	var until int64
	var renewed []int64
	err := db.pool.QueryRow(ctx, `WITH clock AS MATERIALIZED (SELECT `+dbNow+` AS now),
		renewed AS (
			UPDATE queue SET lease_until = clock.now + $3 FROM clock
			WHERE id = ANY($1) AND lease_until = $2 AND state = 'queued'
			RETURNING id
		)
		SELECT clock.now + $3, COALESCE((SELECT array_agg(id ORDER BY id) FROM renewed), '{}') FROM clock`,
		ids, nanos(old), lease.Nanoseconds()).Scan(&until, &renewed)
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("renew queue leases: %w", err)
	}
	return fromNanos(until), renewed, nil
}

// Record writes the outcomes of claimed rows and, when one of them failed a
// row or noted a delay, the notice; all in one transaction.
func (db *DB) Record(ctx context.Context, at time.Time, outcomes []store.Outcome, notice *store.Acceptance) (int, bool, error) {
	skipped := 0
	noticed := false
	now := nanos(at)
	err := db.write(ctx, func(tx pgx.Tx) error {
		skipped, noticed = 0, false
		noticeDue := false
		for _, o := range outcomes {
			var n int64
			if !o.Attempted {
				tag, err := tx.Exec(ctx,
					`UPDATE queue SET lease_until = 0, updated_at = $1
					 WHERE id = $2 AND lease_until = $3 AND state = 'queued'`,
					now, o.RowID, nanos(o.Lease))
				if err != nil {
					return fmt.Errorf("record queue row %d: %w", o.RowID, err)
				}
				n = tag.RowsAffected()
			} else {
				switch o.State {
				case store.StateQueued, store.StateDelivered, store.StateFailed:
				default:
					return fmt.Errorf("queue row %d: unknown state %q", o.RowID, o.State)
				}
				tag, err := tx.Exec(ctx,
					`UPDATE queue SET state = $1::text, attempts = attempts + 1,
					   next_attempt_at = CASE WHEN $1::text = 'queued' THEN $2::bigint ELSE next_attempt_at END,
					   last_reply = $3, lease_until = 0, updated_at = $4,
					   delay_notified = delay_notified OR $5::boolean
					 WHERE id = $6 AND lease_until = $7 AND state = 'queued'`,
					o.State, nanos(o.NextAttemptAt), o.LastReply, now, o.DelayNotified, o.RowID, nanos(o.Lease))
				if err != nil {
					return fmt.Errorf("record queue row %d: %w", o.RowID, err)
				}
				n = tag.RowsAffected()
			}
			if n == 0 {
				skipped++
				continue
			}
			if o.Attempted && (o.State == store.StateFailed || o.DelayNotified) {
				noticeDue = true
			}
			if o.Entry != nil {
				var bt batch
				queueEntry(&bt, o.Entry.MessageID, now, *o.Entry)
				if err := bt.run(ctx, tx); err != nil {
					return err
				}
			}
		}
		if notice == nil || !noticeDue {
			return nil
		}
		noticed = true
		return insertNotice(ctx, tx, *notice, now)
	})
	if err != nil {
		return 0, false, fmt.Errorf("record delivery outcomes: %w", err)
	}
	return skipped, noticed, nil
}

// insertNotice writes a DSN: its message row, queue rows and entries.
func insertNotice(ctx context.Context, tx pgx.Tx, a store.Acceptance, now int64) error {
	if a.Message.CreatedAt.IsZero() {
		a.Message.CreatedAt = fromNanos(now)
	}
	if err := insertAcceptance(ctx, tx, a, false); err != nil {
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
	q := `SELECT ` + entryCols + ` FROM queue q JOIN messages m ON m.id = q.message_id`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY q.id"
	if f.Limit > 0 {
		q += " LIMIT " + arg(f.Limit)
	}
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list queue: %w", err)
	}
	es, err := collect(rows, scanEntry)
	if err != nil {
		return nil, fmt.Errorf("list queue: %w", err)
	}
	return es, nil
}

// selectorWhere turns sel into a WHERE clause on queued rows whose
// parameters are numbered from first.
func selectorWhere(sel store.QueueSelector, first int) (string, []any, error) {
	p := func(i int) string { return "$" + strconv.Itoa(first+i) }
	switch {
	case sel.All:
		return "state = 'queued'", nil, nil
	case sel.MessageID != "" && sel.Recipient != "":
		return "state = 'queued' AND message_id = " + p(0) + " AND recipient = " + p(1), []any{sel.MessageID, sel.Recipient}, nil
	case sel.MessageID != "":
		return "state = 'queued' AND message_id = " + p(0), []any{sel.MessageID}, nil
	}
	return "", nil, errors.New("select a message, or all rows")
}

// RetryNow makes the selected queued rows due at now.
func (db *DB) RetryNow(ctx context.Context, sel store.QueueSelector, now time.Time) (int, error) {
	where, args, err := selectorWhere(sel, 3)
	if err != nil {
		return 0, fmt.Errorf("retry queue rows: %w", err)
	}
	return db.updateQueue(ctx, "retry queue rows",
		`UPDATE queue SET next_attempt_at = $1, updated_at = $2 WHERE `+where,
		append([]any{nanos(now), nanos(now)}, args...)...)
}

// Drop marks the selected queued rows failed, without a DSN.
func (db *DB) Drop(ctx context.Context, sel store.QueueSelector, reply string, now time.Time) (int, error) {
	where, args, err := selectorWhere(sel, 3)
	if err != nil {
		return 0, fmt.Errorf("drop queue rows: %w", err)
	}
	return db.updateQueue(ctx, "drop queue rows",
		`UPDATE queue SET state = 'failed', last_reply = $1, lease_until = 0, updated_at = $2 WHERE `+where,
		append([]any{reply, nanos(now)}, args...)...)
}

// updateQueue runs one UPDATE of queue rows and returns how many it changed.
func (db *DB) updateQueue(ctx context.Context, what, q string, args ...any) (int, error) {
	tag, err := db.pool.Exec(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return int(tag.RowsAffected()), nil
}
