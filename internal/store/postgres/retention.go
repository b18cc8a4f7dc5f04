package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"mailroom/internal/store"
)

// MailboxUsage is the sum of the sizes of the mailbox's folder entries
// over all folders; 0 when it has none (or does not exist).
func (db *DB) MailboxUsage(ctx context.Context, mailboxID int64) (int64, error) {
	var n int64
	err := db.pool.QueryRow(ctx,
		`SELECT COALESCE(SUM(size), 0)::bigint FROM folder_entries WHERE mailbox_id = $1`, mailboxID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("usage of mailbox %d: %w", mailboxID, err)
	}
	return n, nil
}

// ExpireFolderEntries deletes the entries of folder of the mailbox created
// strictly before cutoff and returns how many went. The messages they named
// stay until DeleteUnreferenced finds them unreferenced.
func (db *DB) ExpireFolderEntries(ctx context.Context, mailboxID int64, folder store.Folder, cutoff time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx,
		`DELETE FROM folder_entries WHERE mailbox_id = $1 AND folder = $2 AND created_at < $3`,
		mailboxID, string(folder), bound(cutoff))
	if err != nil {
		return 0, fmt.Errorf("expire folder %q of mailbox %d: %w", folder, mailboxID, err)
	}
	return int(tag.RowsAffected()), nil
}

// unreferenced selects and locks messages that no folder entry references
// and none of whose queue rows is in a non-final state. SKIP LOCKED lets two
// sweepers (two nodes) work at once, each on other messages.
const unreferenced = `SELECT m.id, m.blob, m.delivery_blob FROM messages m
	WHERE NOT EXISTS (SELECT 1 FROM folder_entries f WHERE f.message_id = m.id)
	AND NOT EXISTS (SELECT 1 FROM queue q WHERE q.message_id = m.id
		AND q.state NOT IN ('delivered', 'failed'))
	LIMIT $1
	FOR UPDATE OF m SKIP LOCKED`

// DeleteUnreferenced deletes up to limit messages that no folder entry
// references and none of whose queue rows is in a non-final state (anything
// but delivered or failed), with their queue rows, in one transaction. It
// returns their distinct, non-empty blob keys (Blob and DeliveryBlob). A
// limit below 1 deletes nothing.
func (db *DB) DeleteUnreferenced(ctx context.Context, limit int) ([]string, error) {
	if limit < 1 {
		return nil, nil
	}
	var keys []string
	err := db.write(ctx, func(tx pgx.Tx) error {
		keys = nil
		ids, blobs, err := findUnreferenced(ctx, tx, limit)
		if err != nil || len(ids) == 0 {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM queue WHERE message_id = ANY($1)`, ids); err != nil {
			return fmt.Errorf("delete queue rows: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM messages WHERE id = ANY($1)`, ids); err != nil {
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

// findUnreferenced locks up to limit unreferenced messages and returns their
// ids and distinct, non-empty blob keys.
func findUnreferenced(ctx context.Context, tx pgx.Tx, limit int) (ids, blobs []string, err error) {
	rows, err := tx.Query(ctx, unreferenced, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("find: %w", err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var id, blob, delivery string
		if err := rows.Scan(&id, &blob, &delivery); err != nil {
			return nil, nil, fmt.Errorf("find: %w", err)
		}
		ids = append(ids, id)
		for _, k := range []string{blob, delivery} {
			if k != "" && !seen[k] {
				seen[k] = true
				blobs = append(blobs, k)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("find: %w", err)
	}
	return ids, blobs, nil
}

// SubmissionLog returns the submission records at or after since, oldest
// first (records of the same instant in the order they were written).
func (db *DB) SubmissionLog(ctx context.Context, since time.Time) ([]store.SubmissionRecord, error) {
	// Rolled-up seconds and minutes (migration 0008) come back as one
	// record each, at their start, when any of them is at or after since.
	rows, err := db.pool.Query(ctx,
		`SELECT mailbox_id, at, recipients, messages FROM (
			SELECT mailbox_id, at, recipients, 1 AS messages, id FROM submission_log WHERE at >= $1
			UNION ALL
			SELECT mailbox_id, second, recipients, messages, 0 FROM submission_seconds WHERE second + 1000000000 > $1
			UNION ALL
			SELECT mailbox_id, minute, recipients, messages, 0 FROM submission_minutes WHERE minute + 60000000000 > $1
		) r ORDER BY at, id`, bound(since))
	if err != nil {
		return nil, fmt.Errorf("read submission log: %w", err)
	}
	rs, err := collect(rows, func(row pgx.CollectableRow) (store.SubmissionRecord, error) {
		var r store.SubmissionRecord
		var at int64
		err := row.Scan(&r.MailboxID, &at, &r.Recipients, &r.Messages)
		r.At = fromNanos(at)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("read submission log: %w", err)
	}
	return rs, nil
}

// PruneSubmissionLog deletes the records older than cutoff.
func (db *DB) PruneSubmissionLog(ctx context.Context, cutoff time.Time) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM submission_log WHERE at < $1`, bound(cutoff)); err != nil {
		return fmt.Errorf("prune submission log: %w", err)
	}
	if _, err := db.pool.Exec(ctx, `DELETE FROM submission_seconds WHERE second + 1000000000 <= $1`, bound(cutoff)); err != nil {
		return fmt.Errorf("prune submission log seconds: %w", err)
	}
	if _, err := db.pool.Exec(ctx, `DELETE FROM submission_minutes WHERE minute + 60000000000 <= $1`, bound(cutoff)); err != nil {
		return fmt.Errorf("prune submission log minutes: %w", err)
	}
	return nil
}
