package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"mailroom/internal/store"
	"mailroom/internal/store/sqlstore"
)

var _ store.Leases = (*DB)(nil)

// dbNow is the database's clock in unix nanoseconds: lease expiry never
// depends on the nodes' clocks agreeing.
const dbNow = `(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000000)::BIGINT`

// AcquireLease takes a concurrency slot of the mailbox; see store.Leases.
// The decision is one call of mailroom_acquire_lease (migration 0008):
// one round trip under the mailbox's row lock, which also rolls the
// mailbox's older submission log rows into per-second and per-minute sums.
func (db *DB) AcquireLease(ctx context.Context, req store.LeaseRequest) (store.LeaseResult, error) {
	var outcome int
	var id, oldest *int64
	rollup := db.rollupDue(req.MailboxID, req.Now)
	err := db.pool.QueryRow(ctx, `SELECT outcome, lease_id, oldest FROM mailroom_acquire_lease($1, $2, $3, $4, $5, $6, $7, $8)`,
		req.MailboxID, req.Node, req.TTL.Nanoseconds(), req.Concurrent, req.MessagesPerMinute,
		sqlstore.Bound(req.Now), sqlstore.Bound(req.Now.Add(-time.Minute)), rollup).Scan(&outcome, &id, &oldest)
	if err == nil {
		return leaseResult(outcome, id, oldest)
	}
	return store.LeaseResult{}, fmt.Errorf("acquire lease of mailbox %d: %w", req.MailboxID, err)
}

// rollupEvery is how often this handle has a mailbox's submission log
// rolled up by its lease decisions (migration 0008): each rollup is a few
// statements, so not every decision pays for one.
const rollupEvery = time.Second

// rollupDue reports whether a decision on mailbox at now should roll up
// its log, and if so records that it will.
func (db *DB) rollupDue(mailbox int64, now time.Time) bool {
	db.rollupMu.Lock()
	defer db.rollupMu.Unlock()
	if db.rolledUp == nil {
		db.rolledUp = make(map[int64]time.Time)
	}
	if last, ok := db.rolledUp[mailbox]; ok && now.Sub(last) < rollupEvery && !now.Before(last) {
		return false
	}
	if len(db.rolledUp) > 100000 { // bounded: forget, and roll up again
		clear(db.rolledUp)
	}
	db.rolledUp[mailbox] = now
	return true
}

// ReserveLeaseRecipient reserves one recipient of the daily budget for
// lease id; see store.Leases. One call of mailroom_reserve_recipient.
func (db *DB) ReserveLeaseRecipient(ctx context.Context, id int64, perDay int, now time.Time) (store.LeaseResult, error) {
	var outcome int
	var oldest *int64
	err := db.pool.QueryRow(ctx, `SELECT outcome, oldest FROM mailroom_reserve_recipient($1, $2, $3)`,
		id, perDay, sqlstore.Bound(now.Add(-24*time.Hour))).Scan(&outcome, &oldest)
	if err != nil {
		return store.LeaseResult{}, fmt.Errorf("reserve recipient for lease %d: %w", id, err)
	}
	res, err := leaseResult(outcome, &id, oldest)
	if err != nil {
		return store.LeaseResult{}, fmt.Errorf("reserve recipient for lease %d: %w", id, err)
	}
	return res, nil
}

// leaseResult converts a lease function's answer (0 granted, 1
// concurrent, 2 rate, 3 daily, -1 no such mailbox or lease).
func leaseResult(outcome int, id, oldest *int64) (store.LeaseResult, error) {
	var res store.LeaseResult
	switch outcome {
	case 0:
		res.Outcome = store.LeaseGranted
	case 1:
		res.Outcome = store.LeaseConcurrent
	case 2:
		res.Outcome = store.LeaseRate
	case 3:
		res.Outcome = store.LeaseDaily
	default:
		return res, store.ErrNotFound
	}
	if id != nil { // NULL unless granted (acquire) or named (reserve)
		res.ID = *id
	}
	res.Oldest = optTime(oldest)
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
	if _, err := db.pool.Exec(ctx, `SELECT mailroom_release_lease($1)`, id); err != nil {
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

// optTime converts a nullable stored time; NULL is the zero time.
func optTime(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return sqlstore.FromNanos(*n)
}
