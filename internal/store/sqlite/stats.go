package sqlite

import (
	"context"
	"fmt"

	"mailroom/internal/store"
)

// QueueDepth counts the undelivered queue rows through the queue_due index.
func (db *DB) QueueDepth(ctx context.Context) (store.QueueDepth, error) {
	var d store.QueueDepth
	err := db.sql.QueryRowContext(ctx, `SELECT COALESCE(SUM(attempts = 0), 0), COALESCE(SUM(attempts > 0), 0)
		FROM queue WHERE state = ?`, store.StateQueued).Scan(&d.Queued, &d.Deferred)
	if err != nil {
		return d, fmt.Errorf("count queue: %w", err)
	}
	return d, nil
}
