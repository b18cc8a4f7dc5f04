package sqlite

import (
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"mailroom/internal/store/sqlstore"
)

// openRaw opens the database at path without migrating it, or when main
// is true, migrated as mailroom's main branch before the shared store left
// it: the SQLite migrations it embedded then (kept in testdata/main),
// applied as it applied them.
func openRaw(tb testing.TB, path string, main bool) *DB {
	tb.Helper()
	sdb, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		tb.Fatal(err)
	}
	db := newDB(sdb)
	tb.Cleanup(func() { sdb.Close() })
	if !main {
		return db
	}
	ms, err := sqlstore.History(types(), os.DirFS("testdata/main"), noMigrations)
	if err != nil {
		tb.Fatal(err)
	}
	if err := db.Migrate(tb.Context(), types(), ms, nil); err != nil {
		tb.Fatal(err)
	}
	return db
}

// The shared migrations, rendered for SQLite, make the schema main's own
// SQLite migrations made, to the letter (but for white space and
// comments).
func TestMigrations_SameSchemaAsMain(t *testing.T) {
	old := schema(t, openRaw(t, filepath.Join(t.TempDir(), "main.db"), true))
	fresh := schema(t, openAsOfMain(t, filepath.Join(t.TempDir(), "mailroom.db")))
	if !slices.Equal(old, fresh) {
		t.Errorf("schema differs from main's:\nmain:  %q\nfresh: %q", old, fresh)
	}
}

// openAsOfMain opens the database at dsn migrated with the current shared
// history up to main's newest version: migrations main has not seen
// (those after the shared store left it) are not part of the comparison.
func openAsOfMain(tb testing.TB, dsn string) *DB {
	tb.Helper()
	main, err := sqlstore.History(types(), os.DirFS("testdata/main"), noMigrations)
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
	if err := db.Migrate(tb.Context(), types(), ms, nil); err != nil {
		tb.Fatal(err)
	}
	return db
}

// schema returns the database's schema objects, one line each, with
// comments and runs of white space folded.
func schema(tb testing.TB, db *DB) []string {
	tb.Helper()
	comment, space := regexp.MustCompile(`--[^\n]*`), regexp.MustCompile(`\s+`)
	objs, err := sqlstore.QueryAll(tb.Context(), db.sql, func(r *sql.Rows) (string, error) {
		var typ, name string
		var text sql.NullString
		err := r.Scan(&typ, &name, &text)
		text.String = space.ReplaceAllString(comment.ReplaceAllString(text.String, ""), " ")
		text.String = strings.ReplaceAll(strings.ReplaceAll(text.String, "( ", "("), " )", ")")
		return typ + " " + name + ": " + text.String, err
	}, `SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name`)
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
