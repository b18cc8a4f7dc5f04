package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"mailroom/internal/store"
)

// isAlias reports whether address is an alias, inside tx.
func isAlias(ctx context.Context, tx *sql.Tx, address string) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM aliases WHERE address = ?)`, address).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look up alias: %w", err)
	}
	return n == 1, nil
}

// AddAlias gives the mailbox with address mailbox the further address
// alias. store.ErrNotFound if the mailbox does not exist; store.ErrConflict
// if alias is a mailbox's address or already an alias (of any mailbox).
// Both are checked in the writing transaction.
func (db *DB) AddAlias(ctx context.Context, mailbox, alias string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		mailboxID, err := mailboxID(ctx, tx, mailbox)
		if err != nil {
			return err
		}
		var taken int
		err = tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM mailboxes WHERE address = ?)`, alias).Scan(&taken)
		if err != nil {
			return err
		}
		if taken == 1 {
			return fmt.Errorf("address is a mailbox: %w", store.ErrConflict)
		}
		_, err = tx.ExecContext(ctx,
			`INSERT INTO aliases (address, mailbox_id, created_at) VALUES (?, ?, ?)`,
			alias, mailboxID, nanos(db.now()))
		if isUnique(err) {
			return fmt.Errorf("address is an alias: %w", store.ErrConflict)
		}
		if err != nil {
			return err
		}
		return bumpDirectoryVersion(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("add alias %q to %q: %w", alias, mailbox, err)
	}
	return nil
}

// RemoveAlias removes an alias; store.ErrNotFound if absent. Grants on the
// alias address stay (a grant may name any address).
func (db *DB) RemoveAlias(ctx context.Context, alias string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM aliases WHERE address = ?`, alias)
		if err != nil {
			return err
		}
		if err := oneRow(res); err != nil {
			return err
		}
		// A grant on the address must not pass to its next owner.
		if _, err := tx.ExecContext(ctx, `DELETE FROM grants WHERE on_addr = ?`, alias); err != nil {
			return fmt.Errorf("remove grants on it: %w", err)
		}
		return bumpDirectoryVersion(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("remove alias %q: %w", alias, err)
	}
	return nil
}

// Aliases lists all aliases by address.
func (db *DB) Aliases(ctx context.Context) ([]store.Alias, error) {
	as, err := queryAll(ctx, db.sql, func(r *sql.Rows) (store.Alias, error) {
		var a store.Alias
		return a, r.Scan(&a.Address, &a.Mailbox)
	}, `SELECT a.address, m.address FROM aliases a JOIN mailboxes m ON m.id = a.mailbox_id ORDER BY a.address`)
	if err != nil {
		return nil, fmt.Errorf("list aliases: %w", err)
	}
	return as, nil
}

// mailboxID returns the id of the mailbox with address, inside tx;
// store.ErrNotFound if absent.
func mailboxID(ctx context.Context, tx *sql.Tx, address string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM mailboxes WHERE address = ?`, address).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("mailbox %q: %w", address, store.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("look up mailbox %q: %w", address, err)
	}
	return id, nil
}
