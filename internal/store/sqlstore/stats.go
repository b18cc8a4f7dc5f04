package sqlstore

import (
	"context"
	"fmt"

	"mailroom/internal/store"
)

// QueueDepth counts the undelivered queue rows through the queue_due index.
func (db *DB) QueueDepth(ctx context.Context) (store.QueueDepth, error) {
	var d store.QueueDepth
	err := db.sql.QueryRowContext(ctx, `SELECT COUNT(*) FILTER (WHERE attempts = 0), COUNT(*) FILTER (WHERE attempts > 0)
		FROM queue WHERE state = $1`, store.StateQueued).Scan(&d.Queued, &d.Deferred)
	if err != nil {
		return d, fmt.Errorf("count queue: %w", err)
	}
	return d, nil
}
