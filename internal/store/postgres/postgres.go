// Package postgres owns mailroom's state in a PostgreSQL database: it
// implements store.Store on github.com/jackc/pgx/v5 (a pgxpool.Pool), with
// embedded, versioned schema migrations in PostgreSQL's dialect that mirror
// store/sqlite's.
//
// Several processes (nodes of a cluster, the CLI) may use one database at
// once: migrations are serialized with an advisory lock, directory writes
// bump the change counter in their own transaction, and ClaimDue takes queue
// rows with FOR UPDATE SKIP LOCKED so that no two claimers get one row.
// Every write transaction commits before its method returns; with the
// server's default synchronous_commit it is then durable.
//
// Times are stored as BIGINT unix nanoseconds (UTC), as in store/sqlite, so
// a time written reads back equal. Message bodies are not stored here: they
// stay in package blob, as with SQLite.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"mailroom/internal/store"
)

// DB is a store.Store backed by one PostgreSQL database (the schema the
// connection's search_path selects). It is safe for concurrent use, and
// other processes may use the same database at the same time.
type DB struct {
	// Now returns the current time, used for created_at and updated_at.
	// Open sets it to time.Now; a test may replace it before first use.
	Now func() time.Time

	pool *pgxpool.Pool

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
	db := &DB{Now: time.Now, pool: pool}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
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

// Close closes the pool's connections once the statements in progress
// finish.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
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

// now returns the current time as stored: whole nanoseconds, UTC, no
// monotonic reading, so a returned row equals the row read back later.
func (db *DB) now() time.Time {
	return fromNanos(db.Now().UnixNano())
}

// nanos converts t to the stored representation.
func nanos(t time.Time) int64 { return t.UnixNano() }

// bound converts a time a query compares against to the stored
// representation, clamping times beyond what int64 nanoseconds hold (such
// as the zero time.Time) to the smallest or largest value.
func bound(t time.Time) int64 {
	switch {
	case t.Before(minNanos):
		return math.MinInt64
	case t.After(maxNanos):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// The range of times int64 nanoseconds since the Unix epoch hold.
var (
	minNanos = time.Unix(0, math.MinInt64)
	maxNanos = time.Unix(0, math.MaxInt64)
)

// fromNanos converts a stored time back to a UTC time.Time.
func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

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

// noRows reports whether err says a single-row query found no row.
func noRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// oneRow returns store.ErrNotFound when tag says no row was affected.
func oneRow(tag pgconn.CommandTag) error {
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// normalNetworks returns networks as a read returns them: nil when empty.
func normalNetworks(networks []string) []string {
	if len(networks) == 0 {
		return nil
	}
	return networks
}

// storedNetworks returns networks as written: an empty array, never NULL.
// The store keeps the strings as given; the caller validates them as CIDR
// prefixes.
func storedNetworks(networks []string) []string {
	if networks == nil {
		return []string{}
	}
	return networks
}

// collect reads every row of rows with fn and closes rows; no rows is a nil
// slice, as store/sqlite returns.
func collect[T any](rows pgx.Rows, fn pgx.RowToFunc[T]) ([]T, error) {
	return pgx.AppendRows([]T(nil), rows, fn)
}
