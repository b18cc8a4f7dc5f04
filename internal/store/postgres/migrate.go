package postgres

import (
	"context"
	"embed"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"mailroom/internal/store/migration"
)

// migrationFiles holds the schema migrations, named NNNN_what.sql and
// applied in version order; each mirrors store/sqlite's migration of the
// same version. A released file is never edited; a schema change is a new
// file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// loadMigrations reads the embedded migrations in version order.
func loadMigrations() ([]migration.Migration, error) { return migration.Load(migrationFiles) }

// migrate applies the migrations the database has not recorded yet, each in
// its own transaction. PostgreSQL's DDL is transactional, so a migration
// and its record commit together or not at all.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	for _, m := range ms {
		err := db.write(ctx, func(tx pgx.Tx) error {
			return applyMigration(ctx, tx, m, ms[len(ms)-1].Version)
		})
		if err != nil {
			return fmt.Errorf("migrate schema to %s: %w", m.Name, err)
		}
	}
	return nil
}

// lockMigrations takes the transaction-scoped advisory lock that serializes
// migrations of the current schema: when several processes open a fresh
// database at once, the others wait for the first and then find its
// versions recorded. The key is per schema, so tests that each use their
// own schema of one database do not wait for each other.
const lockMigrations = `SELECT pg_advisory_xact_lock(hashtext('mailroom.migrate'), hashtext(current_schema()))`

// applyMigration applies m inside tx unless it is already recorded. It
// refuses a database whose schema is newer than latest, the newest version
// this program knows: an old binary must not write to a newer schema.
func applyMigration(ctx context.Context, tx pgx.Tx, m migration.Migration, latest int64) error {
	var schema *string
	if err := tx.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return err
	}
	if schema == nil {
		return fmt.Errorf("no schema of the search_path exists")
	}
	if _, err := tx.Exec(ctx, lockMigrations); err != nil {
		return fmt.Errorf("lock migrations: %w", err)
	}
	const create = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    BIGINT PRIMARY KEY,
		applied_at BIGINT NOT NULL
	)`
	if _, err := tx.Exec(ctx, create); err != nil {
		return err
	}
	var newest, have int64
	row := tx.QueryRow(ctx,
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
	if _, err := tx.Exec(ctx, m.SQL); err != nil {
		return err
	}
	_, err := tx.Exec(ctx,
		`INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`,
		m.Version, time.Now().UnixNano())
	return err
}
