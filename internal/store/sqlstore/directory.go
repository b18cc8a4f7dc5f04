package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"mailroom/internal/store"
)

// bumpDirectoryVersion increases the directory change counter. Every
// directory write calls it inside its own transaction, so a reader that sees
// the new counter also sees the change. On PostgreSQL the row lock it takes
// serializes directory writes (which are rare), and the dialect's notice
// tells the listening nodes at commit, so they reload at once instead of
// at their next poll.
func (db *DB) bumpDirectoryVersion(ctx context.Context, tx *sql.Tx) error {
	res, err := tx.ExecContext(ctx, `UPDATE meta SET value = value + 1 WHERE key = 'directory_version'`)
	if err != nil {
		return fmt.Errorf("bump directory version: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("bump directory version: meta row missing (%d rows, %v)", n, err)
	}
	if db.d.NotifyDirectory != "" {
		if _, err := tx.ExecContext(ctx, db.d.NotifyDirectory); err != nil {
			return fmt.Errorf("bump directory version: notify: %w", err)
		}
	}
	return nil
}

// changeDirectory runs one statement that must change a row
// (store.ErrNotFound if it changes none) and bumps the directory version,
// in one transaction.
func (db *DB) changeDirectory(ctx context.Context, q string, args ...any) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		if err := oneRow(res); err != nil {
			return err
		}
		return db.bumpDirectoryVersion(ctx, tx)
	})
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

