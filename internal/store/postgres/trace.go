package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"mailroom/internal/store"
	"mailroom/internal/store/sqlstore"
)

// AppendTrace writes events in one transaction, sent as one batch.
func (db *DB) AppendTrace(ctx context.Context, events []store.TraceEvent) error {
	if len(events) == 0 {
		return nil
	}
	err := db.writeAsync(ctx, func(tx pgx.Tx) error { // as on SQLite: no flush of its own
		var b pgx.Batch
		for i := range events {
			b.Queue(sqlstore.InsertTrace+` RETURNING id`, db.TraceArgs(&events[i])...)
		}
		br := tx.SendBatch(ctx, &b)
		for i := range events {
			if err := br.QueryRow().Scan(&events[i].ID); err != nil {
				br.Close()
				return err
			}
		}
		if err := br.Close(); err != nil {
			return err
		}
		// The attempts' addresses name their ids: a second batch.
		var ab pgx.Batch
		for _, e := range events {
			for _, args := range sqlstore.TraceAddresses(e) {
				ab.Queue(sqlstore.InsertTraceAddress, args...)
			}
		}
		if ab.Len() == 0 {
			return nil
		}
		return tx.SendBatch(ctx, &ab).Close()
	})
	if err != nil {
		return fmt.Errorf("append %d trace events: %w", len(events), err)
	}
	return nil
}
