package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"mailroom/internal/store"
)

// addressFree takes the dialect's lock on address and fails with
// store.ErrConflict when address is in table other ("aliases" when a
// mailbox is created, "mailboxes" when an alias is added): an address is a
// mailbox or an alias, never both.
func (db *DB) addressFree(ctx context.Context, tx *sql.Tx, address, other string) error {
	if db.d.LockAddress != "" {
		if _, err := tx.ExecContext(ctx, db.d.LockAddress, address); err != nil {
			return fmt.Errorf("lock address: %w", err)
		}
	}
	var taken bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM `+other+` WHERE address = $1)`, address).Scan(&taken)
	if err != nil {
		return fmt.Errorf("look up %s: %w", other, err)
	}
	if taken {
		return fmt.Errorf("address is in %s: %w", other, store.ErrConflict)
	}
	return nil
}

// AddAlias gives the mailbox with address mailbox the further address
// alias. store.ErrNotFound if the mailbox does not exist; store.ErrConflict
// if alias is a mailbox's address or already an alias (of any mailbox).
// Both are checked in the writing transaction, under the address's lock.
func (db *DB) AddAlias(ctx context.Context, mailbox, alias string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		mailboxID, err := mailboxID(ctx, tx, mailbox)
		if err != nil {
			return err
		}
		if err := db.addressFree(ctx, tx, alias, "mailboxes"); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx,
			`INSERT INTO aliases (address, mailbox_id, created_at) VALUES ($1, $2, $3)`,
			alias, mailboxID, Nanos(db.Stamp()))
		if db.d.IsUnique(err) {
			return fmt.Errorf("address is an alias: %w", store.ErrConflict)
		}
		if err := db.mapInsert(err, fmt.Sprintf("mailbox %q", mailbox)); err != nil {
			return err
		}
		return db.bumpDirectoryVersion(ctx, tx)
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
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM aliases WHERE address = $1`, alias)
		if err != nil {
			return err
		}
		if err := oneRow(res); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM grants WHERE on_addr = $1`, alias); err != nil {
			return fmt.Errorf("remove grants on it: %w", err)
		}
		return db.bumpDirectoryVersion(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("remove alias %q: %w", alias, err)
	}
	return nil
}

// Aliases lists all aliases ordered by address.
func (db *DB) Aliases(ctx context.Context) ([]store.Alias, error) {
	as, err := QueryAll(ctx, db.sql, func(r *sql.Rows) (store.Alias, error) {
		var a store.Alias
		return a, r.Scan(&a.Address, &a.Mailbox)
	}, `SELECT a.address, m.address FROM aliases a JOIN mailboxes m ON m.id = a.mailbox_id ORDER BY a.address`)
	if err != nil {
		return nil, fmt.Errorf("list aliases: %w", err)
	}
	return as, nil
}

// mailboxID returns the id of the mailbox with address; store.ErrNotFound
// if absent.
func mailboxID(ctx context.Context, tx *sql.Tx, address string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM mailboxes WHERE address = $1`, address).Scan(&id)
	if noRows(err) {
		return 0, fmt.Errorf("mailbox %q: %w", address, store.ErrNotFound)
	}
	return id, err
}
