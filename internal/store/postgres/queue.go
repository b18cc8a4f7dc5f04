package postgres

import (
	"context"
	"fmt"
	"time"

	"mailroom/internal/store"
	"mailroom/internal/store/sqlstore"
)

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
	SELECT ` + sqlstore.EntryCols + ` FROM claimed q JOIN messages m ON m.id = q.message_id
	ORDER BY q.next_attempt_at, q.message_id, q.id`

// ClaimDue leases up to limit rows due at now until the database's clock
// plus lease, oldest due first, rows of one message together.
func (db *DB) ClaimDue(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]store.QueueEntry, error) {
	if limit <= 0 || lease <= 0 {
		return nil, fmt.Errorf("claim due queue rows: limit %d and lease %v must be positive", limit, lease)
	}
	es, err := sqlstore.QueryEntries(ctx, db.sql, claimSQL, sqlstore.Nanos(now), limit, lease.Nanoseconds())
	if err != nil {
		return nil, fmt.Errorf("claim due queue rows: %w", err)
	}
	return es, nil
}
