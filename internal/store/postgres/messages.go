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
			var bt batch
			for _, r := range rows {
				bt.queue(r.Wrap, sqlstore.AcceptSQL[r.Stmt], r.Args...)
			}
			if a.Lease != 0 {
				bt.queue(func(err error) error {
					return fmt.Errorf("clear the reservations of lease %d: %w", a.Lease, err)
				}, `UPDATE limit_leases SET recipients = 0 WHERE id = $1`, a.Lease)
			}
			return bt.run(ctx, tx)
		})
	}
	if err != nil {
		return fmt.Errorf("accept message %s: %w", a.Message.ID, err)
	}
	return nil
}

// batch is a pgx.Batch whose statements each know how to describe their
// error.
type batch struct {
	b     pgx.Batch
	wraps []func(error) error
}

// queue adds a statement; wrap turns its error into the one returned.
func (bt *batch) queue(wrap func(error) error, sql string, args ...any) {
	bt.b.Queue(sql, args...)
	bt.wraps = append(bt.wraps, wrap)
}

// run sends the batch in tx and returns the first statement's error, wrapped.
func (bt *batch) run(ctx context.Context, tx pgx.Tx) error {
	br := tx.SendBatch(ctx, &bt.b)
	for _, wrap := range bt.wraps {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return wrap(err)
		}
	}
	return br.Close()
}
