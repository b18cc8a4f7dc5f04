package sqlite

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
		`SELECT COALESCE(SUM(size), 0) FROM folder_entries WHERE mailbox_id = ?`, mailboxID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("usage of mailbox %d: %w", mailboxID, err)
	}
	return n, nil
}

// ExpireFolderEntries deletes the entries of folder of the mailbox created
// strictly before cutoff and returns how many went. The messages they named
// stay until DeleteUnreferenced finds them unreferenced.
func (db *DB) ExpireFolderEntries(ctx context.Context, mailboxID int64, folder store.Folder, cutoff time.Time) (int, error) {
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`DELETE FROM folder_entries WHERE mailbox_id = ? AND folder = ? AND created_at < ?`,
			mailboxID, string(folder), bound(cutoff))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("expire folder %q of mailbox %d: %w", folder, mailboxID, err)
	}
	return int(n), nil
}

// unreferenced selects messages that no folder entry references and none of
// whose queue rows is in a non-final state. The scan of messages probes the
// folder_entries_message and queue_message indexes, once each per message.
const unreferenced = `SELECT m.id, m.blob, m.delivery_blob FROM messages m
	WHERE NOT EXISTS (SELECT 1 FROM folder_entries f WHERE f.message_id = m.id)
	AND NOT EXISTS (SELECT 1 FROM queue q WHERE q.message_id = m.id
		AND q.state NOT IN ('delivered', 'failed'))
	LIMIT ?`

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
	err := db.write(ctx, func(tx *sql.Tx) error {
		keys = nil
		ids, blobs, err := findUnreferenced(ctx, tx, limit)
		if err != nil || len(ids) == 0 {
			return err
		}
		for _, stmt := range []string{
			`DELETE FROM queue WHERE message_id = ?`,
			`DELETE FROM messages WHERE id = ?`,
		} {
			if err := execEach(ctx, tx, stmt, ids); err != nil {
				return err
			}
		}
		keys = blobs
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("delete unreferenced messages: %w", err)
	}
	return keys, nil
}

// findUnreferenced returns the ids of up to limit unreferenced messages and
// their distinct, non-empty blob keys.
func findUnreferenced(ctx context.Context, tx *sql.Tx, limit int) (ids, blobs []string, err error) {
	rows, err := tx.QueryContext(ctx, unreferenced, limit)
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

// execEach runs the one-parameter statement q once per id.
func execEach(ctx context.Context, tx *sql.Tx, q string, ids []string) error {
	stmt, err := tx.PrepareContext(ctx, q)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, id := range ids {
		if _, err := stmt.ExecContext(ctx, id); err != nil {
			return fmt.Errorf("message %s: %w", id, err)
		}
	}
	return nil
}

// SubmissionLog returns the submission records at or after since, oldest
// first (records of the same instant in the order they were written).
func (db *DB) SubmissionLog(ctx context.Context, since time.Time) ([]store.SubmissionRecord, error) {
	rs, err := queryAll(ctx, db.sql, func(r *sql.Rows) (store.SubmissionRecord, error) {
		rec := store.SubmissionRecord{Messages: 1}
		var at int64
		err := r.Scan(&rec.MailboxID, &at, &rec.Recipients)
		rec.At = fromNanos(at)
		return rec, err
	}, `SELECT mailbox_id, at, recipients FROM submission_log WHERE at >= ? ORDER BY at, id`, bound(since))
	if err != nil {
		return nil, fmt.Errorf("read submission log: %w", err)
	}
	return rs, nil
}

// PruneSubmissionLog deletes the records older than cutoff.
func (db *DB) PruneSubmissionLog(ctx context.Context, cutoff time.Time) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM submission_log WHERE at < ?`, bound(cutoff))
		return err
	})
	if err != nil {
		return fmt.Errorf("prune submission log: %w", err)
	}
	return nil
}
