package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"

	"mailroom/internal/store"
)

// The statements of an acceptance, by their index in AcceptSQL.
const (
	StmtMessage = iota
	StmtQueue
	StmtEntry
	StmtLog
	StmtBody
	StmtFolder
	StmtUID
)

// AcceptSQL are the statements that write an acceptance: one row shape
// for the message, its queue rows, folder entries, submission record and
// bodies, whichever database runs them (SQLite prepares them once and runs
// them in a group commit; PostgreSQL sends them in one batch).
var AcceptSQL = [...]string{
	StmtMessage: `INSERT INTO messages (id, message_id, mailbox_id, envelope_from, size, blob, delivery_blob, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
	StmtQueue: `INSERT INTO queue (message_id, recipient, state, attempts, next_attempt_at, last_reply, updated_at)
		VALUES ($1, $2, $3, 0, $4, '', $5)`,
	StmtEntry: `INSERT INTO folder_entries (mailbox_id, folder, message_id, blob, size, created_at, uid, flags, appended)
		VALUES ($1, $2, $3, $4, $5, $6, (SELECT uid_next - 1 FROM folders WHERE mailbox_id = $1 AND name = $2), $7, $8)`,
	StmtLog:  `INSERT INTO submission_log (mailbox_id, at, recipients) VALUES ($1, $2, $3)`,
	StmtBody: `INSERT INTO bodies (key, part, data, stored_at) VALUES ($1, 0, $2, $3)`,
	// StmtFolder makes the folder an entry goes to when it is missing
	// (without taking an id when it is not: PostgreSQL spends an identity
	// value on every INSERT that makes a row, conflicting or not).
	StmtFolder: `INSERT INTO folders (mailbox_id, name, special_use, created_at)
		SELECT CAST($1 AS BIGINT), $2, $3, CAST($4 AS BIGINT)
		WHERE NOT EXISTS (SELECT 1 FROM folders WHERE mailbox_id = $1 AND name = $2)
		ON CONFLICT (mailbox_id, name) DO NOTHING`,
	// StmtUID takes the folder's next UID for the entry StmtEntry writes
	// next. Its row lock (PostgreSQL) is held to the commit, so a
	// folder's UIDs ascend in commit order.
	StmtUID: `UPDATE folders SET uid_next = uid_next + 1, changes = changes + 1 WHERE mailbox_id = $1 AND name = $2`,
}

// Row is one statement of an acceptance: which of AcceptSQL, its
// arguments, and Wrap, which turns its error into the one the store
// returns (a duplicate message is store.ErrConflict, an entry of a missing
// mailbox store.ErrNotFound).
type Row struct {
	Stmt int
	Args []any
	Wrap func(error) error
}

// AcceptanceRows returns the rows that write a, in order: its message (a
// zero CreatedAt is taken as set already), one queue row per recipient
// (no attempts, due at once, delivered when a.Delivered names it), its
// folder entries (an empty MessageID or zero CreatedAt takes the
// message's), its bodies and, when logged, its submission record (the
// message's MailboxID, CreatedAt and number of recipients; DSNs have
// none). Run, a duplicate message ID is store.ErrConflict, an entry
// naming no mailbox store.ErrNotFound.
func (db *DB) AcceptanceRows(a store.Acceptance, logged bool) ([]Row, error) {
	msg := a.Message
	created := Nanos(msg.CreatedAt)
	rows := make([]Row, 0, 2+len(a.Recipients)+len(a.Entries)+len(a.Bodies))
	rows = append(rows, Row{StmtMessage,
		[]any{msg.ID, msg.MessageID, msg.MailboxID, msg.EnvelopeFrom, msg.Size, msg.Blob, msg.DeliveryBlob, created},
		func(err error) error {
			if db.d.IsUnique(err) {
				return store.ErrConflict
			}
			return fmt.Errorf("insert message: %w", err)
		}})
	for _, rcpt := range a.Recipients {
		state := store.StateQueued
		if a.Delivered[rcpt] {
			state = store.StateDelivered
		}
		rows = append(rows, Row{StmtQueue, []any{msg.ID, rcpt, state, created, created}, func(err error) error {
			return fmt.Errorf("insert queue row for %s: %w", rcpt, err)
		}})
	}
	rows = append(rows, db.EntryRows(msg.ID, created, a.Entries)...)
	for _, b := range a.Bodies {
		if len(b.Data) > store.BodyPartSize {
			return nil, fmt.Errorf("body %s: %d bytes is more than one part", b.Key, len(b.Data))
		}
		rows = append(rows, Row{StmtBody, []any{b.Key, b.Data, created}, func(err error) error {
			if db.d.IsUnique(err) {
				return fmt.Errorf("body %s: %w", b.Key, store.ErrConflict)
			}
			return fmt.Errorf("insert body %s: %w", b.Key, err)
		}})
	}
	if logged {
		rows = append(rows, Row{StmtLog, []any{msg.MailboxID, created, len(a.Recipients)}, func(err error) error {
			return fmt.Errorf("insert submission record: %w", err)
		}})
	}
	return rows, nil
}

// EntryRows returns the rows of folder entries of message id created at
// created (an entry's empty MessageID or zero CreatedAt takes these):
// for each, its folder made when missing, its UID taken, the entry. They
// go in (mailbox, folder) order, so two transactions that lock the same
// folders lock them in the same order and never deadlock. A missing
// mailbox (or message) is store.ErrNotFound.
func (db *DB) EntryRows(id string, created int64, es []store.FolderEntry) []Row {
	es = slices.Clone(es)
	slices.SortStableFunc(es, func(a, b store.FolderEntry) int {
		return cmp.Or(cmp.Compare(a.MailboxID, b.MailboxID), cmp.Compare(a.Folder, b.Folder))
	})
	rows := make([]Row, 0, 3*len(es))
	for _, e := range es {
		msgID, at := e.MessageID, created
		if msgID == "" {
			msgID = id
		}
		if !e.CreatedAt.IsZero() {
			at = Nanos(e.CreatedAt)
		}
		notFound := func(err error) error {
			if db.d.IsForeignKey(err) {
				return fmt.Errorf("folder entry for mailbox %d, message %s: %w", e.MailboxID, msgID, store.ErrNotFound)
			}
			return fmt.Errorf("insert folder entry for mailbox %d: %w", e.MailboxID, err)
		}
		rows = append(rows,
			Row{StmtFolder, []any{e.MailboxID, string(e.Folder), SpecialUse(e.Folder), at}, notFound},
			Row{StmtUID, []any{e.MailboxID, string(e.Folder)}, notFound},
			Row{StmtEntry, []any{e.MailboxID, string(e.Folder), msgID, e.Blob, e.Size, at, JoinFlags(e.Flags), e.Appended}, notFound})
	}
	return rows
}

// SpecialUse is the special-use attribute a folder gets when an entry
// makes it: Sent Items is \Sent.
func SpecialUse(f store.Folder) string {
	if f == store.FolderSent {
		return store.SpecialUseSent
	}
	return ""
}

// execRows runs rows in tx, one statement each, and returns the first
// error, wrapped.
func execRows(ctx context.Context, tx *sql.Tx, rows []Row) error {
	for _, r := range rows {
		if _, err := tx.ExecContext(ctx, AcceptSQL[r.Stmt], r.Args...); err != nil {
			return r.Wrap(err)
		}
	}
	return nil
}
