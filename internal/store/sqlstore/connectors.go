package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"mailroom/internal/store"
)

// AddConnector stores c and returns it with ID and CreatedAt set.
// store.ErrNotFound if its mailbox does not exist; store.ErrConflict if
// the name is taken.
func (db *DB) AddConnector(ctx context.Context, c store.Connector) (store.Connector, error) {
	networks, err := db.d.Networks(c.Networks)
	if err != nil {
		return store.Connector{}, fmt.Errorf("add connector %q: %w", c.Name, err)
	}
	c.Networks = normalNetworks(c.Networks)
	c.Fingerprints = normalNetworks(c.Fingerprints)
	c.CreatedAt = db.Stamp()
	err = db.write(ctx, func(tx *sql.Tx) error {
		owner, err := mailboxID(ctx, tx, c.Mailbox)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx,
			`INSERT INTO connectors (name, mailbox_id, networks, fingerprints, legacy_tls, created_at)
			 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			c.Name, owner, networks, strings.Join(c.Fingerprints, ","), c.LegacyTLS, Nanos(c.CreatedAt)).Scan(&c.ID)
		if err := db.mapInsert(err, fmt.Sprintf("mailbox %q", c.Mailbox)); err != nil {
			return err
		}
		return db.bumpDirectoryVersion(ctx, tx)
	})
	if err != nil {
		return store.Connector{}, fmt.Errorf("add connector %q: %w", c.Name, err)
	}
	return c, nil
}

// UpdateConnector writes Mailbox, Networks, Fingerprints and LegacyTLS of
// the connector named c.Name; store.ErrNotFound if it or the mailbox does
// not exist.
func (db *DB) UpdateConnector(ctx context.Context, c store.Connector) error {
	networks, err := db.d.Networks(c.Networks)
	if err != nil {
		return fmt.Errorf("update connector %q: %w", c.Name, err)
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		owner, err := mailboxID(ctx, tx, c.Mailbox)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx,
			`UPDATE connectors SET mailbox_id = $1, networks = $2, fingerprints = $3, legacy_tls = $4 WHERE name = $5`,
			owner, networks, strings.Join(c.Fingerprints, ","), c.LegacyTLS, c.Name)
		if err != nil {
			return err
		}
		if err := oneRow(res); err != nil {
			return err
		}
		return db.bumpDirectoryVersion(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("update connector %q: %w", c.Name, err)
	}
	return nil
}

// RemoveConnector deletes the connector named name; store.ErrNotFound if
// absent.
func (db *DB) RemoveConnector(ctx context.Context, name string) error {
	if err := db.changeDirectory(ctx, `DELETE FROM connectors WHERE name = $1`, name); err != nil {
		return fmt.Errorf("remove connector %q: %w", name, err)
	}
	return nil
}

// Connectors lists all connectors by name.
func (db *DB) Connectors(ctx context.Context) ([]store.Connector, error) {
	cs, err := QueryAll(ctx, db.sql, func(r *sql.Rows) (store.Connector, error) {
		var c store.Connector
		var fps string
		var created int64
		err := r.Scan(&c.ID, &c.Name, &c.Mailbox, db.d.ScanNetworks(&c.Networks), &fps, &c.LegacyTLS, &created)
		if fps != "" {
			c.Fingerprints = strings.Split(fps, ",")
		}
		c.Networks = normalNetworks(c.Networks)
		c.CreatedAt = FromNanos(created)
		return c, err
	}, `SELECT c.id, c.name, m.address, c.networks, c.fingerprints, c.legacy_tls, c.created_at
		 FROM connectors c JOIN mailboxes m ON m.id = c.mailbox_id
		 ORDER BY c.name`)
	if err != nil {
		return nil, fmt.Errorf("list connectors: %w", err)
	}
	return cs, nil
}
