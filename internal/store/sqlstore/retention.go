package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"mailroom/internal/store"
)

// MailboxUsage is the sum of the sizes of the mailbox's folder entries
// over all folders; 0 when it has none (or does not exist).
func (db *DB) MailboxUsage(ctx context.Context, mailboxID int64) (int64, error) {
	var n int64
	err := db.sql.QueryRowContext(ctx,
		`SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM folder_entries WHERE mailbox_id = $1`, mailboxID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("usage of mailbox %d: %w", mailboxID, err)
	}
	return n, nil
}

// ExpireFolderEntries deletes the entries of folder of the mailbox created
// strictly before cutoff and returns how many went. The messages they named
// stay until DeleteUnreferenced finds them unreferenced.
func (db *DB) ExpireFolderEntries(ctx context.Context, mailboxID int64, folder store.Folder, cutoff time.Time) (int, error) {
	n, err := db.exec(ctx,
		`DELETE FROM folder_entries WHERE mailbox_id = $1 AND folder = $2 AND created_at < $3`,
		mailboxID, string(folder), Bound(cutoff))
	if err != nil {
		return 0, fmt.Errorf("expire folder %q of mailbox %d: %w", folder, mailboxID, err)
	}
	return int(n), nil
}

// Unreferenced selects messages that no folder entry references and none of
// whose queue rows is in a non-final state. The scan of messages probes the
// folder_entries_message and queue_message indexes, once each per message.
// The dialect's LockUnreferenced follows it.
const Unreferenced = `SELECT m.id, m.blob, m.delivery_blob FROM messages m
	WHERE NOT EXISTS (SELECT 1 FROM folder_entries f WHERE f.message_id = m.id)
	AND NOT EXISTS (SELECT 1 FROM queue q WHERE q.message_id = m.id
		AND q.state NOT IN ('delivered', 'failed'))
	LIMIT $1`

// maxUnreferenced bounds a sweep's batch, and so the IN lists of its
// deletes (each database allows thousands of parameters).
const maxUnreferenced = 1000

// DeleteUnreferenced deletes up to limit (at most 1,000) messages that no
// folder entry references and none of whose queue rows is in a non-final
// state (anything but delivered or failed), with their queue rows, in one
// transaction. It returns their distinct, non-empty blob keys (Blob and
// DeliveryBlob). A limit below 1 deletes nothing.
func (db *DB) DeleteUnreferenced(ctx context.Context, limit int) ([]string, error) {
	if limit < 1 {
		return nil, nil
	}
	limit = min(limit, maxUnreferenced)
	var keys []string
	err := db.write(ctx, func(tx *sql.Tx) error {
		keys = nil
		ids, blobs, err := db.findUnreferenced(ctx, tx, limit)
		if err != nil || len(ids) == 0 {
			return err
		}
		in := In(1, len(ids))
		if _, err := tx.ExecContext(ctx, `DELETE FROM queue WHERE message_id IN (`+in+`)`, ids...); err != nil {
			return fmt.Errorf("delete queue rows: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM messages WHERE id IN (`+in+`)`, ids...); err != nil {
			return fmt.Errorf("delete messages: %w", err)
		}
		keys = blobs
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("delete unreferenced messages: %w", err)
	}
	return keys, nil
}

// findUnreferenced selects (on PostgreSQL: locks) up to limit unreferenced
// messages and returns their ids and distinct, non-empty blob keys.
func (db *DB) findUnreferenced(ctx context.Context, tx *sql.Tx, limit int) (ids []any, blobs []string, err error) {
	type row struct{ id, blob, delivery string }
	rows, err := QueryAll(ctx, tx, func(r *sql.Rows) (row, error) {
		var x row
		return x, r.Scan(&x.id, &x.blob, &x.delivery)
	}, Unreferenced+db.d.LockUnreferenced, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("find: %w", err)
	}
	seen := map[string]bool{}
	for _, r := range rows {
		ids = append(ids, r.id)
		for _, k := range []string{r.blob, r.delivery} {
			if k != "" && !seen[k] {
				seen[k] = true
				blobs = append(blobs, k)
			}
		}
	}
	return ids, blobs, nil
}

// SubmissionLog returns the submission records at or after since, oldest
// first (records of the same instant in the order they were written); on
// PostgreSQL with the rolled-up seconds and minutes of its lease
// decisions, one record each.
func (db *DB) SubmissionLog(ctx context.Context, since time.Time) ([]store.SubmissionRecord, error) {
	rs, err := QueryAll(ctx, db.sql, func(r *sql.Rows) (store.SubmissionRecord, error) {
		var rec store.SubmissionRecord
		var at int64
		err := r.Scan(&rec.MailboxID, &at, &rec.Recipients, &rec.Messages)
		rec.At = FromNanos(at)
		return rec, err
	}, db.d.SubmissionLog, Bound(since))
	if err != nil {
		return nil, fmt.Errorf("read submission log: %w", err)
	}
	return rs, nil
}

// PruneSubmissionLog deletes the records older than cutoff, in one
// transaction.
func (db *DB) PruneSubmissionLog(ctx context.Context, cutoff time.Time) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		for _, q := range db.d.PruneSubmissionLog {
			if _, err := tx.ExecContext(ctx, q, Bound(cutoff)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("prune submission log: %w", err)
	}
	return nil
}
