// Package sqlstore holds the one implementation of every store operation
// whose SQL is the same in SQLite and PostgreSQL: the directory (domains,
// mailboxes, aliases, grants, app passwords, DKIM keys), console users and
// API tokens, trace search, retention, bodies in parts, the reads of
// messages and folders, the queue's Record, lease renewal, listing, retry
// and drop, the row shapes of an acceptance and a trace event, and the one
// schema history (migrate.go). It works over database/sql; store/sqlite
// hands it modernc's SQLite driver and store/postgres pgx's stdlib driver
// over the pgx pool it also uses natively.
//
// Every statement is written once, with PostgreSQL's numbered
// placeholders ($1, $2 ...), which modernc's SQLite binds by number as
// well: there is no rewriting of SQL text at run time (store/sqlite turns
// the acceptance's and the trace's into plain ? once, when it prepares
// them). Where the databases really differ, a Dialect says how: the write
// transaction (SQLite's process-wide write turn and BEGIN IMMEDIATE; a
// plain transaction on PostgreSQL, whose lost COMMIT reply is
// store.ErrMaybeCommitted), the constraint error codes, how a list of
// networks is stored (a JSON array in TEXT; TEXT[]), the advisory lock
// that keeps an address from becoming both a mailbox and an alias, the
// notification of directory changes, the clock queue leases are on (the
// store's; the database server's), and the few statements whose text must
// differ (the orphan-body sweep, the retention sweep's row locks, the
// submission log with PostgreSQL's lease rollups).
//
// What stays in the drivers is what only one database has: SQLite's group
// commit of acceptances over statements prepared once, and its trace
// connection without fsync; PostgreSQL's acceptances and trace appends
// sent as one batch, queue claims with FOR UPDATE SKIP LOCKED, the lease
// functions (committed without a WAL flush) and LISTEN/NOTIFY. Those run
// the row shapes defined here (AcceptanceRows, TraceArgs), so a column is
// added in one place.
//
// Times are stored as BIGINT unix nanoseconds (UTC) in both databases, so a
// time written reads back equal.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"mailroom/internal/store"
)

// Dialect is what differs between the databases for the shared operations.
type Dialect struct {
	// Write runs fn in a write transaction and commits it; an error from
	// fn rolls it back.
	Write func(ctx context.Context, fn func(tx *sql.Tx) error) error
	// IsUnique and IsForeignKey classify constraint violations.
	IsUnique, IsForeignKey func(err error) bool
	// Networks returns the stored form of a networks list (never NULL).
	Networks func(networks []string) (any, error)
	// ScanNetworks returns a scan destination that reads a stored networks
	// list into dst (nil when empty).
	ScanNetworks func(dst *[]string) sql.Scanner
	// LockAddress, when not empty, is run with the address ($1) in the
	// transaction that creates a mailbox or an alias, before it checks
	// that the address is neither: two concurrent transactions then
	// cannot make one address both. SQLite needs none (one writer).
	LockAddress string
	// NotifyDirectory, when not empty, is run in every directory write's
	// transaction, after the change counter moves.
	NotifyDirectory string
	// Clock, when not empty, is an SQL expression for the database's
	// clock in unix nanoseconds, which queue leases are set and compared
	// on, so nodes whose clocks disagree never take each other's rows
	// early; empty, leases are on the store's own clock (DB.Now: one
	// node).
	Clock string
	// LockUnreferenced is appended to the retention sweep's select of
	// unreferenced messages (PostgreSQL: FOR UPDATE ... SKIP LOCKED, so
	// two nodes sweep at once, each other messages).
	LockUnreferenced string
	// DeleteOrphanBodies deletes the bodies stored before $1 that no
	// message names (each database has its fast form of the anti-join).
	DeleteOrphanBodies string
	// SubmissionLog selects mailbox_id, at, recipients, messages of the
	// records at or after $1, oldest first; PruneSubmissionLog are the
	// statements that delete what is older than $1.
	SubmissionLog      string
	PruneSubmissionLog []string
}

// DB implements the shared operations of store.Store over one database.
// A driver embeds it and adds the operations of its own.
type DB struct {
	// Now returns the current time, used for created_at and updated_at.
	// New sets it to time.Now; a test may replace it before first use.
	Now func() time.Time

	sql *sql.DB
	d   Dialect
}

// New returns the shared operations over sdb in dialect d.
func New(sdb *sql.DB, d Dialect) *DB {
	return &DB{Now: time.Now, sql: sdb, d: d}
}

// Stamp returns the current time as stored: whole nanoseconds, UTC, no
// monotonic reading, so a returned row equals the row read back later.
func (db *DB) Stamp() time.Time { return FromNanos(db.Now().UnixNano()) }

// Nanos converts t to the stored representation.
func Nanos(t time.Time) int64 { return t.UnixNano() }

// Bound converts a time a query compares against to the stored
// representation, clamping times beyond what int64 nanoseconds hold (such
// as the zero time.Time) to the smallest or largest value.
func Bound(t time.Time) int64 {
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

// FromNanos converts a stored time back to a UTC time.Time.
func FromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// write runs fn in the dialect's write transaction.
func (db *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return db.d.Write(ctx, fn)
}

// exec runs one statement in a write transaction and returns how many rows
// it changed.
func (db *DB) exec(ctx context.Context, q string, args ...any) (int64, error) {
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// execOne runs one statement in a write transaction; store.ErrNotFound
// when it changed no row.
func (db *DB) execOne(ctx context.Context, q string, args ...any) error {
	n, err := db.exec(ctx, q, args...)
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	return err
}

// Querier is what QueryAll reads from: a *sql.DB, *sql.Tx or *sql.Conn.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// QueryAll runs query on q and reads every row with scan; no rows is a nil
// slice. Errors are returned unwrapped: the caller says what it was
// listing.
func QueryAll[T any](ctx context.Context, q Querier, scan func(*sql.Rows) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// oneRow returns store.ErrNotFound when res affected no row.
func oneRow(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// noRows reports whether err says a single-row query found no row.
func noRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// mapInsert turns the constraint errors of an insert into the store's:
// a unique violation is store.ErrConflict, a foreign-key violation (the
// row it names went in the meantime) is store.ErrNotFound of parent.
func (db *DB) mapInsert(err error, parent string) error {
	switch {
	case err == nil:
		return nil
	case db.d.IsUnique(err):
		return store.ErrConflict
	case db.d.IsForeignKey(err):
		return fmt.Errorf("%s: %w", parent, store.ErrNotFound)
	}
	return err
}

// In returns the placeholders "$first, ..., $(first+n-1)" for an IN list.
func In(first, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(first + i))
	}
	return b.String()
}

// normalNetworks returns networks as a read returns them: nil when empty.
func normalNetworks(networks []string) []string {
	if len(networks) == 0 {
		return nil
	}
	return networks
}
