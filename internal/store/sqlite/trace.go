package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"

	"mailroom/internal/store"
	"mailroom/internal/store/sqlstore"
)

// AppendTrace writes events in one transaction (one fsync for the batch).
func (db *DB) AppendTrace(ctx context.Context, events []store.TraceEvent) error {
	if len(events) == 0 {
		return nil
	}
	err := db.writeTrace(ctx, func(tx *sql.Tx) error {
		ctx := context.WithoutCancel(ctx) // no watcher goroutine per statement (see acceptBatch)
		st, err := tx.PrepareContext(ctx, positional(sqlstore.InsertTrace))
		if err != nil {
			return err
		}
		defer st.Close()
		var addrs *sql.Stmt // prepared at the first attempt
		for i := range events {
			res, err := st.ExecContext(ctx, db.TraceArgs(&events[i])...)
			if err != nil {
				return err
			}
			if events[i].ID, err = res.LastInsertId(); err != nil {
				return err
			}
			for _, args := range sqlstore.TraceAddresses(events[i]) {
				if addrs == nil {
					if addrs, err = tx.PrepareContext(ctx, positional(sqlstore.InsertTraceAddress)); err != nil {
						return err
					}
					defer addrs.Close()
				}
				if _, err := addrs.ExecContext(ctx, args...); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("append %d trace events: %w", len(events), err)
	}
	return nil
}

// writeTrace runs fn in a write transaction on the trace connection,
// whose commits do not fsync (synchronous=NORMAL): trace events become
// durable with the next acceptance's commit, whose fsync of the WAL covers
// every frame before its own, so appending the trace costs no fsync of its
// own and holds the write lock only while it inserts.
func (db *DB) writeTrace(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := db.lockWrites(ctx); err != nil {
		return err
	}
	defer db.unlockWrites()
	if db.traceConn == nil {
		c, err := db.sql.Conn(ctx)
		if err != nil {
			return err
		}
		if _, err := c.ExecContext(ctx, "PRAGMA synchronous=NORMAL"); err != nil {
			c.Close()
			return err
		}
		db.traceConn = c
	}
	tx, err := db.traceConn.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		// Discard the connection rather than hand it back to the pool: it
		// is synchronous=NORMAL, and an acceptance committing on it would
		// not fsync. The next call opens another.
		_ = db.traceConn.Raw(func(any) error { return driver.ErrBadConn })
		_ = db.traceConn.Close()
		db.traceConn = nil
		return err
	}
	return commitWith(tx, fn)
}
