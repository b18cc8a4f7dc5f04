package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"mailroom/internal/store"
)

// The statements of an acceptance, by their index in AcceptSQL.
const (
	StmtMessage = iota
	StmtQueue
	StmtEntry
	StmtLog
	StmtBody
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
	StmtEntry: `INSERT INTO folder_entries (mailbox_id, folder, message_id, blob, size, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`,
	StmtLog:  `INSERT INTO submission_log (mailbox_id, at, recipients) VALUES ($1, $2, $3)`,
	StmtBody: `INSERT INTO bodies (key, part, data, stored_at) VALUES ($1, 0, $2, $3)`,
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
	for _, e := range a.Entries {
		rows = append(rows, db.EntryRow(msg.ID, created, e))
	}
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

// EntryRow returns the row of one folder entry of message id created at
// created; an entry's empty MessageID or zero CreatedAt takes the
// message's. A missing mailbox (or message) is store.ErrNotFound.
func (db *DB) EntryRow(id string, created int64, e store.FolderEntry) Row {
	msgID, at := e.MessageID, created
	if msgID == "" {
		msgID = id
	}
	if !e.CreatedAt.IsZero() {
		at = Nanos(e.CreatedAt)
	}
	return Row{StmtEntry, []any{e.MailboxID, string(e.Folder), msgID, e.Blob, e.Size, at}, func(err error) error {
		if db.d.IsForeignKey(err) {
			return fmt.Errorf("folder entry for mailbox %d, message %s: %w", e.MailboxID, msgID, store.ErrNotFound)
		}
		return fmt.Errorf("insert folder entry for mailbox %d: %w", e.MailboxID, err)
	}}
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
