package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"mailroom/internal/store"
)

// bumpDirectoryVersion increases the directory change counter. Every
// directory write calls it inside its own transaction, so a reader that sees
// the new counter also sees the change.
func bumpDirectoryVersion(ctx context.Context, tx *sql.Tx) error {
	res, err := tx.ExecContext(ctx, `UPDATE meta SET value = value + 1 WHERE key = 'directory_version'`)
	if err != nil {
		return fmt.Errorf("bump directory version: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("bump directory version: meta row missing (%d rows, %v)", n, err)
	}
	return nil
}

// DirectoryVersion returns the directory change counter.
func (db *DB) DirectoryVersion(ctx context.Context) (int64, error) {
	var v int64
	err := db.sql.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'directory_version'`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("read directory version: %w", err)
	}
	return v, nil
}

// CreateDomain adds a domain with store.DisplayNameClient, no network
// restriction and inherited limits; store.ErrConflict if it exists.
func (db *DB) CreateDomain(ctx context.Context, name string) (store.Domain, error) {
	d := store.Domain{Name: name, DisplayName: store.DisplayNameClient, CreatedAt: db.now()}
	err := db.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx,
			`INSERT INTO domains (name, display_name, networks, created_at) VALUES (?, ?, '[]', ?) RETURNING id`,
			name, d.DisplayName, nanos(d.CreatedAt)).Scan(&d.ID)
		if isUnique(err) {
			return store.ErrConflict
		}
		if err != nil {
			return err
		}
		return bumpDirectoryVersion(ctx, tx)
	})
	if err != nil {
		return store.Domain{}, fmt.Errorf("create domain %q: %w", name, err)
	}
	return d, nil
}

// Domains lists all domains by name.
func (db *DB) Domains(ctx context.Context) ([]store.Domain, error) {
	rows, err := db.sql.QueryContext(ctx,
		`SELECT id, name, display_name, networks, limit_concurrent, limit_messages_per_minute,
		 limit_recipients_per_message, limit_recipients_per_day, created_at
		 FROM domains ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list domains: %w", err)
	}
	defer rows.Close()
	var ds []store.Domain
	for rows.Next() {
		var d store.Domain
		var networks string
		var created int64
		err := rows.Scan(&d.ID, &d.Name, &d.DisplayName, &networks, &d.Limits.Concurrent, &d.Limits.MessagesPerMinute,
			&d.Limits.RecipientsPerMessage, &d.Limits.RecipientsPerDay, &created)
		if err != nil {
			return nil, fmt.Errorf("list domains: %w", err)
		}
		if d.Networks, err = decodeNetworks(networks); err != nil {
			return nil, fmt.Errorf("list domains: domain %s: %w", d.Name, err)
		}
		d.CreatedAt = fromNanos(created)
		ds = append(ds, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list domains: %w", err)
	}
	return ds, nil
}

// DeleteDomain removes a domain; store.ErrNotFound if absent,
// store.ErrConflict if it still has mailboxes.
func (db *DB) DeleteDomain(ctx context.Context, name string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		var id, mailboxes int64
		err := tx.QueryRowContext(ctx,
			`SELECT d.id, (SELECT COUNT(*) FROM mailboxes m WHERE m.domain_id = d.id)
			 FROM domains d WHERE d.name = ?`, name).Scan(&id, &mailboxes)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if mailboxes > 0 {
			return fmt.Errorf("%d mailboxes remain: %w", mailboxes, store.ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM domains WHERE id = ?`, id); err != nil {
			return err
		}
		return bumpDirectoryVersion(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("delete domain %q: %w", name, err)
	}
	return nil
}

// UpdateDomain writes DisplayName (an empty one is
// store.DisplayNameClient), Networks and Limits of the domain named d.Name;
// store.ErrNotFound if absent.
func (db *DB) UpdateDomain(ctx context.Context, d store.Domain) error {
	policy, err := displayNamePolicy(d.DisplayName)
	if err != nil {
		return fmt.Errorf("update domain %q: %w", d.Name, err)
	}
	networks, err := encodeNetworks(d.Networks)
	if err != nil {
		return fmt.Errorf("update domain %q: %w", d.Name, err)
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE domains SET display_name = ?, networks = ?, limit_concurrent = ?, limit_messages_per_minute = ?,
			 limit_recipients_per_message = ?, limit_recipients_per_day = ?
			 WHERE name = ?`,
			policy, networks, d.Limits.Concurrent, d.Limits.MessagesPerMinute,
			d.Limits.RecipientsPerMessage, d.Limits.RecipientsPerDay, d.Name)
		if err != nil {
			return err
		}
		if err := oneRow(res); err != nil {
			return err
		}
		return bumpDirectoryVersion(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("update domain %q: %w", d.Name, err)
	}
	return nil
}

// displayNamePolicy validates a domain's display-name policy; "" is the
// default, store.DisplayNameClient.
func displayNamePolicy(p string) (string, error) {
	switch p {
	case "":
		return store.DisplayNameClient, nil
	case store.DisplayNameClient, store.DisplayNameDirectory:
		return p, nil
	}
	return "", fmt.Errorf("display name policy %q: want %q or %q", p, store.DisplayNameClient, store.DisplayNameDirectory)
}

// oneRow returns store.ErrNotFound when res affected no row.
func oneRow(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// CreateMailbox adds a mailbox with all its fields. Its domain (m.Domain, or
// the part of m.Address after the last '@' when m.Domain is empty) must exist
// (store.ErrNotFound) and must be the address's domain; the address must be
// new, neither a mailbox's nor an alias (store.ErrConflict). ID and
// timestamps come from the stored row.
func (db *DB) CreateMailbox(ctx context.Context, m store.Mailbox) (store.Mailbox, error) {
	at := strings.LastIndexByte(m.Address, '@')
	if at < 1 || at == len(m.Address)-1 {
		return store.Mailbox{}, fmt.Errorf("create mailbox %q: address has no local part or domain", m.Address)
	}
	if m.Domain == "" {
		m.Domain = m.Address[at+1:]
	}
	if m.Domain != m.Address[at+1:] {
		return store.Mailbox{}, fmt.Errorf("create mailbox %q: address is not in domain %q", m.Address, m.Domain)
	}
	networks, err := encodeNetworks(m.Networks)
	if err != nil {
		return store.Mailbox{}, fmt.Errorf("create mailbox %q: %w", m.Address, err)
	}
	m.CreatedAt = db.now()
	m.UpdatedAt = m.CreatedAt
	err = db.write(ctx, func(tx *sql.Tx) error {
		var domainID int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM domains WHERE name = ?`, m.Domain).Scan(&domainID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("domain %q: %w", m.Domain, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if alias, err := isAlias(ctx, tx, m.Address); err != nil {
			return err
		} else if alias {
			return fmt.Errorf("address is an alias: %w", store.ErrConflict)
		}
		err = tx.QueryRowContext(ctx,
			`INSERT INTO mailboxes (address, domain_id, display_name, password_hash, smtp_auth, shared,
			 save_sent, copy_sent_as, copy_sent_on_behalf, sent_retention, quota_bytes, networks,
			 limit_concurrent, limit_messages_per_minute, limit_recipients_per_message, limit_recipients_per_day,
			 created_at, updated_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			m.Address, domainID, m.DisplayName, m.PasswordHash, m.SMTPAuth, m.Shared,
			m.SaveSent, m.CopySentAs, m.CopySentOnBehalf, int64(m.SentRetention), m.QuotaBytes, networks,
			m.Limits.Concurrent, m.Limits.MessagesPerMinute, m.Limits.RecipientsPerMessage, m.Limits.RecipientsPerDay,
			nanos(m.CreatedAt), nanos(m.UpdatedAt)).Scan(&m.ID)
		if isUnique(err) {
			return store.ErrConflict
		}
		if err != nil {
			return err
		}
		return bumpDirectoryVersion(ctx, tx)
	})
	if err != nil {
		return store.Mailbox{}, fmt.Errorf("create mailbox %q: %w", m.Address, err)
	}
	m.Networks = normalNetworks(m.Networks)
	return m, nil
}

// UpdateMailbox writes every settable field of the mailbox with m.Address
// (all but ID, Address, Domain, CreatedAt and UpdatedAt) and sets its
// UpdatedAt to the current time; store.ErrNotFound if absent.
func (db *DB) UpdateMailbox(ctx context.Context, m store.Mailbox) error {
	networks, err := encodeNetworks(m.Networks)
	if err != nil {
		return fmt.Errorf("update mailbox %q: %w", m.Address, err)
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE mailboxes SET display_name = ?, password_hash = ?, smtp_auth = ?, shared = ?,
			 save_sent = ?, copy_sent_as = ?, copy_sent_on_behalf = ?, sent_retention = ?, quota_bytes = ?,
			 networks = ?, limit_concurrent = ?, limit_messages_per_minute = ?,
			 limit_recipients_per_message = ?, limit_recipients_per_day = ?, updated_at = ?
			 WHERE address = ?`,
			m.DisplayName, m.PasswordHash, m.SMTPAuth, m.Shared,
			m.SaveSent, m.CopySentAs, m.CopySentOnBehalf, int64(m.SentRetention), m.QuotaBytes,
			networks, m.Limits.Concurrent, m.Limits.MessagesPerMinute,
			m.Limits.RecipientsPerMessage, m.Limits.RecipientsPerDay, nanos(db.now()), m.Address)
		if err != nil {
			return err
		}
		if err := oneRow(res); err != nil {
			return err
		}
		return bumpDirectoryVersion(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("update mailbox %q: %w", m.Address, err)
	}
	return nil
}

// DeleteMailbox removes a mailbox and, by cascade, its folder entries,
// aliases, app passwords and the grants it holds; it also removes the grants
// on its address and its aliases' addresses, so that a later owner of one
// of them does not inherit a grant. store.ErrNotFound if absent. Messages
// it submitted and their queue rows stay: they are still to be delivered.
func (db *DB) DeleteMailbox(ctx context.Context, address string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM grants WHERE on_addr IN (
			SELECT a.address FROM aliases a JOIN mailboxes m ON m.id = a.mailbox_id WHERE m.address = ?)`, address); err != nil {
			return fmt.Errorf("remove grants on its aliases: %w", err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM mailboxes WHERE address = ?`, address)
		if err != nil {
			return err
		}
		if err := oneRow(res); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM grants WHERE on_addr = ?`, address); err != nil {
			return fmt.Errorf("remove grants on it: %w", err)
		}
		return bumpDirectoryVersion(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("delete mailbox %q: %w", address, err)
	}
	return nil
}

// selectMailbox is the column list scanMailbox reads.
const selectMailbox = `SELECT m.id, m.address, d.name, m.display_name, m.password_hash,
	m.smtp_auth, m.shared, m.save_sent, m.copy_sent_as, m.copy_sent_on_behalf, m.sent_retention,
	m.quota_bytes, m.networks, m.limit_concurrent, m.limit_messages_per_minute,
	m.limit_recipients_per_message, m.limit_recipients_per_day, m.created_at, m.updated_at
	FROM mailboxes m JOIN domains d ON d.id = m.domain_id`

// scanMailbox reads one row of selectMailbox.
func scanMailbox(row interface{ Scan(...any) error }) (store.Mailbox, error) {
	var m store.Mailbox
	var retention, created, updated int64
	var networks string
	err := row.Scan(&m.ID, &m.Address, &m.Domain, &m.DisplayName, &m.PasswordHash,
		&m.SMTPAuth, &m.Shared, &m.SaveSent, &m.CopySentAs, &m.CopySentOnBehalf, &retention,
		&m.QuotaBytes, &networks, &m.Limits.Concurrent, &m.Limits.MessagesPerMinute,
		&m.Limits.RecipientsPerMessage, &m.Limits.RecipientsPerDay, &created, &updated)
	if err != nil {
		return store.Mailbox{}, err
	}
	if m.Networks, err = decodeNetworks(networks); err != nil {
		return store.Mailbox{}, fmt.Errorf("mailbox %s: %w", m.Address, err)
	}
	m.SentRetention = time.Duration(retention)
	m.CreatedAt = fromNanos(created)
	m.UpdatedAt = fromNanos(updated)
	return m, nil
}

// Mailbox returns one mailbox by its exact (normalized) address;
// store.ErrNotFound if absent.
func (db *DB) Mailbox(ctx context.Context, address string) (store.Mailbox, error) {
	m, err := scanMailbox(db.sql.QueryRowContext(ctx, selectMailbox+` WHERE m.address = ?`, address))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Mailbox{}, fmt.Errorf("read mailbox %q: %w", address, err)
	}
	return m, nil
}

// Mailboxes lists the mailboxes of domain, or all mailboxes when domain is
// "", ordered by address. An unknown domain has no mailboxes.
func (db *DB) Mailboxes(ctx context.Context, domain string) ([]store.Mailbox, error) {
	q, args := selectMailbox+` ORDER BY m.address`, []any(nil)
	if domain != "" {
		q, args = selectMailbox+` WHERE d.name = ? ORDER BY m.address`, []any{domain}
	}
	rows, err := db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list mailboxes of %q: %w", domain, err)
	}
	defer rows.Close()
	var ms []store.Mailbox
	for rows.Next() {
		m, err := scanMailbox(rows)
		if err != nil {
			return nil, fmt.Errorf("list mailboxes of %q: %w", domain, err)
		}
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list mailboxes of %q: %w", domain, err)
	}
	return ms, nil
}
