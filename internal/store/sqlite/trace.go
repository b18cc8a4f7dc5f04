package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"mailroom/internal/store"
)

// AppendTrace writes events in one transaction (one fsync for the batch).
func (db *DB) AppendTrace(ctx context.Context, events []store.TraceEvent) error {
	if len(events) == 0 {
		return nil
	}
	err := db.writeTrace(ctx, func(tx *sql.Tx) error {
		ctx := context.WithoutCancel(ctx) // no watcher goroutine per statement (see acceptBatch)
		st, err := tx.PrepareContext(ctx, `INSERT INTO trace_events
			(at, session, queue_id, kind, status, command, remote, tls, mailbox, sender, recipients, message_id, size, reason, code, enhanced, text, detail)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for i := range events {
			e := &events[i]
			if e.At.IsZero() {
				e.At = db.now()
			}
			res, err := st.ExecContext(ctx, nanos(e.At), e.Session, e.QueueID, e.Kind, e.Status, e.Command, e.Remote, e.TLS,
				e.Mailbox, e.Sender, joinRecipients(e.Recipients), e.MessageID, e.Size, e.Reason, e.Code, e.Enhanced, e.Text, e.Detail)
			if err != nil {
				return err
			}
			if e.ID, err = res.LastInsertId(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("append %d trace events: %w", len(events), err)
	}
	return nil
}

// writeTrace runs fn in a write transaction on the trace connection,
// whose commits do not fsync (synchronous=NORMAL): trace events become
// durable with the next acceptance's commit, whose fsync of the WAL covers
// every frame before its own, so appending the trace costs no fsync of its
// own and holds the write lock only while it inserts.
func (db *DB) writeTrace(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := db.lockWrites(ctx); err != nil {
		return err
	}
	defer db.unlockWrites()
	if db.traceConn == nil {
		c, err := db.sql.Conn(ctx)
		if err != nil {
			return err
		}
		if _, err := c.ExecContext(ctx, "PRAGMA synchronous=NORMAL"); err != nil {
			c.Close()
			return err
		}
		db.traceConn = c
	}
	tx, err := db.traceConn.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		// Discard the connection rather than hand it back to the pool: it
		// is synchronous=NORMAL, and an acceptance committing on it would
		// not fsync. The next call opens another.
		_ = db.traceConn.Raw(func(any) error { return driver.ErrBadConn })
		_ = db.traceConn.Close()
		db.traceConn = nil
		return err
	}
	return commitWith(tx, fn)
}

// joinRecipients stores recipients as ",a,b," so one matches with LIKE.
func joinRecipients(rs []string) string {
	if len(rs) == 0 {
		return ""
	}
	return "," + strings.Join(rs, ",") + ","
}

func splitRecipients(s string) []string {
	s = strings.Trim(s, ",")
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// SearchTrace returns the events f selects.
func (db *DB) SearchTrace(ctx context.Context, f store.TraceFilter) ([]store.TraceEvent, error) {
	var where []string
	var args []any
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	if f.Sender != "" {
		add("sender = ?", f.Sender)
	}
	if f.Recipient != "" {
		add("recipients LIKE ? ESCAPE '\\'", "%,"+escapeLike(f.Recipient)+",%")
	}
	if f.MessageID != "" {
		add("message_id = ?", f.MessageID)
	}
	if f.QueueID != "" {
		add("queue_id = ?", f.QueueID)
	}
	if f.Mailbox != "" {
		add("mailbox = ?", f.Mailbox)
	}
	if f.Status != "" {
		add("status = ?", f.Status)
	}
	if !f.Since.IsZero() {
		add("at >= ?", bound(f.Since))
	}
	if len(f.Sessions) > 0 || len(f.QueueIDs) > 0 {
		var or []string
		if len(f.Sessions) > 0 {
			or = append(or, "session IN ("+placeholders(len(f.Sessions))+")")
			for _, s := range f.Sessions {
				args = append(args, s)
			}
		}
		if len(f.QueueIDs) > 0 {
			or = append(or, "queue_id IN ("+placeholders(len(f.QueueIDs))+")")
			for _, q := range f.QueueIDs {
				args = append(args, q)
			}
		}
		where = append(where, "("+strings.Join(or, " OR ")+")")
	}
	q := `SELECT id, at, session, queue_id, kind, status, command, remote, tls, mailbox, sender, recipients, message_id, size, reason, code, enhanced, text, detail
		FROM trace_events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if f.Limit > 0 {
		q += " ORDER BY at DESC, id DESC LIMIT ?"
		args = append(args, f.Limit)
	} else {
		q += " ORDER BY at, id"
	}
	rows, err := db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("search trace: %w", err)
	}
	defer rows.Close()
	var out []store.TraceEvent
	for rows.Next() {
		var e store.TraceEvent
		var at int64
		var rcpts string
		if err := rows.Scan(&e.ID, &at, &e.Session, &e.QueueID, &e.Kind, &e.Status, &e.Command, &e.Remote, &e.TLS, &e.Mailbox,
			&e.Sender, &rcpts, &e.MessageID, &e.Size, &e.Reason, &e.Code, &e.Enhanced, &e.Text, &e.Detail); err != nil {
			return nil, fmt.Errorf("search trace: %w", err)
		}
		e.At = fromNanos(at)
		e.Recipients = splitRecipients(rcpts)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search trace: %w", err)
	}
	return out, nil
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// DeleteTraceBefore deletes events older than cutoff.
func (db *DB) DeleteTraceBefore(ctx context.Context, cutoff time.Time) (int, error) {
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM trace_events WHERE at < ?`, bound(cutoff))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete trace before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	return int(n), nil
}

// AddAPIToken stores a token.
func (db *DB) AddAPIToken(ctx context.Context, t store.APIToken) (store.APIToken, error) {
	t.CreatedAt = db.now()
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (label, hash, created_at) VALUES (?, ?, ?)`, t.Label, t.Hash, nanos(t.CreatedAt))
		if isUnique(err) {
			return store.ErrConflict
		}
		if err != nil {
			return err
		}
		t.ID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return t, fmt.Errorf("add api token %s: %w", t.Label, err)
	}
	return t, nil
}

// APITokens lists the tokens by label.
func (db *DB) APITokens(ctx context.Context) ([]store.APIToken, error) {
	out, err := queryAll(ctx, db.sql, func(r *sql.Rows) (store.APIToken, error) {
		var t store.APIToken
		var at int64
		err := r.Scan(&t.ID, &t.Label, &t.Hash, &at)
		t.CreatedAt = fromNanos(at)
		return t, err
	}, `SELECT id, label, hash, created_at FROM api_tokens ORDER BY label`)
	if err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	return out, nil
}

// APITokenByHash returns the token with that hash.
func (db *DB) APITokenByHash(ctx context.Context, hash string) (store.APIToken, error) {
	var t store.APIToken
	var at int64
	err := db.sql.QueryRowContext(ctx, `SELECT id, label, hash, created_at FROM api_tokens WHERE hash = ?`, hash).Scan(&t.ID, &t.Label, &t.Hash, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return t, store.ErrNotFound
	}
	if err != nil {
		return t, fmt.Errorf("look up api token: %w", err)
	}
	t.CreatedAt = fromNanos(at)
	return t, nil
}

// RevokeAPIToken deletes the token with that label.
func (db *DB) RevokeAPIToken(ctx context.Context, label string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM api_tokens WHERE label = ?`, label)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("revoke api token %s: %w", label, err)
	}
	return nil
}
