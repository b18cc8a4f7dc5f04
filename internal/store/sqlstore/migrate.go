package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"text/template"
	"time"
)

// migrationFiles holds the shared schema migrations: text/template files
// named NNNN_what.sql that each store renders with its Types. A released
// file is never edited; a schema change is a new file, here when both
// databases take it alike, in a driver's migrations/ when only one has it
// or they need other SQL. Versions are one sequence across both.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// Types are the column types of one database, as the shared migrations
// name them (0001_init.sql says what each means).
type Types struct {
	ID, RowID, Int64, Name, Bytes, Networks, Strict string
	// Dialect is "sqlite" or "postgres", for the rare statement the two
	// spell differently (a migration tests it with {{if eq .Dialect ...}}).
	Dialect string
	// Boolean is the type, NOT NULL and default of flag column col.
	Boolean func(col string, def bool) string
}

// Migrations returns the shared migrations rendered with t and the
// dialect's own (dialect's migrations/*.sql), in version order.
func Migrations(t Types, dialect fs.FS) ([]Migration, error) {
	return History(t, migrationFiles, dialect)
}

// History returns the migrations/*.sql of shared, rendered with t, and of
// dialect, in version order. Migrations passes the embedded shared
// history; a test may pass an older one.
func History(t Types, sharedFiles, dialect fs.FS) ([]Migration, error) {
	shared, err := load(sharedFiles)
	if err != nil {
		return nil, err
	}
	for i, m := range shared {
		tmpl, err := template.New(m.Name).Funcs(template.FuncMap{"boolean": t.Boolean}).Parse(m.SQL)
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", m.Name, err)
		}
		var b bytes.Buffer
		if err := tmpl.Execute(&b, t); err != nil {
			return nil, fmt.Errorf("migration %s: %w", m.Name, err)
		}
		shared[i].SQL = b.String()
	}
	own, err := load(dialect)
	if err != nil {
		return nil, err
	}
	return merge(shared, own)
}

// Migrate applies the migrations ms that the database has not recorded
// in schema_migrations yet, each with its record in one write
// transaction. first, when not nil, runs first in each transaction (to
// take a lock). The check and the apply share the transaction, so when
// two processes open a fresh database at once the second waits for the
// first and then finds the version recorded. A database whose schema is
// newer than the newest of ms is refused: an old binary must not write to
// a newer schema.
func (db *DB) Migrate(ctx context.Context, t Types, ms []Migration, first func(ctx context.Context, tx *sql.Tx) error) error {
	for _, m := range ms {
		err := db.write(ctx, func(tx *sql.Tx) error {
			if first != nil {
				if err := first(ctx, tx); err != nil {
					return err
				}
			}
			return ApplyMigration(ctx, tx, t, m, ms[len(ms)-1].Version)
		})
		if err != nil {
			return fmt.Errorf("migrate schema to %s: %w", m.Name, err)
		}
	}
	return nil
}

// ApplyMigration applies m inside tx unless it is already recorded, and
// records it; an error if the database has a version newer than latest.
func ApplyMigration(ctx context.Context, tx *sql.Tx, t Types, m Migration, latest int64) error {
	create := `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    ` + t.Int64 + ` PRIMARY KEY,
		applied_at ` + t.Int64 + ` NOT NULL
	)` + t.Strict
	if _, err := tx.ExecContext(ctx, create); err != nil {
		return err
	}
	var newest, have int64
	row := tx.QueryRowContext(ctx,
		`SELECT COALESCE(MAX(version), 0), COUNT(*) FILTER (WHERE version = $1) FROM schema_migrations`,
		m.Version)
	if err := row.Scan(&newest, &have); err != nil {
		return err
	}
	if newest > latest {
		return fmt.Errorf("database schema version %d is newer than this program's %d", newest, latest)
	}
	if have > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx,
		`INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`,
		m.Version, time.Now().UnixNano())
	return err
}

// AppliedMigrations returns when each recorded migration was applied
// (unix nanoseconds), by version.
func (db *DB) AppliedMigrations(ctx context.Context) (map[int64]int64, error) {
	type rec struct{ v, at int64 }
	rs, err := QueryAll(ctx, db.sql, func(r *sql.Rows) (rec, error) {
		var x rec
		return x, r.Scan(&x.v, &x.at)
	}, `SELECT version, applied_at FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read schema migrations: %w", err)
	}
	got := make(map[int64]int64, len(rs))
	for _, r := range rs {
		got[r.v] = r.at
	}
	return got, nil
}
