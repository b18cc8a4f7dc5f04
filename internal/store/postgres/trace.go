package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"mailroom/internal/store"
)

// AppendTrace writes events in one transaction, sent as one batch.
func (db *DB) AppendTrace(ctx context.Context, events []store.TraceEvent) error {
	if len(events) == 0 {
		return nil
	}
	err := db.writeAsync(ctx, func(tx pgx.Tx) error { // as on SQLite: no flush of its own
		var b pgx.Batch
		for i := range events {
			e := &events[i]
			if e.At.IsZero() {
				e.At = db.now()
			}
			b.Queue(`INSERT INTO trace_events
				(at, session, queue_id, kind, status, command, remote, tls, mailbox, sender, recipients, message_id, size, reason, code, enhanced, text, detail)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id`,
				nanos(e.At), e.Session, e.QueueID, e.Kind, e.Status, e.Command, e.Remote, e.TLS, e.Mailbox, e.Sender,
				joinRecipients(e.Recipients), e.MessageID, e.Size, e.Reason, e.Code, e.Enhanced, e.Text, e.Detail)
		}
		br := tx.SendBatch(ctx, &b)
		for i := range events {
			if err := br.QueryRow().Scan(&events[i].ID); err != nil {
				br.Close()
				return err
			}
		}
		return br.Close()
	})
	if err != nil {
		return fmt.Errorf("append %d trace events: %w", len(events), err)
	}
	return nil
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
	add := func(cond string, a any) {
		args = append(args, a)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Sender != "" {
		add("sender = $%d", f.Sender)
	}
	if f.Recipient != "" {
		add(`recipients LIKE $%d ESCAPE '\'`, "%,"+escapeLike(f.Recipient)+",%")
	}
	if f.MessageID != "" {
		add("message_id = $%d", f.MessageID)
	}
	if f.QueueID != "" {
		add("queue_id = $%d", f.QueueID)
	}
	if f.Mailbox != "" {
		add("mailbox = $%d", f.Mailbox)
	}
	if f.Status != "" {
		add("status = $%d", f.Status)
	}
	if !f.Since.IsZero() {
		add("at >= $%d", bound(f.Since))
	}
	if len(f.Sessions) > 0 || len(f.QueueIDs) > 0 {
		sessions, queueIDs := f.Sessions, f.QueueIDs
		if sessions == nil {
			sessions = []string{}
		}
		if queueIDs == nil {
			queueIDs = []string{}
		}
		args = append(args, sessions, queueIDs)
		where = append(where, fmt.Sprintf("(session = ANY($%d) OR queue_id = ANY($%d))", len(args)-1, len(args)))
	}
	q := `SELECT id, at, session, queue_id, kind, status, command, remote, tls, mailbox, sender, recipients, message_id, size, reason, code, enhanced, text, detail
		FROM trace_events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if f.Limit > 0 {
		args = append(args, f.Limit)
		q += fmt.Sprintf(" ORDER BY at DESC, id DESC LIMIT $%d", len(args))
	} else {
		q += " ORDER BY at, id"
	}
	rows, err := db.pool.Query(ctx, q, args...)
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

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// DeleteTraceBefore deletes events older than cutoff.
func (db *DB) DeleteTraceBefore(ctx context.Context, cutoff time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM trace_events WHERE at < $1`, bound(cutoff))
	if err != nil {
		return 0, fmt.Errorf("delete trace before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	return int(tag.RowsAffected()), nil
}

// AddAPIToken stores a token.
func (db *DB) AddAPIToken(ctx context.Context, t store.APIToken) (store.APIToken, error) {
	t.CreatedAt = db.now()
	err := db.pool.QueryRow(ctx, `INSERT INTO api_tokens (label, hash, created_at) VALUES ($1, $2, $3) RETURNING id`,
		t.Label, t.Hash, nanos(t.CreatedAt)).Scan(&t.ID)
	if isUnique(err) {
		err = store.ErrConflict
	}
	if err != nil {
		return t, fmt.Errorf("add api token %s: %w", t.Label, err)
	}
	return t, nil
}

// APITokens lists the tokens by label.
func (db *DB) APITokens(ctx context.Context) ([]store.APIToken, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, label, hash, created_at FROM api_tokens ORDER BY label`)
	if err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	defer rows.Close()
	var out []store.APIToken
	for rows.Next() {
		var t store.APIToken
		var at int64
		if err := rows.Scan(&t.ID, &t.Label, &t.Hash, &at); err != nil {
			return nil, fmt.Errorf("list api tokens: %w", err)
		}
		t.CreatedAt = fromNanos(at)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	return out, nil
}

// APITokenByHash returns the token with that hash.
func (db *DB) APITokenByHash(ctx context.Context, hash string) (store.APIToken, error) {
	var t store.APIToken
	var at int64
	err := db.pool.QueryRow(ctx, `SELECT id, label, hash, created_at FROM api_tokens WHERE hash = $1`, hash).Scan(&t.ID, &t.Label, &t.Hash, &at)
	if noRows(err) {
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
	tag, err := db.pool.Exec(ctx, `DELETE FROM api_tokens WHERE label = $1`, label)
	if err == nil {
		err = oneRow(tag)
	}
	if err != nil {
		return fmt.Errorf("revoke api token %s: %w", label, err)
	}
	return nil
}
