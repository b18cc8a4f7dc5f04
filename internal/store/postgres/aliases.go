package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"mailroom/internal/store"
)

// lockAddress takes a transaction-scoped advisory lock on address. Creating
// a mailbox and adding an alias both take it before they check that the
// address is neither, so two concurrent transactions cannot make one
// address both a mailbox and an alias.
func lockAddress(ctx context.Context, tx pgx.Tx, address string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('mailroom.address'), hashtext($1))`, address)
	if err != nil {
		return fmt.Errorf("lock address: %w", err)
	}
	return nil
}

// isAlias reports whether address is an alias, inside tx.
func isAlias(ctx context.Context, tx pgx.Tx, address string) (bool, error) {
	var found bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM aliases WHERE address = $1)`, address).Scan(&found)
	if err != nil {
		return false, fmt.Errorf("look up alias: %w", err)
	}
	return found, nil
}

// AddAlias gives the mailbox with address mailbox the further address
// alias. store.ErrNotFound if the mailbox does not exist; store.ErrConflict
// if alias is a mailbox's address or already an alias (of any mailbox).
// Both are checked in the writing transaction, under the address's lock.
func (db *DB) AddAlias(ctx context.Context, mailbox, alias string) error {
	err := db.write(ctx, func(tx pgx.Tx) error {
		mailboxID, err := mailboxID(ctx, tx, mailbox)
		if err != nil {
			return err
		}
		if err := lockAddress(ctx, tx, alias); err != nil {
			return err
		}
		var taken bool
		err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM mailboxes WHERE address = $1)`, alias).Scan(&taken)
		if err != nil {
			return err
		}
		if taken {
			return fmt.Errorf("address is a mailbox: %w", store.ErrConflict)
		}
		_, err = tx.Exec(ctx,
			`INSERT INTO aliases (address, mailbox_id, created_at) VALUES ($1, $2, $3)`,
			alias, mailboxID, nanos(db.now()))
		switch {
		case isUnique(err):
			return fmt.Errorf("address is an alias: %w", store.ErrConflict)
		case isForeignKey(err):
			return fmt.Errorf("mailbox %q: %w", mailbox, store.ErrNotFound)
		case err != nil:
			return err
		}
		return bumpDirectoryVersion(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("add alias %q to %q: %w", alias, mailbox, err)
	}
	return nil
}

// RemoveAlias removes an alias and the grants on its address, so that a
// grant does not pass to the address's next owner; store.ErrNotFound if
// absent.
func (db *DB) RemoveAlias(ctx context.Context, alias string) error {
	err := db.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM aliases WHERE address = $1`, alias)
		if err != nil {
			return err
		}
		if err := oneRow(tag); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM grants WHERE on_addr = $1`, alias); err != nil {
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
	rows, err := db.pool.Query(ctx,
		`SELECT a.address, m.address FROM aliases a JOIN mailboxes m ON m.id = a.mailbox_id ORDER BY a.address`)
	if err != nil {
		return nil, fmt.Errorf("list aliases: %w", err)
	}
	as, err := collect(rows, func(row pgx.CollectableRow) (store.Alias, error) {
		var a store.Alias
		err := row.Scan(&a.Address, &a.Mailbox)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("list aliases: %w", err)
	}
	return as, nil
}

// mailboxID returns the id of the mailbox with address, inside tx;
// store.ErrNotFound if absent.
func mailboxID(ctx context.Context, tx pgx.Tx, address string) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM mailboxes WHERE address = $1`, address).Scan(&id)
	if noRows(err) {
		return 0, fmt.Errorf("mailbox %q: %w", address, store.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("look up mailbox %q: %w", address, err)
	}
	return id, nil
}
