package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"mailroom/internal/store"
	"mailroom/internal/store/sqlstore"
)

// ClaimDue leases up to limit rows due at now until the store's clock
// (db.Now) plus lease, in one IMMEDIATE transaction, so that two claimers
// (two processes on one file) never get the same row.
func (db *DB) ClaimDue(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]store.QueueEntry, error) {
	if limit <= 0 || lease <= 0 {
		return nil, fmt.Errorf("claim due queue rows: limit %d and lease %v must be positive", limit, lease)
	}
	clock := db.Stamp()
	at, held, until := sqlstore.Nanos(now), sqlstore.Nanos(clock), sqlstore.Nanos(clock.Add(lease))
	var es []store.QueueEntry
	err := db.write(ctx, func(tx *sql.Tx) error {
		ids, err := sqlstore.QueryAll(ctx, tx, func(r *sql.Rows) (any, error) {
			var id int64
			return id, r.Scan(&id)
		}, `SELECT id FROM queue
			WHERE state = 'queued' AND next_attempt_at <= $1 AND lease_until <= $2
			ORDER BY next_attempt_at, message_id, id LIMIT $3`, at, held, limit)
		if err != nil || len(ids) == 0 {
			return err
		}
		in := sqlstore.In(2, len(ids))
		if _, err := tx.ExecContext(ctx, `UPDATE queue SET lease_until = $1 WHERE id IN (`+in+`)`, append([]any{until}, ids...)...); err != nil {
			return err
		}
		es, err = sqlstore.QueryEntries(ctx, tx, `SELECT `+sqlstore.EntryCols+` FROM queue q JOIN messages m ON m.id = q.message_id
			WHERE q.id IN (`+sqlstore.In(1, len(ids))+`) ORDER BY q.next_attempt_at, q.message_id, q.id`, ids...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim due queue rows: %w", err)
	}
	return es, nil
}
