// Package postgres owns mailroom's state in a PostgreSQL database: it
// implements store.Store on github.com/jackc/pgx/v5 (a pgxpool.Pool). The
// operations whose SQL both databases share, and the schema history, are
// store/sqlstore's, run over database/sql through pgx's stdlib driver on
// the same pool; this package gives them PostgreSQL's dialect and adds
// what only PostgreSQL does, natively on pgx: acceptances and trace
// appends sent as one batch, queue claims with FOR UPDATE SKIP LOCKED, the
// concurrency leases of a cluster (PL/pgSQL functions, migrations 0005
// and 0008, committed without waiting for the WAL flush), LISTEN/NOTIFY
// of directory changes, and the ACME account, certificates and expiring
// locks a cluster shares (acme.go, migration 0012).
//
// Several processes (nodes of a cluster, the CLI) may use one database at
// once: migrations are serialized with an advisory lock, directory writes
// bump the change counter in their own transaction, and ClaimDue takes queue
// rows with FOR UPDATE SKIP LOCKED so that no two claimers get one row.
// Every write transaction commits before its method returns; with the
// server's default synchronous_commit it is then durable.
//
// Times are stored as BIGINT unix nanoseconds (UTC), as in store/sqlite, so
// a time written reads back equal. Message bodies are kept in the table
// bodies (store.Bodies), in parts of store.BodyPartSize, so that every node
// reads what any node accepted.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"mailroom/internal/store"
	"mailroom/internal/store/sqlstore"
)

// DB is a store.Store backed by one PostgreSQL database (the schema the
// connection's search_path selects). It is safe for concurrent use, and
// other processes may use the same database at the same time.
type DB struct {
	*sqlstore.DB // the operations both databases share, over sql

	pool *pgxpool.Pool
	sql  *sql.DB // database/sql over pool (pgx's stdlib driver)

	rollupMu sync.Mutex
	rolledUp map[int64]time.Time // mailbox → when a decision here last rolled up its log
}

var _ store.Store = (*DB)(nil)

// Open connects to the database dsn names (a PostgreSQL connection string,
// URL or keyword=value form, as libpq and pgx accept) and applies any schema
// migrations it has not seen yet. Several processes may open the same fresh
// database at once; each migration is applied exactly once.
//
// Errors do not repeat dsn, which may hold a password.
func Open(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres database: parse dsn: %w", err)
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns()
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres database: %w", err)
	}
	db := newDB(pool)
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres database %s on %s: %w", cfg.ConnConfig.Database, cfg.ConnConfig.Host, err)
	}
	return db, nil
}

// defaultMaxConns sizes the pool when the DSN does not (pool_max_conns):
// pgx's default (the larger of 4 and the CPUs) let sessions that wait on
// a mailbox's limit lock hold every connection while acceptances queued
// for one. 32 sessions of one mailbox on 2 CPUs went from 4 connections
// to 16: see BENCHMARKS.md, "On PostgreSQL".
func defaultMaxConns() int32 { return int32(max(16, 4*runtime.NumCPU())) }

// newDB returns a DB over pool (not yet migrated).
func newDB(pool *pgxpool.Pool) *DB {
	db := &DB{pool: pool, sql: stdlib.OpenDBFromPool(pool)}
	db.DB = sqlstore.New(db.sql, sqlstore.Dialect{
		Write:           db.writeSQL,
		IsUnique:        isUnique,
		IsForeignKey:    isForeignKey,
		Networks:        storedNetworks,
		ScanNetworks:    scanNetworks,
		LockAddress:     `SELECT pg_advisory_xact_lock(hashtext('mailroom.address'), hashtext($1))`,
		NotifyDirectory: notifyDirectory,
		Clock:           dbNow,
		// Two sweepers (two nodes) work at once, each on other messages.
		LockUnreferenced: ` FOR UPDATE OF m SKIP LOCKED`,
		DeleteOrphanBodies: `DELETE FROM bodies b WHERE b.stored_at < $1
			AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.blob = b.key OR m.delivery_blob = b.key)`,
		// Rolled-up seconds and minutes (migration 0008) come back as one
		// record each, at their start, when any of them is at or after $1.
		SubmissionLog: `SELECT mailbox_id, at, recipients, messages FROM (
			SELECT mailbox_id, at, recipients, 1 AS messages, id FROM submission_log WHERE at >= $1
			UNION ALL
			SELECT mailbox_id, second, recipients, messages, 0 FROM submission_seconds WHERE second + 1000000000 > $1
			UNION ALL
			SELECT mailbox_id, minute, recipients, messages, 0 FROM submission_minutes WHERE minute + 60000000000 > $1
		) r ORDER BY at, id`,
		PruneSubmissionLog: []string{
			`DELETE FROM submission_log WHERE at < $1`,
			`DELETE FROM submission_seconds WHERE second + 1000000000 <= $1`,
			`DELETE FROM submission_minutes WHERE minute + 60000000000 <= $1`,
		},
	})
	return db
}

