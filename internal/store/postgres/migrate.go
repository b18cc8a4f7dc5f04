package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// migrationFiles holds the schema migrations, named NNNN_what.sql and
// applied in version order; each mirrors store/sqlite's migration of the
// same version. A released file is never edited; a schema change is a new
// file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one versioned schema change.
type migration struct {
	version int64
	name    string
	sql     string
}

// loadMigrations reads the embedded migrations in version order.
func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	ms := make([]migration, 0, len(names))
	seen := map[int64]string{}
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		prefix, _, ok := strings.Cut(base, "_")
		v, err := strconv.ParseInt(prefix, 10, 64)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive version and '_'", base)
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("migration %s: version %d already used by %s", base, v, other)
		}
		seen[v] = base
		body, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", base, err)
		}
		ms = append(ms, migration{version: v, name: base, sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

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
			return applyMigration(ctx, tx, m, ms[len(ms)-1].version)
		})
		if err != nil {
			return fmt.Errorf("migrate schema to %s: %w", m.name, err)
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
func applyMigration(ctx context.Context, tx pgx.Tx, m migration, latest int64) error {
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
		m.version)
	if err := row.Scan(&newest, &have); err != nil {
		return err
	}
	if newest > latest {
		return fmt.Errorf("database schema version %d is newer than this program's %d", newest, latest)
	}
	if have > 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, m.sql); err != nil {
		return err
	}
	_, err := tx.Exec(ctx,
		`INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`,
		m.version, time.Now().UnixNano())
	return err
}
