package postgres

import (
	"context"
	"fmt"

	"mailroom/internal/store"
)

// AddConsoleUser stores a console user.
func (db *DB) AddConsoleUser(ctx context.Context, u store.ConsoleUser) (store.ConsoleUser, error) {
	u.CreatedAt = db.now()
	err := db.pool.QueryRow(ctx, `INSERT INTO console_users (name, password_hash, created_at) VALUES ($1, $2, $3) RETURNING id`,
		u.Name, u.PasswordHash, nanos(u.CreatedAt)).Scan(&u.ID)
	if isUnique(err) {
		err = store.ErrConflict
	}
	if err != nil {
		return u, fmt.Errorf("add console user %s: %w", u.Name, err)
	}
	return u, nil
}

// ConsoleUser returns the console user with that name.
func (db *DB) ConsoleUser(ctx context.Context, name string) (store.ConsoleUser, error) {
	var u store.ConsoleUser
	var at int64
	err := db.pool.QueryRow(ctx, `SELECT id, name, password_hash, created_at FROM console_users WHERE name = $1`, name).Scan(&u.ID, &u.Name, &u.PasswordHash, &at)
	if noRows(err) {
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
	rows, err := db.pool.Query(ctx, `SELECT id, name, password_hash, created_at FROM console_users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list console users: %w", err)
	}
	defer rows.Close()
	var out []store.ConsoleUser
	for rows.Next() {
		var u store.ConsoleUser
		var at int64
		if err := rows.Scan(&u.ID, &u.Name, &u.PasswordHash, &at); err != nil {
			return nil, fmt.Errorf("list console users: %w", err)
		}
		u.CreatedAt = fromNanos(at)
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list console users: %w", err)
	}
	return out, nil
}

// SetConsolePassword replaces a console user's password hash.
func (db *DB) SetConsolePassword(ctx context.Context, name, hash string) error {
	tag, err := db.pool.Exec(ctx, `UPDATE console_users SET password_hash = $1 WHERE name = $2`, hash, name)
	if err == nil {
		err = oneRow(tag)
	}
	if err != nil {
		return fmt.Errorf("set console password of %s: %w", name, err)
	}
	return nil
}

// RemoveConsoleUser deletes the console user with that name.
func (db *DB) RemoveConsoleUser(ctx context.Context, name string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM console_users WHERE name = $1`, name)
	if err == nil {
		err = oneRow(tag)
	}
	if err != nil {
		return fmt.Errorf("remove console user %s: %w", name, err)
	}
	return nil
}
