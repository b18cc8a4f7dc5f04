package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"mailroom/internal/store"
)

// grantKind validates a grant kind.
func grantKind(kind string) error {
	switch kind {
	case store.GrantSendAs, store.GrantSendOnBehalf, store.GrantFullAccess:
		return nil
	}
	return fmt.Errorf("grant kind %q: want %q, %q or %q", kind, store.GrantSendAs, store.GrantSendOnBehalf, store.GrantFullAccess)
}

// AddGrant records that g.Grantee may send as, or on behalf of, g.On, and
// returns it with ID and CreatedAt set. store.ErrNotFound if the grantee
// mailbox does not exist (also when it goes while the grant is added);
// store.ErrConflict if the same grant (kind, target and grantee) exists.
// The target need not be a mailbox.
func (db *DB) AddGrant(ctx context.Context, g store.Grant) (store.Grant, error) {
	what := fmt.Sprintf("add %s grant on %q to %q", g.Kind, g.On, g.Grantee)
	if err := grantKind(g.Kind); err != nil {
		return store.Grant{}, fmt.Errorf("%s: %w", what, err)
	}
	g.CreatedAt = db.Stamp()
	err := db.write(ctx, func(tx *sql.Tx) error {
		grantee, err := mailboxID(ctx, tx, g.Grantee)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx,
			`INSERT INTO grants (kind, on_addr, grantee_id, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			g.Kind, g.On, grantee, Nanos(g.CreatedAt)).Scan(&g.ID)
		if err := db.mapInsert(err, fmt.Sprintf("mailbox %q", g.Grantee)); err != nil {
			return err
		}
		return db.bumpDirectoryVersion(ctx, tx)
	})
	if err != nil {
		return store.Grant{}, fmt.Errorf("%s: %w", what, err)
	}
	return g, nil
}

// RemoveGrant removes the grant matching g.Kind, g.On and g.Grantee;
// store.ErrNotFound if absent (including when the grantee does not exist).
func (db *DB) RemoveGrant(ctx context.Context, g store.Grant) error {
	err := db.changeDirectory(ctx,
		`DELETE FROM grants WHERE kind = $1 AND on_addr = $2
		 AND grantee_id = (SELECT id FROM mailboxes WHERE address = $3)`,
		g.Kind, g.On, g.Grantee)
	if err != nil {
		return fmt.Errorf("remove %s grant on %q to %q: %w", g.Kind, g.On, g.Grantee, err)
	}
	return nil
}

// Grants lists all grants ordered by On, then Grantee, then Kind.
func (db *DB) Grants(ctx context.Context) ([]store.Grant, error) {
	gs, err := QueryAll(ctx, db.sql, func(r *sql.Rows) (store.Grant, error) {
		var g store.Grant
		var created int64
		err := r.Scan(&g.ID, &g.Kind, &g.On, &g.Grantee, &created)
		g.CreatedAt = FromNanos(created)
		return g, err
	}, `SELECT g.id, g.kind, g.on_addr, m.address, g.created_at
		 FROM grants g JOIN mailboxes m ON m.id = g.grantee_id
		 ORDER BY g.on_addr, m.address, g.kind`)
	if err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	return gs, nil
}