// CreateDomain adds a domain with role ("" is store.DomainHosted),
// store.DisplayNameClient, no network restriction and inherited limits, in
// one directory change; store.ErrConflict if it exists.
func (db *DB) CreateDomain(ctx context.Context, name, role string) (store.Domain, error) {
	role, err := domainRole(role)
	if err != nil {
		return store.Domain{}, fmt.Errorf("create domain %q: %w", name, err)
	}
	d := store.Domain{Name: name, DisplayName: store.DisplayNameClient, Role: role, CreatedAt: db.Stamp()}
	err = db.write(ctx, func(tx *sql.Tx) error {
		none, err := db.d.Networks(nil)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx,
			`INSERT INTO domains (name, display_name, role, networks, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			name, d.DisplayName, d.Role, none, Nanos(d.CreatedAt)).Scan(&d.ID)
		if err := db.mapInsert(err, "domain"); err != nil {
			return err
		}
		return db.bumpDirectoryVersion(ctx, tx)
	})
	if err != nil {
		return store.Domain{}, fmt.Errorf("create domain %q: %w", name, err)
	}
	return d, nil
}

// Domains lists all domains by name.
func (db *DB) Domains(ctx context.Context) ([]store.Domain, error) {
	ds, err := QueryAll(ctx, db.sql, func(r *sql.Rows) (store.Domain, error) {
		var d store.Domain
		var created int64
		err := r.Scan(&d.ID, &d.Name, &d.DisplayName, &d.Role, db.d.ScanNetworks(&d.Networks), &d.Limits.Concurrent,
			&d.Limits.MessagesPerMinute, &d.Limits.RecipientsPerMessage, &d.Limits.RecipientsPerDay, &created)
		d.CreatedAt = FromNanos(created)
		return d, err
	}, `SELECT id, name, display_name, role, networks, limit_concurrent, limit_messages_per_minute,
		 limit_recipients_per_message, limit_recipients_per_day, created_at
		 FROM domains ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list domains: %w", err)
	}
	return ds, nil
}

// DeleteDomain removes a domain and its DKIM keys; store.ErrNotFound if
// absent, store.ErrConflict if it still has mailboxes (also when one is
// created concurrently on PostgreSQL: the foreign key refuses the delete).
func (db *DB) DeleteDomain(ctx context.Context, name string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		var id, mailboxes int64
		err := tx.QueryRowContext(ctx,
			`SELECT d.id, (SELECT COUNT(*) FROM mailboxes m WHERE m.domain_id = d.id)
			 FROM domains d WHERE d.name = $1`, name).Scan(&id, &mailboxes)
		if noRows(err) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if mailboxes > 0 {
			return fmt.Errorf("%d mailboxes remain: %w", mailboxes, store.ErrConflict)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM domains WHERE id = $1`, id)
		if db.d.IsForeignKey(err) {
			return fmt.Errorf("a mailbox was added: %w", store.ErrConflict)
		}
		if err != nil {
			return err
		}
		return db.bumpDirectoryVersion(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("delete domain %q: %w", name, err)
	}
	return nil
}

// UpdateDomain writes DisplayName (an empty one is
// store.DisplayNameClient), Role (an empty one is store.DomainHosted),
// Networks and Limits of the domain named d.Name; store.ErrNotFound if
// absent.
func (db *DB) UpdateDomain(ctx context.Context, d store.Domain) error {
	policy, err := displayNamePolicy(d.DisplayName)
	if err != nil {
		return fmt.Errorf("update domain %q: %w", d.Name, err)
	}
	role, err := domainRole(d.Role)
	if err != nil {
		return fmt.Errorf("update domain %q: %w", d.Name, err)
	}
	networks, err := db.d.Networks(d.Networks)
	if err != nil {
		return fmt.Errorf("update domain %q: %w", d.Name, err)
	}
	err = db.changeDirectory(ctx,
		`UPDATE domains SET display_name = $1, role = $2, networks = $3, limit_concurrent = $4,
		 limit_messages_per_minute = $5, limit_recipients_per_message = $6, limit_recipients_per_day = $7
		 WHERE name = $8`,
		policy, role, networks, d.Limits.Concurrent, d.Limits.MessagesPerMinute,
		d.Limits.RecipientsPerMessage, d.Limits.RecipientsPerDay, d.Name)
	if err != nil {
		return fmt.Errorf("update domain %q: %w", d.Name, err)
	}
	return nil
}

// domainRole validates a domain's role; "" is the default,
// store.DomainHosted.
func domainRole(r string) (string, error) {
	switch r {
	case "":
		return store.DomainHosted, nil
	case store.DomainHosted, store.DomainRelay:
		return r, nil
	}
	return "", fmt.Errorf("domain role %q: want %q or %q", r, store.DomainHosted, store.DomainRelay)
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
	networks, err := db.d.Networks(m.Networks)
	if err != nil {
		return store.Mailbox{}, fmt.Errorf("create mailbox %q: %w", m.Address, err)
	}
	m.CreatedAt = db.Stamp()
	m.UpdatedAt = m.CreatedAt
	err = db.write(ctx, func(tx *sql.Tx) error {
		var domainID int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM domains WHERE name = $1`, m.Domain).Scan(&domainID)
		if noRows(err) {
			return fmt.Errorf("domain %q: %w", m.Domain, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if err := db.addressFree(ctx, tx, m.Address, "aliases"); err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx,
			`INSERT INTO mailboxes (address, domain_id, display_name, password_hash, smtp_auth, shared, imap_enabled,
			 save_sent, copy_sent_as, copy_sent_on_behalf, sent_retention, quota_bytes, networks,
			 limit_concurrent, limit_messages_per_minute, limit_recipients_per_message, limit_recipients_per_day,
			 created_at, updated_at)
			 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING id`,
			m.Address, domainID, m.DisplayName, m.PasswordHash, m.SMTPAuth, m.Shared, m.IMAP,
			m.SaveSent, m.CopySentAs, m.CopySentOnBehalf, int64(m.SentRetention), m.QuotaBytes, networks,
			m.Limits.Concurrent, m.Limits.MessagesPerMinute, m.Limits.RecipientsPerMessage, m.Limits.RecipientsPerDay,
			Nanos(m.CreatedAt), Nanos(m.UpdatedAt)).Scan(&m.ID)
		if err := db.mapInsert(err, fmt.Sprintf("domain %q", m.Domain)); err != nil {
			return err
		}
		return db.bumpDirectoryVersion(ctx, tx)
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
	networks, err := db.d.Networks(m.Networks)
	if err != nil {
		return fmt.Errorf("update mailbox %q: %w", m.Address, err)
	}
	err = db.changeDirectory(ctx,
		`UPDATE mailboxes SET display_name = $1, password_hash = $2, smtp_auth = $3, shared = $4,
		 save_sent = $5, copy_sent_as = $6, copy_sent_on_behalf = $7, sent_retention = $8, quota_bytes = $9,
		 networks = $10, limit_concurrent = $11, limit_messages_per_minute = $12,
		 limit_recipients_per_message = $13, limit_recipients_per_day = $14, updated_at = $15,
		 imap_enabled = $16
		 WHERE address = $17`,
		m.DisplayName, m.PasswordHash, m.SMTPAuth, m.Shared,
		m.SaveSent, m.CopySentAs, m.CopySentOnBehalf, int64(m.SentRetention), m.QuotaBytes,
		networks, m.Limits.Concurrent, m.Limits.MessagesPerMinute,
		m.Limits.RecipientsPerMessage, m.Limits.RecipientsPerDay, Nanos(db.Stamp()), m.IMAP, m.Address)
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
			SELECT a.address FROM aliases a JOIN mailboxes m ON m.id = a.mailbox_id WHERE m.address = $1)`, address); err != nil {
			return fmt.Errorf("remove grants on its aliases: %w", err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM mailboxes WHERE address = $1`, address)
		if err != nil {
			return err
		}
		if err := oneRow(res); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM grants WHERE on_addr = $1`, address); err != nil {
			return fmt.Errorf("remove grants on it: %w", err)
		}
		return db.bumpDirectoryVersion(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("delete mailbox %q: %w", address, err)
	}
	return nil
}

// selectMailbox is the column list scanMailbox reads.
const selectMailbox = `SELECT m.id, m.address, d.name, m.display_name, m.password_hash,
	m.smtp_auth, m.shared, m.imap_enabled, m.save_sent, m.copy_sent_as, m.copy_sent_on_behalf, m.sent_retention,
	m.quota_bytes, m.networks, m.limit_concurrent, m.limit_messages_per_minute,
	m.limit_recipients_per_message, m.limit_recipients_per_day, m.created_at, m.updated_at
	FROM mailboxes m JOIN domains d ON d.id = m.domain_id`

// scanMailbox reads one row of selectMailbox.
func (db *DB) scanMailbox(row interface{ Scan(...any) error }) (store.Mailbox, error) {
	var m store.Mailbox
	var retention, created, updated int64
	err := row.Scan(&m.ID, &m.Address, &m.Domain, &m.DisplayName, &m.PasswordHash,
		&m.SMTPAuth, &m.Shared, &m.IMAP, &m.SaveSent, &m.CopySentAs, &m.CopySentOnBehalf, &retention,
		&m.QuotaBytes, db.d.ScanNetworks(&m.Networks), &m.Limits.Concurrent, &m.Limits.MessagesPerMinute,
		&m.Limits.RecipientsPerMessage, &m.Limits.RecipientsPerDay, &created, &updated)
	if err != nil {
		return store.Mailbox{}, err
	}
	m.SentRetention = time.Duration(retention)
	m.CreatedAt = FromNanos(created)
	m.UpdatedAt = FromNanos(updated)
	return m, nil
}

// Mailbox returns one mailbox by its exact (normalized) address;
// store.ErrNotFound if absent.
func (db *DB) Mailbox(ctx context.Context, address string) (store.Mailbox, error) {
	m, err := db.scanMailbox(db.sql.QueryRowContext(ctx, selectMailbox+` WHERE m.address = $1`, address))
	if noRows(err) {
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
		q, args = selectMailbox+` WHERE d.name = $1 ORDER BY m.address`, []any{domain}
	}
	scan := func(r *sql.Rows) (store.Mailbox, error) { return db.scanMailbox(r) }
	ms, err := QueryAll(ctx, db.sql, scan, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list mailboxes of %q: %w", domain, err)
	}
	return ms, nil
}
