package sqlstore

import (
	"context"
	"fmt"

	"mailroom/internal/store"
)

// QueueDepth counts the undelivered queue rows through the queue_due
// index, by attempts (a few distinct values: the retry schedule's length),
// and lets store.ShownState split them into queued and deferred, as the
// console shows each row.
func (db *DB) QueueDepth(ctx context.Context) (store.QueueDepth, error) {
	var d store.QueueDepth
	rows, err := db.sql.QueryContext(ctx, `SELECT attempts, COUNT(*) FROM queue WHERE state = $1 GROUP BY attempts`, store.StateQueued)
	if err != nil {
		return d, fmt.Errorf("count queue: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var attempts int
		var n int64
		if err := rows.Scan(&attempts, &n); err != nil {
			return d, fmt.Errorf("count queue: %w", err)
		}
		switch store.ShownState(store.StateQueued, attempts) {
		case store.StateDeferred:
			d.Deferred += n
		default:
			d.Queued += n
		}
	}
	if err := rows.Err(); err != nil {
		return d, fmt.Errorf("count queue: %w", err)
	}
	return d, nil
}
