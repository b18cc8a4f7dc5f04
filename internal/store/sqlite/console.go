package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"mailroom/internal/store"
)

// AddConsoleUser stores a console user.
func (db *DB) AddConsoleUser(ctx context.Context, u store.ConsoleUser) (store.ConsoleUser, error) {
	u.CreatedAt = db.now()
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO console_users (name, password_hash, created_at) VALUES (?, ?, ?)`, u.Name, u.PasswordHash, nanos(u.CreatedAt))
		if isUnique(err) {
			return store.ErrConflict
		}
		if err != nil {
			return err
		}
		u.ID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return u, fmt.Errorf("add console user %s: %w", u.Name, err)
	}
	return u, nil
}

// ConsoleUser returns the console user with that name.
func (db *DB) ConsoleUser(ctx context.Context, name string) (store.ConsoleUser, error) {
	var u store.ConsoleUser
	var at int64
	err := db.sql.QueryRowContext(ctx, `SELECT id, name, password_hash, created_at FROM console_users WHERE name = ?`, name).Scan(&u.ID, &u.Name, &u.PasswordHash, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return u, store.ErrNotFound
	}
	if err != nil {
		return u, fmt.Errorf("look up console user %s: %w", name, err)
	}
	u.CreatedAt = fromNanos(at)
	return u, nil
}

// ConsoleUsers lists the console users by name.
func (db *DB) ConsoleUsers(ctx context.Context) ([]store.ConsoleUser, error) {
	out, err := queryAll(ctx, db.sql, func(r *sql.Rows) (store.ConsoleUser, error) {
		var u store.ConsoleUser
		var at int64
		err := r.Scan(&u.ID, &u.Name, &u.PasswordHash, &at)
		u.CreatedAt = fromNanos(at)
		return u, err
	}, `SELECT id, name, password_hash, created_at FROM console_users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list console users: %w", err)
	}
	return out, nil
}

// SetConsolePassword replaces a console user's password hash.
func (db *DB) SetConsolePassword(ctx context.Context, name, hash string) error {
	return db.changeConsoleUser(ctx, "set console password of "+name, `UPDATE console_users SET password_hash = ? WHERE name = ?`, hash, name)
}

// RemoveConsoleUser deletes the console user with that name.
func (db *DB) RemoveConsoleUser(ctx context.Context, name string) error {
	return db.changeConsoleUser(ctx, "remove console user "+name, `DELETE FROM console_users WHERE name = ?`, name)
}

// changeConsoleUser runs one statement that must change one row.
func (db *DB) changeConsoleUser(ctx context.Context, what, q string, args ...any) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
