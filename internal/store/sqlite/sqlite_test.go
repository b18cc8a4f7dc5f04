package sqlite

import (
	"os"
	"path/filepath"
	"testing"

	"mailroom/internal/store"
	"mailroom/internal/store/storetest"
)

// mustOpen opens the database at path and closes it when the test ends.
func mustOpen(tb testing.TB, path string) *DB {
	tb.Helper()
	db, err := Open(tb.Context(), path)
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("close %s: %v", path, err)
		}
	})
	return db
}

func TestDB_Store(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		db, err := Open(t.Context(), filepath.Join(t.TempDir(), "mailroom.db"))
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		return db
	})
}

func TestDB_Handles(t *testing.T) {
	storetest.RunHandles(t, storetest.Handles{
		Location: func(t *testing.T) string { return filepath.Join(t.TempDir(), "mailroom.db") },
		Open:     func(t *testing.T, path string) (store.Store, error) { return Open(t.Context(), path) },
		Exec: func(t *testing.T, path string, main bool, sts ...storetest.Statement) {
			db := openRaw(t, path, main)
			for _, st := range sts {
				if _, err := db.sql.ExecContext(t.Context(), st.SQL, st.Args...); err != nil {
					t.Fatalf("%s: %v", st.SQL, err)
				}
			}
			if err := db.sql.Close(); err != nil {
				t.Fatal(err)
			}
		},
	})
}

func TestDSN_EscapesURIReservedCharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "odd ?#% dir")
	path := filepath.Join(dir, "mail?room#1%.db")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	db := mustOpen(t, path)
	if _, err := db.CreateDomain(t.Context(), "example.org", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not created at %q: %v", path, err)
	}
}

func TestOpen_Pragmas(t *testing.T) {
	db := mustOpen(t, filepath.Join(t.TempDir(), "mailroom.db"))
	for _, tc := range []struct {
		pragma, want string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
	} {
		var got string
		if err := db.sql.QueryRowContext(t.Context(), "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatalf("pragma %s: %v", tc.pragma, err)
		}
		if got != tc.want {
			t.Errorf("pragma %s = %s, want %s", tc.pragma, got, tc.want)
		}
	}
}
