package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"time"

	"mailroom/internal/store/migration"
)

// migrationFiles holds the schema migrations, named NNNN_what.sql and
// applied in version order. A released file is never edited; a schema change
// is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// loadMigrations reads the embedded migrations in version order.
func loadMigrations() ([]migration.Migration, error) { return migration.Load(migrationFiles) }

// migrate applies the migrations the database has not recorded yet, each in
// its own IMMEDIATE transaction. The check and the apply share that
// transaction, so when two processes open a fresh file at once the second
// waits for the first and then finds the version recorded.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	for _, m := range ms {
		err := db.write(ctx, func(tx *sql.Tx) error {
			return applyMigration(ctx, tx, m, ms[len(ms)-1].Version)
		})
		if err != nil {
			return fmt.Errorf("migrate schema to %s: %w", m.Name, err)
		}
	}
	return nil
}

// applyMigration applies m inside tx unless it is already recorded. It
// refuses a database whose schema is newer than latest, the newest version
// this program knows: an old binary must not write to a newer schema.
func applyMigration(ctx context.Context, tx *sql.Tx, m migration.Migration, latest int64) error {
	const create = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at INTEGER NOT NULL
	) STRICT`
	if _, err := tx.ExecContext(ctx, create); err != nil {
		return err
	}
	var newest, have int64
	row := tx.QueryRowContext(ctx,
		`SELECT COALESCE(MAX(version), 0), COUNT(*) FILTER (WHERE version = ?) FROM schema_migrations`,
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
		`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		m.Version, time.Now().UnixNano())
	return err
}
