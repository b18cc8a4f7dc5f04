package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"mailroom/internal/store"
)

// Accept writes a.Message, one queue row per recipient, a.Entries and one
// submission record (the message's MailboxID, CreatedAt and number of
// recipients) in one transaction; all of it is durable when Accept returns
// nil.
//
// Concurrent calls share transactions (group commit): while one commits,
// the next ones gather and commit together, so N concurrent acceptances
// cost one fsync of the WAL, and each call still returns only once its own
// rows are durable. A batch that fails is retried one acceptance at a time,
// so one bad acceptance fails alone. If ctx ends first, Accept returns its
// error, and the rows may or may not be written.
//
// A zero Message.CreatedAt is set to the current time. Queue rows start with
// no attempts, are due at once (next_attempt_at is the message's creation
// time) and are delivered when a.Delivered names the recipient. An entry
// with an empty MessageID or a zero CreatedAt takes the message's.
// store.ErrConflict if the message ID exists; store.ErrNotFound if an entry
// names a mailbox that does not exist.
func (db *DB) Accept(ctx context.Context, a store.Acceptance) error {
	if a.Message.CreatedAt.IsZero() {
		a.Message.CreatedAt = db.now()
	}
	if err := db.accepts.Do(ctx, a); err != nil {
		return fmt.Errorf("accept message %s: %w", a.Message.ID, err)
	}
	return nil
}

// AcceptStats returns how many transactions committed acceptances and
// how many acceptances they held.
func (db *DB) AcceptStats() (commits, accepted int64) { return db.accepts.Stats() }

// acceptSQL are the statements of an acceptance, prepared once at Open
// (pure-Go SQLite parses SQL slowly, and acceptance is the hot path).
var acceptSQL = [...]string{
	`INSERT INTO messages (id, message_id, mailbox_id, envelope_from, size, blob, delivery_blob, created_at)
	 VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
	`INSERT INTO queue (message_id, recipient, state, attempts, next_attempt_at, last_reply, updated_at)
	 VALUES (?, ?, ?, 0, ?, '', ?)`,
	`INSERT INTO folder_entries (mailbox_id, folder, message_id, blob, size, created_at)
	 VALUES (?, ?, ?, ?, ?, ?)`,
	`INSERT INTO submission_log (mailbox_id, at, recipients) VALUES (?, ?, ?)`,
	`INSERT INTO bodies (key, part, data, stored_at) VALUES (?, 0, ?, ?)`,
}

// acceptStmts are acceptSQL bound to one transaction.
type acceptStmts struct {
	message, queue, entry, log, body *sql.Stmt
}

// prepareAccept prepares acceptSQL on the pool.
func (db *DB) prepareAccept(ctx context.Context) error {
	for i, q := range acceptSQL {
		st, err := db.sql.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare acceptance statement %d: %w", i, err)
		}
		db.acceptStmts[i] = st
	}
	return nil
}

// acceptBatch writes a batch of acceptances in one transaction.
//
// Its context cannot be cancelled, on purpose: with a cancellable context
// the driver starts a goroutine per statement to watch it (and
// database/sql one per transaction), which at one message per commit cost
// more scheduling than the statements themselves. Nothing here waits
// without bound: the lock wait is busy_timeout, the rest is local I/O.
func (db *DB) acceptBatch(batch []store.Acceptance) error {
	ctx := context.Background()
	return db.write(ctx, func(tx *sql.Tx) error {
		st := db.txStmts(ctx, tx)
		for _, a := range batch {
			if err := insertAcceptance(ctx, st, a, true); err != nil {
				return err
			}
		}
		return nil
	})
}

// txStmts binds the acceptance statements to tx.
func (db *DB) txStmts(ctx context.Context, tx *sql.Tx) acceptStmts {
	return acceptStmts{
		message: tx.StmtContext(ctx, db.acceptStmts[0]),
		queue:   tx.StmtContext(ctx, db.acceptStmts[1]),
		entry:   tx.StmtContext(ctx, db.acceptStmts[2]),
		log:     tx.StmtContext(ctx, db.acceptStmts[3]),
		body:    tx.StmtContext(ctx, db.acceptStmts[4]),
	}
}

// insertAcceptance writes one acceptance with the transaction's
// statements; logged adds its submission record (DSNs have none).
func insertAcceptance(ctx context.Context, st acceptStmts, a store.Acceptance, logged bool) error {
	msg := a.Message
	created := nanos(msg.CreatedAt)
	_, err := st.message.ExecContext(ctx,
		msg.ID, msg.MessageID, msg.MailboxID, msg.EnvelopeFrom, msg.Size, msg.Blob, msg.DeliveryBlob, created)
	if isUnique(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("insert message: %w", err)
	}
	for _, rcpt := range a.Recipients {
		state := store.StateQueued
		if a.Delivered[rcpt] {
			state = store.StateDelivered
		}
		if _, err := st.queue.ExecContext(ctx, msg.ID, rcpt, state, created, created); err != nil {
			return fmt.Errorf("insert queue row for %s: %w", rcpt, err)
		}
	}
	for _, e := range a.Entries {
		if err := insertEntry(ctx, st, msg.ID, created, e); err != nil {
			return err
		}
	}
	for _, b := range a.Bodies {
		if len(b.Data) > store.BodyPartSize {
			return fmt.Errorf("body %s: %d bytes is more than one part", b.Key, len(b.Data))
		}
		_, err := st.body.ExecContext(ctx, b.Key, b.Data, created)
		if isUnique(err) {
			return fmt.Errorf("body %s: %w", b.Key, store.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("insert body %s: %w", b.Key, err)
		}
	}
	if !logged {
		return nil
	}
	if _, err := st.log.ExecContext(ctx, msg.MailboxID, created, len(a.Recipients)); err != nil {
		return fmt.Errorf("insert submission record: %w", err)
	}
	return nil
}

// insertEntry writes one folder entry; an empty MessageID or a zero
// CreatedAt takes the message's.
func insertEntry(ctx context.Context, st acceptStmts, id string, created int64, e store.FolderEntry) error {
	msgID, at := e.MessageID, created
	if msgID == "" {
		msgID = id
	}
	if !e.CreatedAt.IsZero() {
		at = nanos(e.CreatedAt)
	}
	_, err := st.entry.ExecContext(ctx, e.MailboxID, string(e.Folder), msgID, e.Blob, e.Size, at)
	if isForeignKey(err) {
		return fmt.Errorf("folder entry for mailbox %d, message %s: %w", e.MailboxID, msgID, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("insert folder entry for mailbox %d: %w", e.MailboxID, err)
	}
	return nil
}
