package postgres

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"

	"mailroom/internal/store"
)

// PutBody stores the body named key, read from r in parts of
// store.BodyPartSize, in one transaction; store.ErrConflict if key exists.
func (db *DB) PutBody(ctx context.Context, key string, r io.Reader) error {
	err := db.write(ctx, func(tx pgx.Tx) error {
		at := nanos(db.now())
		return store.SplitBody(r, func(part int, data []byte) error {
			_, err := tx.Exec(ctx, insertBodySQL, key, part, data, at)
			if isUnique(err) {
				return store.ErrConflict
			}
			if err != nil {
				return fmt.Errorf("insert part %d: %w", part, err)
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("store body %s: %w", key, err)
	}
	return nil
}

// BodyPart returns part n of the body named key; store.ErrNotFound if
// there is no such part.
func (db *DB) BodyPart(ctx context.Context, key string, n int) ([]byte, error) {
	var data []byte
	err := db.pool.QueryRow(ctx, `SELECT data FROM bodies WHERE key = $1 AND part = $2`, key, n).Scan(&data)
	if noRows(err) {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read body %s part %d: %w", key, n, err)
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}

// DeleteBodies removes every part of the bodies named keys.
func (db *DB) DeleteBodies(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	if _, err := db.pool.Exec(ctx, `DELETE FROM bodies WHERE key = ANY($1)`, keys); err != nil {
		return fmt.Errorf("delete bodies: %w", err)
	}
	return nil
}

// BodyKeys calls fn with every body whose key sorts at or after from, in
// key order. The keys are read first and fn runs after, so fn may write.
func (db *DB) BodyKeys(ctx context.Context, from string, fn func(key string, stored time.Time) error) error {
	rows, err := db.pool.Query(ctx, `SELECT key, stored_at FROM bodies WHERE part = 0 AND key >= $1 ORDER BY key`, from)
	if err != nil {
		return fmt.Errorf("list bodies: %w", err)
	}
	type entry struct {
		key string
		at  int64
	}
	es, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (entry, error) {
		var e entry
		return e, r.Scan(&e.key, &e.at)
	})
	if err != nil {
		return fmt.Errorf("list bodies: %w", err)
	}
	for _, e := range es {
		if err := fn(e.key, fromNanos(e.at)); err != nil {
			return err
		}
	}
	return nil
}

// DeleteOrphanBodies removes the bodies stored before cutoff that no
// message names.
func (db *DB) DeleteOrphanBodies(ctx context.Context, cutoff time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM bodies b WHERE b.stored_at < $1
		AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.blob = b.key OR m.delivery_blob = b.key)`, bound(cutoff))
	if err != nil {
		return 0, fmt.Errorf("delete orphan bodies: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
