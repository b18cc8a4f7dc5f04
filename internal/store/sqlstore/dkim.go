package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"mailroom/internal/store"
)

// AddDKIMKeys stores keys in one transaction: all or none.
func (db *DB) AddDKIMKeys(ctx context.Context, keys []store.DKIMKey) ([]store.DKIMKey, error) {
	out := make([]store.DKIMKey, len(keys))
	copy(out, keys)
	created := db.Stamp()
	err := db.write(ctx, func(tx *sql.Tx) error {
		for i := range out {
			k := &out[i]
			var domainID int64
			err := tx.QueryRowContext(ctx, `SELECT id FROM domains WHERE name = $1`, k.Domain).Scan(&domainID)
			if noRows(err) {
				return fmt.Errorf("domain %q: %w", k.Domain, store.ErrNotFound)
			}
			if err != nil {
				return err
			}
			k.CreatedAt = created
			err = tx.QueryRowContext(ctx,
				`INSERT INTO dkim_keys (domain_id, selector, algorithm, private_key, created_at)
				 VALUES ($1, $2, $3, $4, $5) RETURNING id`,
				domainID, k.Selector, k.Algorithm, k.PrivateKey, Nanos(created)).Scan(&k.ID)
			if err := db.mapInsert(err, fmt.Sprintf("domain %q", k.Domain)); err != nil {
				return fmt.Errorf("selector %q of %s: %w", k.Selector, k.Domain, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("add dkim keys: %w", err)
	}
	return out, nil
}

// DKIMKeysOf returns a domain's keys, oldest first; none for an unknown
// domain.
func (db *DB) DKIMKeysOf(ctx context.Context, domain string) ([]store.DKIMKey, error) {
	ks, err := QueryAll(ctx, db.sql, func(r *sql.Rows) (store.DKIMKey, error) {
		var k store.DKIMKey
		var created int64
		err := r.Scan(&k.ID, &k.Domain, &k.Selector, &k.Algorithm, &k.PrivateKey, &created)
		k.CreatedAt = FromNanos(created)
		return k, err
	}, `SELECT k.id, d.name, k.selector, k.algorithm, k.private_key, k.created_at
		 FROM dkim_keys k JOIN domains d ON d.id = k.domain_id
		 WHERE d.name = $1 ORDER BY k.id`, domain)
	if err != nil {
		return nil, fmt.Errorf("list dkim keys of %q: %w", domain, err)
	}
	return ks, nil
}
