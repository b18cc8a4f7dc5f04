package postgres

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"

	"mailroom/internal/store/sqlstore"
)

// The ACME account, certificates and locks of a cluster (migration 0012),
// for internal/acme's certmagic.Storage. Keys are slash-separated paths;
// a key's "directory" is every key under key + "/".

// MaxACMEKey bounds a key's length and MaxACMEValue a value's size: certmagic
// stores PEM certificates, keys and small JSON documents.
const (
	MaxACMEKey   = 1024
	MaxACMEValue = 1 << 20
)

// PutACME stores value at key, replacing any value there.
func (db *DB) PutACME(ctx context.Context, key string, value []byte) error {
	if len(key) == 0 || len(key) > MaxACMEKey || len(value) > MaxACMEValue {
		return fmt.Errorf("store acme key %.64q (%d bytes): key or value too long", key, len(value))
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO acme_storage (key, value, modified) VALUES ($1, $2, `+dbNow+`)
		ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, modified = EXCLUDED.modified`, key, value)
	if err != nil {
		return fmt.Errorf("store acme key %q: %w", key, err)
	}
	return nil
}

// GetACME returns the value at key and when it was stored; an error
// matching fs.ErrNotExist if there is none.
func (db *DB) GetACME(ctx context.Context, key string) ([]byte, time.Time, error) {
	var value []byte
	var modified int64
	err := db.pool.QueryRow(ctx, `SELECT value, modified FROM acme_storage WHERE key = $1`, key).Scan(&value, &modified)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, time.Time{}, fmt.Errorf("load acme key %q: %w", key, fs.ErrNotExist)
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("load acme key %q: %w", key, err)
	}
	return value, sqlstore.FromNanos(modified), nil
}

// StatACME returns the size and time of the value at key; found is false
// if there is none.
func (db *DB) StatACME(ctx context.Context, key string) (size int64, modified time.Time, found bool, err error) {
	var mod int64
	err = db.pool.QueryRow(ctx, `SELECT length(value), modified FROM acme_storage WHERE key = $1`, key).Scan(&size, &mod)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, time.Time{}, false, nil
	}
	if err != nil {
		return 0, time.Time{}, false, fmt.Errorf("stat acme key %q: %w", key, err)
	}
	return size, sqlstore.FromNanos(mod), true, nil
}

// DeleteACME deletes key and every key under key + "/"; deleting what is
// not there is not an error.
func (db *DB) DeleteACME(ctx context.Context, key string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM acme_storage WHERE key = $1 OR starts_with(key, $1 || '/')`, key); err != nil {
		return fmt.Errorf("delete acme key %q: %w", key, err)
	}
	return nil
}

// maxACMEKeys bounds a listing: a node holds a few keys per name.
const maxACMEKeys = 100000

// ACMEKeys returns, in byte order, the keys under prefix + "/" (every key
// when prefix is "").
func (db *DB) ACMEKeys(ctx context.Context, prefix string) ([]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT key FROM acme_storage WHERE $1 = '' OR starts_with(key, $1 || '/') ORDER BY key LIMIT $2`,
		prefix, maxACMEKeys)
	if err != nil {
		return nil, fmt.Errorf("list acme keys under %q: %w", prefix, err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list acme keys under %q: %w", prefix, err)
	}
	return keys, nil
}

// TryLockACME takes the lock name for owner until ttl from now (the
// database's clock) if no one holds it or its holder's time has run out;
// it reports whether owner now holds it.
func (db *DB) TryLockACME(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	err := db.pool.QueryRow(ctx, `INSERT INTO acme_locks (name, owner, expires) VALUES ($1, $2, `+dbNow+` + $3)
		ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, expires = EXCLUDED.expires
		WHERE acme_locks.expires <= `+dbNow+`
		RETURNING 1`, name, owner, ttl.Nanoseconds()).Scan(new(int))
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("lock acme %q: %w", name, err)
	}
	return true, nil
}

// RefreshLockACME pushes the expiry of owner's lock name to ttl from now;
// it reports false if owner no longer holds it (it ran out and another
// took it).
func (db *DB) RefreshLockACME(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE acme_locks SET expires = `+dbNow+` + $3 WHERE name = $1 AND owner = $2`,
		name, owner, ttl.Nanoseconds())
	if err != nil {
		return false, fmt.Errorf("refresh acme lock %q: %w", name, err)
	}
	return tag.RowsAffected() == 1, nil
}

// UnlockACME releases owner's lock name; a lock owner no longer holds is
// left to its new holder.
func (db *DB) UnlockACME(ctx context.Context, name, owner string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM acme_locks WHERE name = $1 AND owner = $2`, name, owner); err != nil {
		return fmt.Errorf("unlock acme %q: %w", name, err)
	}
	return nil
}
