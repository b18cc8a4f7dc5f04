package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"mailroom/internal/store"
)

// Console users and API tokens are both a table of named secrets: id, a
// unique name, a hash and created_at. credentials reads and writes one of
// them; the methods below map it to the store's types.
type credentials struct {
	table, name, hash string // table and column names
}

var (
	consoleUsers = credentials{table: "console_users", name: "name", hash: "password_hash"}
	apiTokens    = credentials{table: "api_tokens", name: "label", hash: "hash"}
)

// credential is one row of a credentials table.
type credential struct {
	id         int64
	name, hash string
	created    int64
}

// add inserts a row and returns its id; store.ErrConflict if the name (or
// hash) exists.
func (db *DB) addCredential(ctx context.Context, c credentials, name, hash string, created int64) (int64, error) {
	var id int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx,
			`INSERT INTO `+c.table+` (`+c.name+`, `+c.hash+`, created_at) VALUES ($1, $2, $3) RETURNING id`,
			name, hash, created).Scan(&id)
		return db.mapInsert(err, c.table)
	})
	return id, err
}

// credentials lists the rows ordered by name, or the one whose column
// col equals val (store.ErrNotFound if none).
func (db *DB) credentials(ctx context.Context, c credentials, col, val string) ([]credential, error) {
	q, args := `SELECT id, `+c.name+`, `+c.hash+`, created_at FROM `+c.table+` ORDER BY `+c.name, []any(nil)
	if col != "" {
		q, args = `SELECT id, `+c.name+`, `+c.hash+`, created_at FROM `+c.table+` WHERE `+col+` = $1`, []any{val}
	}
	rs, err := QueryAll(ctx, db.sql, func(r *sql.Rows) (credential, error) {
		var x credential
		return x, r.Scan(&x.id, &x.name, &x.hash, &x.created)
	}, q, args...)
	if err == nil && col != "" && len(rs) == 0 {
		err = store.ErrNotFound
	}
	return rs, err
}

// AddConsoleUser stores a console user.
func (db *DB) AddConsoleUser(ctx context.Context, u store.ConsoleUser) (store.ConsoleUser, error) {
	u.CreatedAt = db.Stamp()
	id, err := db.addCredential(ctx, consoleUsers, u.Name, u.PasswordHash, Nanos(u.CreatedAt))
	if err != nil {
		return u, fmt.Errorf("add console user %s: %w", u.Name, err)
	}
	u.ID = id
	return u, nil
}

// ConsoleUser returns the console user with that name.
func (db *DB) ConsoleUser(ctx context.Context, name string) (store.ConsoleUser, error) {
	rs, err := db.credentials(ctx, consoleUsers, "name", name)
	if err != nil {
		return store.ConsoleUser{}, fmt.Errorf("look up console user %s: %w", name, err)
	}
	return consoleUser(rs[0]), nil
}

// ConsoleUsers lists the console users by name.
func (db *DB) ConsoleUsers(ctx context.Context) ([]store.ConsoleUser, error) {
	rs, err := db.credentials(ctx, consoleUsers, "", "")
	if err != nil {
		return nil, fmt.Errorf("list console users: %w", err)
	}
	return convert(rs, consoleUser), nil
}

// convert returns f of each of rs; none is nil.
func convert[T any](rs []credential, f func(credential) T) []T {
	var out []T
	for _, r := range rs {
		out = append(out, f(r))
	}
	return out
}

func consoleUser(r credential) store.ConsoleUser {
	return store.ConsoleUser{ID: r.id, Name: r.name, PasswordHash: r.hash, CreatedAt: FromNanos(r.created)}
}

// SetConsolePassword replaces a console user's password hash.
func (db *DB) SetConsolePassword(ctx context.Context, name, hash string) error {
	if err := db.execOne(ctx, `UPDATE console_users SET password_hash = $1 WHERE name = $2`, hash, name); err != nil {
		return fmt.Errorf("set console password of %s: %w", name, err)
	}
	return nil
}

// RemoveConsoleUser deletes the console user with that name.
func (db *DB) RemoveConsoleUser(ctx context.Context, name string) error {
	if err := db.execOne(ctx, `DELETE FROM console_users WHERE name = $1`, name); err != nil {
		return fmt.Errorf("remove console user %s: %w", name, err)
	}
	return nil
}

// AddAPIToken stores a token.
func (db *DB) AddAPIToken(ctx context.Context, t store.APIToken) (store.APIToken, error) {
	t.CreatedAt = db.Stamp()
	id, err := db.addCredential(ctx, apiTokens, t.Label, t.Hash, Nanos(t.CreatedAt))
	if err != nil {
		return t, fmt.Errorf("add api token %s: %w", t.Label, err)
	}
	t.ID = id
	return t, nil
}

// APITokens lists the tokens by label.
func (db *DB) APITokens(ctx context.Context) ([]store.APIToken, error) {
	rs, err := db.credentials(ctx, apiTokens, "", "")
	if err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	return convert(rs, apiToken), nil
}

// APITokenByHash returns the token with that hash.
func (db *DB) APITokenByHash(ctx context.Context, hash string) (store.APIToken, error) {
	rs, err := db.credentials(ctx, apiTokens, "hash", hash)
	if err != nil {
		return store.APIToken{}, fmt.Errorf("look up api token: %w", err)
	}
	return apiToken(rs[0]), nil
}

func apiToken(r credential) store.APIToken {
	return store.APIToken{ID: r.id, Label: r.name, Hash: r.hash, CreatedAt: FromNanos(r.created)}
}

// RevokeAPIToken deletes the token with that label.
func (db *DB) RevokeAPIToken(ctx context.Context, label string) error {
	if err := db.execOne(ctx, `DELETE FROM api_tokens WHERE label = $1`, label); err != nil {
		return fmt.Errorf("revoke api token %s: %w", label, err)
	}
	return nil
}
