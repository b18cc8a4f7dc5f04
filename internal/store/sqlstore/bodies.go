package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"time"

	"mailroom/internal/store"
)

// InsertBody is the statement that stores part $2 of body $1.
const InsertBody = `INSERT INTO bodies (key, part, data, stored_at) VALUES ($1, $2, $3, $4)`

// PutBody stores the body named key, read from r in parts of
// store.BodyPartSize, in one transaction; store.ErrConflict if key exists.
// r is read inside the write transaction, so it should be local (a file
// or memory), not a network peer.
func (db *DB) PutBody(ctx context.Context, key string, r io.Reader) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		at := Nanos(db.Stamp())
		return store.SplitBody(r, func(part int, data []byte) error {
			_, err := tx.ExecContext(ctx, InsertBody, key, part, data, at)
			if db.d.IsUnique(err) {
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
	err := db.sql.QueryRowContext(ctx, `SELECT data FROM bodies WHERE key = $1 AND part = $2`, key, n).Scan(&data)
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

// BodyHeads returns the first max bytes of part 0 of the bodies named
// keys that the database holds, by one query; substr counts bytes of a
// BLOB (SQLite) and of a bytea (PostgreSQL) alike.
func (db *DB) BodyHeads(ctx context.Context, keys []string, max int) (map[string][]byte, error) {
	if len(keys) > store.MaxBodyHeads {
		return nil, fmt.Errorf("read %d body heads: more than %d", len(keys), store.MaxBodyHeads)
	}
	if max < 0 || max > store.BodyPartSize {
		return nil, fmt.Errorf("read body heads of %d bytes: not within 0..%d", max, store.BodyPartSize)
	}
	heads := make(map[string][]byte, len(keys))
	if len(keys) == 0 {
		return heads, nil
	}
	args := make([]any, 0, len(keys)+1)
	args = append(args, max)
	for _, k := range keys {
		args = append(args, k)
	}
	type head struct {
		key  string
		data []byte
	}
	hs, err := QueryAll(ctx, db.sql, func(r *sql.Rows) (head, error) {
		var h head
		return h, r.Scan(&h.key, &h.data)
	}, `SELECT key, substr(data, 1, $1) FROM bodies WHERE part = 0 AND key IN (`+In(2, len(keys))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("read body heads: %w", err)
	}
	for _, h := range hs {
		if h.data == nil {
			h.data = []byte{}
		}
		heads[h.key] = h.data
	}
	return heads, nil
}

// DeleteBodies removes every part of the bodies named keys, in one
// transaction.
func (db *DB) DeleteBodies(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		for len(keys) > 0 {
			n := min(len(keys), maxUnreferenced)
			args := make([]any, n)
			for i, k := range keys[:n] {
				args[i] = k
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM bodies WHERE key IN (`+In(1, n)+`)`, args...); err != nil {
				return err
			}
			keys = keys[n:]
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete bodies: %w", err)
	}
	return nil
}

// BodyKeys calls fn with every body whose key sorts at or after from, in
// key order. The keys are read first and fn runs after, so fn may write.
func (db *DB) BodyKeys(ctx context.Context, from string, fn func(key string, stored time.Time) error) error {
	type entry struct {
		key string
		at  int64
	}
	es, err := QueryAll(ctx, db.sql, func(r *sql.Rows) (entry, error) {
		var e entry
		return e, r.Scan(&e.key, &e.at)
	}, `SELECT key, stored_at FROM bodies WHERE part = 0 AND key >= $1 ORDER BY key`, from)
	if err != nil {
		return fmt.Errorf("list bodies: %w", err)
	}
	for _, e := range es {
		if err := fn(e.key, FromNanos(e.at)); err != nil {
			return err
		}
	}
	return nil
}

// DeleteOrphanBodies removes the bodies stored before cutoff that no
// message names.
func (db *DB) DeleteOrphanBodies(ctx context.Context, cutoff time.Time) (int, error) {
	n, err := db.exec(ctx, db.d.DeleteOrphanBodies, Bound(cutoff))
	if err != nil {
		return 0, fmt.Errorf("delete orphan bodies: %w", err)
	}
	return int(n), nil
}
