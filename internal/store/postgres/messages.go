package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"mailroom/internal/store"
	"mailroom/internal/store/sqlstore"
)

// Accept writes the rows of a (sqlstore.AcceptanceRows, a zero
// Message.CreatedAt set to the current time) and clears the reservations
// of its lease, in one transaction; all of it is committed when Accept
// returns nil.
//
// Each call is its own transaction, sent as one batch (one round trip
// before the commit). Unlike store/sqlite there is no group commit:
// PostgreSQL already lets concurrent transactions share a WAL flush
// (commit_delay and commit_siblings tune it on the server).
func (db *DB) Accept(ctx context.Context, a store.Acceptance) error {
	if a.Message.CreatedAt.IsZero() {
		a.Message.CreatedAt = db.Stamp()
	}
	rows, err := db.AcceptanceRows(a, true)
	if err == nil {
		err = db.write(ctx, func(tx pgx.Tx) error {
			var b pgx.Batch
			wraps := make([]func(error) error, 0, len(rows)+1)
			for _, r := range rows {
				b.Queue(sqlstore.AcceptSQL[r.Stmt], r.Args...)
				wraps = append(wraps, r.Wrap)
			}
			if a.Lease != 0 {
				b.Queue(`UPDATE limit_leases SET recipients = 0 WHERE id = $1`, a.Lease)
				wraps = append(wraps, func(err error) error {
					return fmt.Errorf("clear the reservations of lease %d: %w", a.Lease, err)
				})
			}
			br := tx.SendBatch(ctx, &b)
			for _, wrap := range wraps {
				if _, err := br.Exec(); err != nil {
					_ = br.Close()
					return wrap(err)
				}
			}
			return br.Close()
		})
	}
	if err != nil {
		return fmt.Errorf("accept message %s: %w", a.Message.ID, err)
	}
	return nil
}