// Close closes the pool's connections once the statements in progress
// finish.
func (db *DB) Close() error {
	db.sql.Close()
	db.pool.Close()
	return nil
}

// writeSQL runs fn in a database/sql transaction and commits it; an
// error from fn rolls it back, and a COMMIT whose outcome is unknown is
// store.ErrMaybeCommitted, as with write. The shared operations write
// with it.
func (db *DB) writeSQL(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return commitErr(tx.Commit())
}

// write runs fn in a transaction and commits it; an error from fn rolls it
// back. A COMMIT whose outcome is unknown (sent, and then the connection
// failed or ctx ended) is store.ErrMaybeCommitted.
func (db *DB) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // after Commit, a no-op
	if err := fn(tx); err != nil {
		return err
	}
	return commitErr(tx.Commit(ctx))
}

// commitErr marks a failed COMMIT whose outcome is unknown. Only the
// server's answer is certain: a refusal (a PgError, or a transaction that
// had already failed) rolled it back. Anything else (a lost connection, a
// cancelled wait for the reply) may have committed; pgconn's SafeToRetry is
// no guide here, as a connection found closed while reading the reply to a
// COMMIT already sent is reported as "conn closed", safe to retry.
func commitErr(err error) error {
	var pe *pgconn.PgError
	if err == nil || errors.As(err, &pe) || errors.Is(err, pgx.ErrTxCommitRollback) {
		return err
	}
	return fmt.Errorf("%w: %w", store.ErrMaybeCommitted, err)
}

// writeAsync runs fn in a transaction whose commit does not wait for the
// WAL flush (synchronous_commit off, for this transaction only). It is for
// state that may be lost in a database crash without losing mail: the
// concurrency leases (they expire anyway; a lost insert or delete skews
// one mailbox's count until lease_ttl) and the trace. Every later
// synchronous commit (an acceptance) flushes the WAL up to itself, so an
// acceptance never depends on a lease change that could still be lost.
// Not waiting matters because a lease decision holds the mailbox's row
// lock until its commit returns: with a flush per decision, 32 clients of
// one mailbox queued behind each other's fsyncs.
func (db *DB) writeAsync(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return err
		}
		return fn(tx)
	})
}

// SQLSTATE codes the store maps to its errors.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
)

// pgCode returns the SQLSTATE of err, or "" when err does not come from
// the server.
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY violation.
func isUnique(err error) bool { return pgCode(err) == codeUniqueViolation }

// isForeignKey reports whether err is a FOREIGN KEY violation.
func isForeignKey(err error) bool { return pgCode(err) == codeForeignKeyViolation }

// storedNetworks returns networks as written: an empty array, never NULL.
// The store keeps the strings as given; the caller validates them as CIDR
// prefixes.
func storedNetworks(networks []string) (any, error) {
	if networks == nil {
		return []string{}, nil
	}
	return networks, nil
}

// scanNetworks returns a scan destination that reads a TEXT[] into dst;
// an empty array is nil.
func scanNetworks(dst *[]string) sql.Scanner { return networksScanner{dst} }

type networksScanner struct{ dst *[]string }

// Scan decodes a stored networks array.
func (n networksScanner) Scan(src any) error {
	if err := pgtype.NewMap().SQLScanner(n.dst).Scan(src); err != nil {
		return fmt.Errorf("decode networks: %w", err)
	}
	if len(*n.dst) == 0 {
		*n.dst = nil
	}
	return nil
}
