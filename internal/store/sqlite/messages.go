package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"mailroom/internal/store"
	"mailroom/internal/store/sqlstore"
)

// Accept writes the rows of a (sqlstore.AcceptanceRows, a zero
// Message.CreatedAt set to the current time) in one transaction; all of it
// is durable when Accept returns nil.
//
// Concurrent calls share transactions (group commit): while one commits,
// the next ones gather and commit together, so N concurrent acceptances
// cost one fsync of the WAL, and each call still returns only once its own
// rows are durable. A batch that fails is retried one acceptance at a time,
// so one bad acceptance fails alone. If ctx ends first, Accept returns its
// error, and the rows may or may not be written.
func (db *DB) Accept(ctx context.Context, a store.Acceptance) error {
	if a.Message.CreatedAt.IsZero() {
		a.Message.CreatedAt = db.Stamp()
	}
	if err := db.accepts.Do(ctx, a); err != nil {
		return fmt.Errorf("accept message %s: %w", a.Message.ID, err)
	}
	return nil
}

// AcceptStats returns how many transactions committed acceptances and
// how many acceptances they held.
func (db *DB) AcceptStats() (commits, accepted int64) { return db.accepts.Stats() }

// prepareAccept prepares sqlstore.AcceptSQL on the pool, once at Open
// (pure-Go SQLite parses SQL slowly, and acceptance is the hot path), with
// positional parameters.
func (db *DB) prepareAccept(ctx context.Context) error {
	for i, q := range sqlstore.AcceptSQL {
		st, err := db.sql.PrepareContext(ctx, positional(q))
		if err != nil {
			return fmt.Errorf("prepare acceptance statement %d: %w", i, err)
		}
		db.acceptStmts[i] = st
	}
	return nil
}

// acceptBatch writes a batch of acceptances in one transaction, each as
// sqlstore.AcceptanceRows, with the prepared statements.
//
// Its context cannot be cancelled, on purpose: with a cancellable context
// the driver starts a goroutine per statement to watch it (and
// database/sql one per transaction), which at one message per commit cost
// more scheduling than the statements themselves. Nothing here waits
// without bound: the lock wait is busy_timeout, the rest is local I/O.
func (db *DB) acceptBatch(batch []store.Acceptance) error {
	ctx := context.Background()
	return db.write(ctx, func(tx *sql.Tx) error {
		var st [len(sqlstore.AcceptSQL)]*sql.Stmt
		for i, p := range db.acceptStmts {
			st[i] = tx.StmtContext(ctx, p)
		}
		for _, a := range batch {
			rows, err := db.AcceptanceRows(a, true)
			if err != nil {
				return err
			}
			for _, r := range rows {
				if _, err := st[r.Stmt].ExecContext(ctx, r.Args...); err != nil {
					return r.Wrap(err)
				}
			}
		}
		return nil
	})
}
