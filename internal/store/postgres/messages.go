package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"mailroom/internal/store"
)

// Accept writes a.Message, one queue row per recipient, a.Entries and one
// submission record (the message's MailboxID, CreatedAt and number of
// recipients) in one transaction; all of it is committed when Accept
// returns nil.
//
// Each call is its own transaction, sent as one batch (one round trip
// before the commit). Unlike store/sqlite there is no group commit:
// PostgreSQL already lets concurrent transactions share a WAL flush
// (commit_delay and commit_siblings tune it on the server).
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
	err := db.write(ctx, func(tx pgx.Tx) error {
		return insertAcceptance(ctx, tx, a, true)
	})
	if err != nil {
		return fmt.Errorf("accept message %s: %w", a.Message.ID, err)
	}
	return nil
}

// batch is a pgx.Batch whose statements each know how to describe their
// error.
type batch struct {
	b     pgx.Batch
	wraps []func(error) error
}

// queue adds a statement; wrap turns its error into the one returned.
func (bt *batch) queue(wrap func(error) error, sql string, args ...any) {
	bt.b.Queue(sql, args...)
	bt.wraps = append(bt.wraps, wrap)
}

// run sends the batch in tx and returns the first statement's error, wrapped.
func (bt *batch) run(ctx context.Context, tx pgx.Tx) error {
	br := tx.SendBatch(ctx, &bt.b)
	for _, wrap := range bt.wraps {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return wrap(err)
		}
	}
	return br.Close()
}

// The statements of an acceptance.
const (
	insertMessageSQL = `INSERT INTO messages (id, message_id, mailbox_id, envelope_from, size, blob, delivery_blob, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	insertQueueSQL = `INSERT INTO queue (message_id, recipient, state, attempts, next_attempt_at, last_reply, updated_at)
		VALUES ($1, $2, $3, 0, $4, '', $5)`
	insertEntrySQL = `INSERT INTO folder_entries (mailbox_id, folder, message_id, blob, size, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`
	insertLogSQL  = `INSERT INTO submission_log (mailbox_id, at, recipients) VALUES ($1, $2, $3)`
	insertBodySQL = `INSERT INTO bodies (key, part, data, stored_at) VALUES ($1, $2, $3, $4)`
)

// insertAcceptance writes one acceptance in tx, as one batch; logged adds
// its submission record (DSNs have none).
func insertAcceptance(ctx context.Context, tx pgx.Tx, a store.Acceptance, logged bool) error {
	msg := a.Message
	created := nanos(msg.CreatedAt)
	var bt batch
	bt.queue(func(err error) error {
		if isUnique(err) {
			return store.ErrConflict
		}
		return fmt.Errorf("insert message: %w", err)
	}, insertMessageSQL, msg.ID, msg.MessageID, msg.MailboxID, msg.EnvelopeFrom, msg.Size, msg.Blob, msg.DeliveryBlob, created)
	for _, rcpt := range a.Recipients {
		state := store.StateQueued
		if a.Delivered[rcpt] {
			state = store.StateDelivered
		}
		bt.queue(func(err error) error {
			return fmt.Errorf("insert queue row for %s: %w", rcpt, err)
		}, insertQueueSQL, msg.ID, rcpt, state, created, created)
	}
	for _, e := range a.Entries {
		queueEntry(&bt, msg.ID, created, e)
	}
	for _, b := range a.Bodies {
		if len(b.Data) > store.BodyPartSize {
			return fmt.Errorf("body %s: %d bytes is more than one part", b.Key, len(b.Data))
		}
		bt.queue(func(err error) error {
			if isUnique(err) {
				return fmt.Errorf("body %s: %w", b.Key, store.ErrConflict)
			}
			return fmt.Errorf("insert body %s: %w", b.Key, err)
		}, insertBodySQL, b.Key, 0, b.Data, created)
	}
	if logged {
		bt.queue(func(err error) error {
			return fmt.Errorf("insert submission record: %w", err)
		}, insertLogSQL, msg.MailboxID, created, len(a.Recipients))
	}
	if a.Lease != 0 {
		bt.queue(func(err error) error {
			return fmt.Errorf("clear the reservations of lease %d: %w", a.Lease, err)
		}, `UPDATE limit_leases SET recipients = 0 WHERE id = $1`, a.Lease)
	}
	return bt.run(ctx, tx)
}

// queueEntry adds the insert of one folder entry to bt; an empty MessageID
// or a zero CreatedAt takes the message's. A missing mailbox (or message)
// is store.ErrNotFound.
func queueEntry(bt *batch, id string, created int64, e store.FolderEntry) {
	msgID, at := e.MessageID, created
	if msgID == "" {
		msgID = id
	}
	if !e.CreatedAt.IsZero() {
		at = nanos(e.CreatedAt)
	}
	bt.queue(func(err error) error {
		if isForeignKey(err) {
			return fmt.Errorf("folder entry for mailbox %d, message %s: %w", e.MailboxID, msgID, store.ErrNotFound)
		}
		return fmt.Errorf("insert folder entry for mailbox %d: %w", e.MailboxID, err)
	}, insertEntrySQL, e.MailboxID, string(e.Folder), msgID, e.Blob, e.Size, at)
}
