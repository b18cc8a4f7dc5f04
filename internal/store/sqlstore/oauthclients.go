package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"mailroom/internal/store"
)

// AddOAuthClient lets the app-only client (issuer, clientID) act as
// mailboxes, creating it when new, and returns it with all its mailboxes.
// store.ErrNotFound if a mailbox does not exist (also when it goes while
// the permission is added).
func (db *DB) AddOAuthClient(ctx context.Context, issuer, clientID string, mailboxes []string) (store.OAuthClient, error) {
	var c store.OAuthClient
	now := Nanos(db.Stamp())
	err := db.write(ctx, func(tx *sql.Tx) error {
		ids := make([]int64, len(mailboxes))
		for i, a := range mailboxes {
			id, err := mailboxID(ctx, tx, a)
			if err != nil {
				return err
			}
			ids[i] = id
		}
		// Another writer may add the same client at once: the insert
		// waits for it, and the select then finds its row.
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO oauth_clients (issuer, client_id, created_at) VALUES ($1, $2, $3)
			 ON CONFLICT (issuer, client_id) DO NOTHING`, issuer, clientID, now); err != nil {
			return err
		}
		var id int64
		if err := tx.QueryRowContext(ctx, `SELECT id FROM oauth_clients WHERE issuer = $1 AND client_id = $2`,
			issuer, clientID).Scan(&id); err != nil {
			return err
		}
		for i, mb := range ids {
			_, err := tx.ExecContext(ctx,
				`INSERT INTO oauth_client_mailboxes (oauth_client_id, mailbox_id, created_at) VALUES ($1, $2, $3)
				 ON CONFLICT (oauth_client_id, mailbox_id) DO NOTHING`, id, mb, now)
			if err := db.mapInsert(err, fmt.Sprintf("mailbox %q", mailboxes[i])); err != nil {
				return err
			}
		}
		if err := db.bumpDirectoryVersion(ctx, tx); err != nil {
			return err
		}
		cs, err := db.oauthClients(ctx, tx, ` WHERE c.id = $1`, id)
		if err != nil {
			return err
		}
		c = cs[0]
		return nil
	})
	if err != nil {
		return store.OAuthClient{}, fmt.Errorf("add oauth client %q of %s: %w", clientID, issuer, err)
	}
	return c, nil
}

// RemoveOAuthClient removes the client's permission for each of
// mailboxes, or with none the client itself; store.ErrNotFound if the
// client, or one of mailboxes on it, is absent.
func (db *DB) RemoveOAuthClient(ctx context.Context, issuer, clientID string, mailboxes []string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		if len(mailboxes) == 0 {
			res, err := tx.ExecContext(ctx, `DELETE FROM oauth_clients WHERE issuer = $1 AND client_id = $2`, issuer, clientID)
			if err != nil {
				return err
			}
			if err := oneRow(res); err != nil {
				return err
			}
			return db.bumpDirectoryVersion(ctx, tx)
		}
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM oauth_clients WHERE issuer = $1 AND client_id = $2`,
			issuer, clientID).Scan(&id)
		if noRows(err) {
			return store.ErrNotFound
		} else if err != nil {
			return err
		}
		for _, a := range mailboxes {
			res, err := tx.ExecContext(ctx, `DELETE FROM oauth_client_mailboxes
				WHERE oauth_client_id = $1 AND mailbox_id = (SELECT id FROM mailboxes WHERE address = $2)`, id, a)
			if err != nil {
				return err
			}
			if err := oneRow(res); err != nil {
				return fmt.Errorf("mailbox %q: %w", a, err)
			}
		}
		return db.bumpDirectoryVersion(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("remove oauth client %q of %s: %w", clientID, issuer, err)
	}
	return nil
}

// OAuthClient returns the client (issuer, clientID); store.ErrNotFound if
// absent.
func (db *DB) OAuthClient(ctx context.Context, issuer, clientID string) (store.OAuthClient, error) {
	cs, err := db.oauthClients(ctx, db.sql, ` WHERE c.issuer = $1 AND c.client_id = $2`, issuer, clientID)
	if err == nil && len(cs) == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.OAuthClient{}, fmt.Errorf("read oauth client %q of %s: %w", clientID, issuer, err)
	}
	return cs[0], nil
}

// OAuthClients lists all clients by issuer, then client id, each with its
// mailboxes by address.
func (db *DB) OAuthClients(ctx context.Context) ([]store.OAuthClient, error) {
	cs, err := db.oauthClients(ctx, db.sql, "")
	if err != nil {
		return nil, fmt.Errorf("list oauth clients: %w", err)
	}
	return cs, nil
}

// oauthClients reads the clients that where (a WHERE clause over c, or "")
// selects, with their mailboxes.
func (db *DB) oauthClients(ctx context.Context, q Querier, where string, args ...any) ([]store.OAuthClient, error) {
	type row struct {
		c       store.OAuthClient
		mailbox sql.NullString
	}
	rows, err := QueryAll(ctx, q, func(r *sql.Rows) (row, error) {
		var x row
		var created int64
		err := r.Scan(&x.c.ID, &x.c.Issuer, &x.c.ClientID, &created, &x.mailbox)
		x.c.CreatedAt = FromNanos(created)
		return x, err
	}, `SELECT c.id, c.issuer, c.client_id, c.created_at, m.address
		FROM oauth_clients c
		LEFT JOIN oauth_client_mailboxes p ON p.oauth_client_id = c.id
		LEFT JOIN mailboxes m ON m.id = p.mailbox_id`+where+`
		ORDER BY c.issuer, c.client_id, m.address`, args...)
	if err != nil {
		return nil, err
	}
	var cs []store.OAuthClient
	for _, x := range rows {
		if len(cs) == 0 || cs[len(cs)-1].ID != x.c.ID {
			cs = append(cs, x.c)
		}
		if x.mailbox.Valid {
			last := &cs[len(cs)-1]
			last.Mailboxes = append(last.Mailboxes, x.mailbox.String)
		}
	}
	return cs, nil
}
