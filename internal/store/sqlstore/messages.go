package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"mailroom/internal/store"
)

// Message returns one message by queue id; store.ErrNotFound if absent.
func (db *DB) Message(ctx context.Context, id string) (store.Message, error) {
	var m store.Message
	var created int64
	err := db.sql.QueryRowContext(ctx,
		`SELECT id, message_id, mailbox_id, envelope_from, size, blob, delivery_blob, created_at
		 FROM messages WHERE id = $1`, id).
		Scan(&m.ID, &m.MessageID, &m.MailboxID, &m.EnvelopeFrom, &m.Size, &m.Blob, &m.DeliveryBlob, &created)
	if noRows(err) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Message{}, fmt.Errorf("read message %s: %w", id, err)
	}
	m.CreatedAt = FromNanos(created)
	return m, nil
}

// QueueRows returns the queue rows of message messageID, or of all messages
// when messageID is "", oldest first. An unknown message has no rows.
func (db *DB) QueueRows(ctx context.Context, messageID string) ([]store.QueueRow, error) {
	const cols = `SELECT id, message_id, recipient, state, attempts, next_attempt_at, last_reply, updated_at FROM queue`
	q, args := cols+` ORDER BY id`, []any(nil)
	if messageID != "" {
		q, args = cols+` WHERE message_id = $1 ORDER BY id`, []any{messageID}
	}
	qs, err := QueryAll(ctx, db.sql, func(r *sql.Rows) (store.QueueRow, error) {
		var row store.QueueRow
		var next, updated int64
		err := r.Scan(&row.ID, &row.MessageID, &row.Recipient, &row.State, &row.Attempts, &next, &row.LastReply, &updated)
		row.NextAttemptAt = FromNanos(next)
		row.UpdatedAt = FromNanos(updated)
		return row, err
	}, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list queue rows of %q: %w", messageID, err)
	}
	return qs, nil
}

// listedCols are the folder_entries columns a listing reads (not the
// IMAP UID and flags), scanListed scans them.
const listedCols = `id, mailbox_id, folder, message_id, blob, size, created_at`

func scanListed(r interface{ Scan(...any) error }) (store.FolderEntry, error) {
	var e store.FolderEntry
	var f string
	var created int64
	err := r.Scan(&e.ID, &e.MailboxID, &f, &e.MessageID, &e.Blob, &e.Size, &created)
	e.Folder = store.Folder(f)
	e.CreatedAt = FromNanos(created)
	return e, err
}

// FolderEntries lists the entries of one folder of a mailbox, oldest first.
func (db *DB) FolderEntries(ctx context.Context, mailboxID int64, folder store.Folder) ([]store.FolderEntry, error) {
	es, err := QueryAll(ctx, db.sql, func(r *sql.Rows) (store.FolderEntry, error) { return scanListed(r) },
		`SELECT `+listedCols+` FROM folder_entries WHERE mailbox_id = $1 AND folder = $2 ORDER BY id`,
		mailboxID, string(folder))
	if err != nil {
		return nil, fmt.Errorf("list folder %q of mailbox %d: %w", folder, mailboxID, err)
	}
	return es, nil
}

// FolderPage lists up to limit entries of a folder, newest first, after
// the newest offset, and counts the folder's entries (both by the index
// on mailbox_id, folder, id).
func (db *DB) FolderPage(ctx context.Context, mailboxID int64, folder store.Folder, offset, limit int) ([]store.FolderEntry, int, error) {
	var total int
	if err := db.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM folder_entries WHERE mailbox_id = $1 AND folder = $2`,
		mailboxID, string(folder)).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count folder %q of mailbox %d: %w", folder, mailboxID, err)
	}
	es, err := QueryAll(ctx, db.sql, func(r *sql.Rows) (store.FolderEntry, error) { return scanListed(r) },
		`SELECT `+listedCols+` FROM folder_entries WHERE mailbox_id = $1 AND folder = $2 ORDER BY id DESC LIMIT $3 OFFSET $4`,
		mailboxID, string(folder), limit, offset)
	if err != nil {
		return nil, 0, fmt.Errorf("list a page of folder %q of mailbox %d: %w", folder, mailboxID, err)
	}
	return es, total, nil
}

// FindFolderEntry returns the newest entry of a folder naming message id.
func (db *DB) FindFolderEntry(ctx context.Context, mailboxID int64, folder store.Folder, id string) (store.FolderEntry, error) {
	e, err := scanListed(db.sql.QueryRowContext(ctx,
		`SELECT `+listedCols+` FROM folder_entries WHERE mailbox_id = $1 AND folder = $2 AND message_id = $3 ORDER BY id DESC LIMIT 1`,
		mailboxID, string(folder), id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.FolderEntry{}, fmt.Errorf("message %s in folder %q of mailbox %d: %w", id, folder, mailboxID, store.ErrNotFound)
	}
	if err != nil {
		return store.FolderEntry{}, fmt.Errorf("find message %s in folder %q of mailbox %d: %w", id, folder, mailboxID, err)
	}
	return e, nil
}
