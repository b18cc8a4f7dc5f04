package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"mailroom/internal/store"
)

var _ store.Leases = (*DB)(nil)

// dbNow is the database's clock in unix nanoseconds: lease expiry never
// depends on the nodes' clocks agreeing.
const dbNow = `(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000000)::BIGINT`

// lockMailboxLimits serializes the limit decisions of one mailbox across
// every node: the row lock is held until the deciding transaction ends.
// FOR NO KEY UPDATE does not block inserts that reference the mailbox
// (Accept's rows), only other deciders and writes to the mailbox row.
const lockMailboxLimits = `SELECT id FROM mailboxes WHERE id = $1 FOR NO KEY UPDATE`

// AcquireLease takes a concurrency slot of the mailbox; see store.Leases.
func (db *DB) AcquireLease(ctx context.Context, req store.LeaseRequest) (store.LeaseResult, error) {
	var res store.LeaseResult
	err := db.writeAsync(ctx, func(tx pgx.Tx) error {
		if err := lockLimits(ctx, tx, req.MailboxID); err != nil {
			return err
		}
		// Expired leases belong to nodes that died or lost the database:
		// they stop counting, and go.
		if _, err := tx.Exec(ctx, `DELETE FROM limit_leases WHERE mailbox_id = $1 AND lease_until <= `+dbNow, req.MailboxID); err != nil {
			return err
		}
		var held int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM limit_leases WHERE mailbox_id = $1`, req.MailboxID).Scan(&held); err != nil {
			return err
		}
		if held >= req.Concurrent {
			res = store.LeaseResult{Outcome: store.LeaseConcurrent}
			return nil
		}
		var sent int
		var oldest *int64
		err := tx.QueryRow(ctx, `SELECT COUNT(*), MIN(at) FROM submission_log WHERE mailbox_id = $1 AND at > $2`,
			req.MailboxID, bound(req.Now.Add(-time.Minute))).Scan(&sent, &oldest)
		if err != nil {
			return err
		}
		if sent+held >= req.MessagesPerMinute {
			res = store.LeaseResult{Outcome: store.LeaseRate, Oldest: optTime(oldest)}
			return nil
		}
		res = store.LeaseResult{Outcome: store.LeaseGranted}
		return tx.QueryRow(ctx,
			`INSERT INTO limit_leases (mailbox_id, node, lease_until) VALUES ($1, $2, `+dbNow+` + $3) RETURNING id`,
			req.MailboxID, req.Node, req.TTL.Nanoseconds()).Scan(&res.ID)
	})
	if err != nil {
		return store.LeaseResult{}, fmt.Errorf("acquire lease of mailbox %d: %w", req.MailboxID, err)
	}
	return res, nil
}

// ReserveLeaseRecipient reserves one recipient of the daily budget for
// lease id; see store.Leases.
func (db *DB) ReserveLeaseRecipient(ctx context.Context, id int64, perDay int, now time.Time) (store.LeaseResult, error) {
	var res store.LeaseResult
	err := db.writeAsync(ctx, func(tx pgx.Tx) error {
		var mailbox int64
		err := tx.QueryRow(ctx, `SELECT mailbox_id FROM limit_leases WHERE id = $1`, id).Scan(&mailbox)
		if noRows(err) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := lockLimits(ctx, tx, mailbox); err != nil {
			return err
		}
		var reserved, accepted int
		err = tx.QueryRow(ctx, `SELECT COALESCE(SUM(recipients), 0) FROM limit_leases
			WHERE mailbox_id = $1 AND (id = $2 OR lease_until > `+dbNow+`)`, mailbox, id).Scan(&reserved)
		if err != nil {
			return err
		}
		var oldest *int64
		err = tx.QueryRow(ctx, `SELECT COALESCE(SUM(recipients), 0), MIN(at) FROM submission_log WHERE mailbox_id = $1 AND at > $2`,
			mailbox, bound(now.Add(-24*time.Hour))).Scan(&accepted, &oldest)
		if err != nil {
			return err
		}
		if reserved+accepted >= perDay {
			res = store.LeaseResult{Outcome: store.LeaseDaily, ID: id, Oldest: optTime(oldest)}
			return nil
		}
		tag, err := tx.Exec(ctx, `UPDATE limit_leases SET recipients = recipients + 1 WHERE id = $1`, id)
		if err != nil {
			return err
		}
		res = store.LeaseResult{Outcome: store.LeaseGranted, ID: id}
		return oneRow(tag)
	})
	if err != nil {
		return store.LeaseResult{}, fmt.Errorf("reserve recipient for lease %d: %w", id, err)
	}
	return res, nil
}

// RenewLeases extends the leases ids; see store.Leases.
func (db *DB) RenewLeases(ctx context.Context, ids []int64, ttl time.Duration) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	var n int64
	err := db.writeAsync(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE limit_leases SET lease_until = `+dbNow+` + $2 WHERE id = ANY($1)`, ids, ttl.Nanoseconds())
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("renew %d leases: %w", len(ids), err)
	}
	return int(n), nil
}

// ReleaseLease deletes lease id; see store.Leases.
func (db *DB) ReleaseLease(ctx context.Context, id int64) error {
	err := db.writeAsync(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM limit_leases WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("release lease %d: %w", id, err)
	}
	return nil
}

// LiveLeases counts the mailbox's unexpired leases; see store.Leases.
func (db *DB) LiveLeases(ctx context.Context, mailboxID int64) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `SELECT COUNT(*) FROM limit_leases WHERE mailbox_id = $1 AND lease_until > `+dbNow, mailboxID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count leases of mailbox %d: %w", mailboxID, err)
	}
	return n, nil
}

// lockLimits takes the mailbox's limits lock (lockMailboxLimits).
func lockLimits(ctx context.Context, tx pgx.Tx, mailbox int64) error {
	var id int64
	err := tx.QueryRow(ctx, lockMailboxLimits, mailbox).Scan(&id)
	if noRows(err) {
		return store.ErrNotFound
	}
	return err
}

// optTime converts a nullable stored time; NULL is the zero time.
func optTime(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return fromNanos(*n)
}
