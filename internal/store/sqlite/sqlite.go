// Package sqlite owns mailroom's state in one SQLite database file: it
// implements store.Store on modernc.org/sqlite (pure Go, no cgo) through
// database/sql. The operations whose SQL both databases share, and the
// schema history, are store/sqlstore's; this package gives them SQLite's
// dialect (its write turn, constraint codes, networks as JSON text) and
// adds what only SQLite does: the group commit of acceptances and the
// trace connection without fsync.
//
// The database runs in WAL mode with synchronous=FULL, so every commit is on
// disk when it returns (a 250 reply follows the commit), and with a busy
// timeout so that several processes (the server and the CLI) can share the
// file. Write transactions begin IMMEDIATE: they take the write lock at BEGIN
// and never fail on a read-to-write lock upgrade.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"mailroom/internal/groupcommit"
	"mailroom/internal/store"
	"mailroom/internal/store/sqlstore"
)

// maxOpenConns bounds the connection pool. WAL lets readers run alongside
// the one writer; writers queue on the database lock (busy_timeout).
const maxOpenConns = 8

// DB is a store.Store backed by one SQLite database file. It is safe for
// concurrent use, and other processes may use the same file at the same time.
type DB struct {
	*sqlstore.DB // the operations both databases share

	sql         *sql.DB
	accepts     *groupcommit.Batcher[store.Acceptance]
	acceptStmts [len(sqlstore.AcceptSQL)]*sql.Stmt

	writeTurn chan struct{} // one writer of this process at a time (lockWrites)
	traceConn *sql.Conn     // AppendTrace's, opened on first use; synchronous=NORMAL
}

// maxAcceptBatch bounds how many acceptances share one transaction.
const maxAcceptBatch = 128

var _ store.Store = (*DB)(nil)

// Open opens the database file at path, creating it if it does not exist,
// and applies any schema migrations it has not seen yet. Several processes
// may open the same fresh file at once; each migration is applied exactly
// once. A new file is created 0600 (createPrivate).
func Open(ctx context.Context, path string) (*DB, error) {
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	sdb, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	sdb.SetMaxOpenConns(maxOpenConns)
	sdb.SetMaxIdleConns(maxOpenConns)
	db := newDB(sdb)
	if err := db.migrateRetrying(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := db.prepareAccept(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db.accepts = groupcommit.New(maxAcceptBatch, db.acceptBatch)
	return db, nil
}

// newDB returns a DB over sdb (not yet migrated).
func newDB(sdb *sql.DB) *DB {
	db := &DB{sql: sdb, writeTurn: make(chan struct{}, 1)}
	db.DB = sqlstore.New(sdb, sqlstore.Dialect{
		Write:        db.write,
		IsUnique:     isUnique,
		IsForeignKey: isForeignKey,
		Networks:     encodeNetworks,
		ScanNetworks: scanNetworks,
		// NOT IN over each column reads messages once into a temporary
		// index; an EXISTS with OR would scan messages once per body.
		DeleteOrphanBodies: `DELETE FROM bodies WHERE stored_at < $1
			AND key NOT IN (SELECT blob FROM messages) AND key NOT IN (SELECT delivery_blob FROM messages)`,
		SubmissionLog:      `SELECT mailbox_id, at, recipients, 1 FROM submission_log WHERE at >= $1 ORDER BY at, id`,
		PruneSubmissionLog: []string{`DELETE FROM submission_log WHERE at < $1`},
	})
	return db
}

// Close closes the database after the statements in progress finish.
func (db *DB) Close() error {
	if db.accepts != nil {
		db.accepts.Close()
	}
	db.writeTurn <- struct{}{}
	if db.traceConn != nil { // discarded, not pooled: it is synchronous=NORMAL
		_ = db.traceConn.Raw(func(any) error { return driver.ErrBadConn })
		_ = db.traceConn.Close()
		db.traceConn = nil
	}
	<-db.writeTurn
	if err := db.sql.Close(); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	return nil
}

// dsn builds the modernc.org/sqlite data source name for path. The driver
// opens it as an SQLite URI filename, so the characters that URIs reserve
// are percent-encoded; busy_timeout is applied first by the driver, before
// the journal mode change that needs a lock.
func dsn(path string) string {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return "file:" + esc +
		"?_pragma=busy_timeout(10000)" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(FULL)" +
		"&_pragma=foreign_keys(1)" +
		"&_txlock=immediate"
}

// lockWrites takes the process's write turn, or fails when ctx ends.
// Writers of one process queue here rather than on SQLite's lock: a
// writer that finds the database locked sleeps in SQLite's busy handler
// (1, 2, 5 ... 100 ms steps) and is not woken when the lock frees, which
// put 100-250 ms stalls into an acceptance batch whenever a trace append
// held the lock. busy_timeout still arbitrates between processes (the
// CLI and a running server).
func (db *DB) lockWrites(ctx context.Context) error {
	select {
	case db.writeTurn <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// unlockWrites gives the write turn back.
func (db *DB) unlockWrites() { <-db.writeTurn }

// write runs fn in a write transaction (BEGIN IMMEDIATE) and commits it.
func (db *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := db.lockWrites(ctx); err != nil {
		return err
	}
	defer db.unlockWrites()
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	return commitWith(tx, fn)
}

// commitWith runs fn in tx and commits, or rolls back when fn fails.
func commitWith(tx *sql.Tx, fn func(tx *sql.Tx) error) error {
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// sqliteCode returns the extended result code of err, or 0 when err does not
// come from SQLite.
func sqliteCode(err error) int {
	var se *sqlitedrv.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

// migrateRetrying runs migrate, retrying while the database is busy. On
// a fresh file, a process switching it to WAL makes another's first
// transaction fail with SQLITE_BUSY without waiting for busy_timeout
// (the lock is taken while the WAL index is being set up); it passes
// once the switch is done.
func (db *DB) migrateRetrying(ctx context.Context) error {
	for i := 0; ; i++ {
		err := db.migrate(ctx)
		if err == nil || sqliteCode(err)&0xff != sqlite3.SQLITE_BUSY || i == 50 {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(10+i*10) * time.Millisecond):
		}
	}
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY violation.
func isUnique(err error) bool {
	c := sqliteCode(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// isForeignKey reports whether err is a FOREIGN KEY violation.
func isForeignKey(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}
