package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"mailroom/internal/store"
)

// AddAppPassword stores an app password of the mailbox p.Mailbox and
// returns it with ID and CreatedAt set. A non-zero LastUsedAt and
// LastUsedFrom are stored as given. store.ErrNotFound if the mailbox does
// not exist; store.ErrConflict if it has an app password labelled p.Label.
func (db *DB) AddAppPassword(ctx context.Context, p store.AppPassword) (store.AppPassword, error) {
	networks, err := db.d.Networks(p.Networks)
	if err != nil {
		return store.AppPassword{}, fmt.Errorf("add app password %q of %q: %w", p.Label, p.Mailbox, err)
	}
	p.Networks = normalNetworks(p.Networks)
	p.CreatedAt = db.Stamp()
	var lastUsed sql.NullInt64
	if !p.LastUsedAt.IsZero() {
		p.LastUsedAt = FromNanos(Nanos(p.LastUsedAt))
		lastUsed = sql.NullInt64{Int64: Nanos(p.LastUsedAt), Valid: true}
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		owner, err := mailboxID(ctx, tx, p.Mailbox)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx,
			`INSERT INTO app_passwords (mailbox_id, label, password_hash, networks, created_at, last_used_at, last_used_from)
			 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			owner, p.Label, p.PasswordHash, networks, Nanos(p.CreatedAt), lastUsed, p.LastUsedFrom).Scan(&p.ID)
		if err := db.mapInsert(err, fmt.Sprintf("mailbox %q", p.Mailbox)); err != nil {
			return err
		}
		return db.bumpDirectoryVersion(ctx, tx)
	})
	if err != nil {
		return store.AppPassword{}, fmt.Errorf("add app password %q of %q: %w", p.Label, p.Mailbox, err)
	}
	return p, nil
}

// RevokeAppPassword deletes the app password labelled label of the mailbox
// with address mailbox; store.ErrNotFound if absent.
func (db *DB) RevokeAppPassword(ctx context.Context, mailbox, label string) error {
	err := db.changeDirectory(ctx,
		`DELETE FROM app_passwords
		 WHERE mailbox_id = (SELECT id FROM mailboxes WHERE address = $1) AND label = $2`,
		mailbox, label)
	if err != nil {
		return fmt.Errorf("revoke app password %q of %q: %w", label, mailbox, err)
	}
	return nil
}

// SetAppPasswordNetworks replaces the networks of the app password
// labelled label of the mailbox with address mailbox; its secret stays.
// store.ErrNotFound if absent.
func (db *DB) SetAppPasswordNetworks(ctx context.Context, mailbox, label string, networks []string) error {
	nets, err := db.d.Networks(networks)
	if err == nil {
		err = db.changeDirectory(ctx,
			`UPDATE app_passwords SET networks = $1
			 WHERE mailbox_id = (SELECT id FROM mailboxes WHERE address = $2) AND label = $3`,
			nets, mailbox, label)
	}
	if err != nil {
		return fmt.Errorf("set networks of app password %q of %q: %w", label, mailbox, err)
	}
	return nil
}

// AppPasswords lists the app passwords of the mailbox with address mailbox,
// or of all mailboxes when mailbox is "", ordered by mailbox address, then
// label. An unknown mailbox has none.
func (db *DB) AppPasswords(ctx context.Context, mailbox string) ([]store.AppPassword, error) {
	const cols = `SELECT p.id, m.address, p.label, p.password_hash, p.networks, p.created_at,
		p.last_used_at, p.last_used_from
		FROM app_passwords p JOIN mailboxes m ON m.id = p.mailbox_id`
	q, args := cols+` ORDER BY m.address, p.label`, []any(nil)
	if mailbox != "" {
		q, args = cols+` WHERE m.address = $1 ORDER BY p.label`, []any{mailbox}
	}
	ps, err := QueryAll(ctx, db.sql, func(r *sql.Rows) (store.AppPassword, error) {
		var p store.AppPassword
		var created int64
		var lastUsed sql.NullInt64
		err := r.Scan(&p.ID, &p.Mailbox, &p.Label, &p.PasswordHash, db.d.ScanNetworks(&p.Networks), &created,
			&lastUsed, &p.LastUsedFrom)
		p.CreatedAt = FromNanos(created)
		if lastUsed.Valid {
			p.LastUsedAt = FromNanos(lastUsed.Int64)
		}
		return p, err
	}, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list app passwords of %q: %w", mailbox, err)
	}
	return ps, nil
}

// TouchAppPassword records a use of app password id at at from the remote
// address from. It is not a directory change: the directory version does
// not move. A zero at is the current time. store.ErrNotFound if absent.
func (db *DB) TouchAppPassword(ctx context.Context, id int64, at time.Time, from string) error {
	if at.IsZero() {
		at = db.Stamp()
	}
	err := db.execOne(ctx, `UPDATE app_passwords SET last_used_at = $1, last_used_from = $2 WHERE id = $3`,
		Nanos(at), from, id)
	if err != nil {
		return fmt.Errorf("record use of app password %d: %w", id, err)
	}
	return nil
}
