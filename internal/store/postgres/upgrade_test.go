package postgres

import (
	"database/sql"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"mailroom/internal/store/postgres/pgtest"
	"mailroom/internal/store/sqlstore"
)

// openRaw opens the database at dsn without migrating it, or when main
// is true, migrated as mailroom's main branch before the shared store left
// it: the PostgreSQL migrations it embedded then (kept in testdata/main,
// with the lease migrations still here), applied as it applied them.
func openRaw(tb testing.TB, dsn string, main bool) *DB {
	tb.Helper()
	pool, err := pgxpool.New(tb.Context(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	db := newDB(pool)
	tb.Cleanup(func() { db.Close() })
	if !main {
		return db
	}
	ms, err := sqlstore.History(types(), os.DirFS("testdata/main"), migrationFiles)
	if err != nil {
		tb.Fatal(err)
	}
	if err := db.Migrate(tb.Context(), types(), ms, lockMigrations); err != nil {
		tb.Fatal(err)
	}
	return db
}

// The shared migrations, rendered for PostgreSQL, make the schema main's
// own PostgreSQL migrations made: the same columns, indexes, constraints
// and functions.
func TestMigrations_SameSchemaAsMain(t *testing.T) {
	old := schema(t, openRaw(t, pgtest.DSN(t), true))
	fresh := schema(t, openAsOfMain(t, pgtest.DSN(t)))
	if !slices.Equal(old, fresh) {
		t.Errorf("schema differs from main's:\nmain:  %q\nfresh: %q", old, fresh)
	}
}

// openAsOfMain opens the database at dsn migrated with the current shared
// history up to main's newest version: migrations main has not seen
// (those after the shared store left it) are not part of the comparison.
func openAsOfMain(tb testing.TB, dsn string) *DB {
	tb.Helper()
	main, err := sqlstore.History(types(), os.DirFS("testdata/main"), migrationFiles)
	if err != nil {
		tb.Fatal(err)
	}
	ms, err := loadMigrations()
	if err != nil {
		tb.Fatal(err)
	}
	newest := main[len(main)-1].Version
	ms = slices.DeleteFunc(ms, func(m sqlstore.Migration) bool { return m.Version > newest })
	db := openRaw(tb, dsn, false)
	if err := db.Migrate(tb.Context(), types(), ms, lockMigrations); err != nil {
		tb.Fatal(err)
	}
	return db
}

// schema returns the schema objects of the database's current schema,
// one line each, without the schema's name.
func schema(tb testing.TB, db *DB) []string {
	tb.Helper()
	objs, err := sqlstore.QueryAll(tb.Context(), db.sql, func(r *sql.Rows) (string, error) {
		var s string
		return s, r.Scan(&s)
	}, `SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' ||
			COALESCE(column_default, '') || ' ' || COALESCE(collation_name, '') || ' ' || is_identity
			FROM information_schema.columns WHERE table_schema = current_schema()
		UNION ALL SELECT 'index ' || replace(indexdef, current_schema() || '.', '')
			FROM pg_indexes WHERE schemaname = current_schema()
		UNION ALL SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
			FROM pg_constraint WHERE connamespace = current_schema()::regnamespace
		UNION ALL SELECT 'function ' || proname || ' ' || md5(prosrc)
			FROM pg_proc WHERE pronamespace = current_schema()::regnamespace`)
	if err != nil {
		tb.Fatal(err)
	}
	versions, err := db.AppliedMigrations(tb.Context())
	if err != nil {
		tb.Fatal(err)
	}
	for v := range versions {
		objs = append(objs, "migration "+strings.Repeat("*", int(v)))
	}
	slices.Sort(objs)
	return objs
}
