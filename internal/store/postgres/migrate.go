package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"mailroom/internal/store/sqlstore"
)

// migrationFiles holds the migrations only PostgreSQL has (the limit
// leases of a cluster and their functions), named NNNN_what.sql in the
// one version sequence they share with sqlstore's migrations. A released
// file is never edited; a schema change is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// types are PostgreSQL's column types of the shared migrations. Names and
// addresses use the "C" collation, so that listings sort by byte as they
// do in SQLite, whatever the database's locale.
func types() sqlstore.Types {
	return sqlstore.Types{
		ID:       "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
		RowID:    "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
		Int64:    "BIGINT",
		Name:     `TEXT COLLATE "C"`,
		Bytes:    "BYTEA",
		Networks: "TEXT[] NOT NULL DEFAULT '{}'",
		Dialect:  "postgres",
		Boolean: func(_ string, def bool) string {
			if def {
				return "BOOLEAN NOT NULL DEFAULT TRUE"
			}
			return "BOOLEAN NOT NULL DEFAULT FALSE"
		},
	}
}

// loadMigrations returns the schema history in version order.
func loadMigrations() ([]sqlstore.Migration, error) {
	return sqlstore.Migrations(types(), migrationFiles)
}

// migrate applies the migrations the database has not recorded yet, each in
// its own transaction. PostgreSQL's DDL is transactional, so a migration
// and its record commit together or not at all.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	return db.Migrate(ctx, types(), ms, lockMigrations)
}

// lockMigrations checks that the search_path names a schema that exists
// and takes the transaction-scoped advisory lock that serializes
// migrations of it: when several processes open a fresh database at once,
// the others wait for the first and then find its versions recorded. The
// key is per schema, so tests that each use their own schema of one
// database do not wait for each other.
func lockMigrations(ctx context.Context, tx *sql.Tx) error {
	var schema *string
	if err := tx.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return err
	}
	if schema == nil {
		return fmt.Errorf("no schema of the search_path exists")
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('mailroom.migrate'), hashtext(current_schema()))`)
	if err != nil {
		return fmt.Errorf("lock migrations: %w", err)
	}
	return nil
}
