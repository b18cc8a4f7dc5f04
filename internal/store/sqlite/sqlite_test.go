package sqlite

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

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

func TestDB_TwoHandlesShareWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mailroom.db")
	server := mustOpen(t, path)
	cli := mustOpen(t, path)
	ctx := t.Context()

	v0, err := server.DirectoryVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.CreateDomain(ctx, "example.org"); err != nil {
		t.Fatalf("cli: create domain: %v", err)
	}
	if _, err := cli.CreateMailbox(ctx, store.Mailbox{Address: "alice@example.org", Domain: "example.org"}); err != nil {
		t.Fatalf("cli: create mailbox: %v", err)
	}
	v1, err := server.DirectoryVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v1 <= v0 {
		t.Fatalf("server sees directory version %d after cli writes, was %d", v1, v0)
	}
	m, err := server.Mailbox(ctx, "alice@example.org")
	if err != nil {
		t.Fatalf("server: read mailbox the cli created: %v", err)
	}

	// A write from the server is seen by the CLI, and a conflict across
	// handles is still a conflict.
	if _, err := server.CreateDomain(ctx, "example.org"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("server: create domain the cli created: got %v, want ErrConflict", err)
	}
	a := store.Acceptance{
		Message:    store.Message{ID: "Q1", MessageID: "m1@example.org", MailboxID: m.ID, EnvelopeFrom: m.Address, Size: 10, Blob: "b", DeliveryBlob: "b"},
		Recipients: []string{"x@remote.example"},
		Entries:    []store.FolderEntry{{MailboxID: m.ID, Folder: store.FolderSent, MessageID: "Q1", Blob: "b", Size: 10}},
	}
	if err := server.Accept(ctx, a); err != nil {
		t.Fatalf("server: accept: %v", err)
	}
	rows, err := cli.QueueRows(ctx, "Q1")
	if err != nil || len(rows) != 1 || rows[0].State != store.StateQueued {
		t.Fatalf("cli: queue rows of server's message: %+v, %v", rows, err)
	}

	if err := cli.DeleteMailbox(ctx, m.Address); err != nil {
		t.Fatalf("cli: delete mailbox: %v", err)
	}
	if v2, err := server.DirectoryVersion(ctx); err != nil || v2 <= v1 {
		t.Fatalf("server sees directory version %d (%v) after cli delete, was %d", v2, err, v1)
	}
	if _, err := server.Mailbox(ctx, m.Address); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("server: read mailbox the cli deleted: got %v, want ErrNotFound", err)
	}
}

func TestOpen_ConcurrentFreshDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mailroom.db")
	const n = 4
	dbs := make([]*DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { dbs[i], errs[i] = Open(t.Context(), path) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("open %d: %v", i, errs[i])
			continue
		}
		if err := dbs[i].Close(); err != nil {
			t.Errorf("close %d: %v", i, err)
		}
	}
	db := mustOpen(t, path)
	if got := appliedMigrations(t, db); len(got) != mustLoadMigrations(t) {
		t.Fatalf("schema_migrations has %d rows, want one per migration (%d)", len(got), mustLoadMigrations(t))
	}
}

func TestOpen_ReopenKeepsSchemaAndData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mailroom.db")
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateDomain(t.Context(), "example.org"); err != nil {
		t.Fatal(err)
	}
	before := appliedMigrations(t, db)
	if len(before) != mustLoadMigrations(t) {
		t.Fatalf("fresh database recorded %d migrations, want %d", len(before), mustLoadMigrations(t))
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = mustOpen(t, path)
	after := appliedMigrations(t, db)
	if len(after) != len(before) {
		t.Fatalf("reopen recorded migrations %v, had %v", after, before)
	}
	for v, at := range before {
		if after[v] != at {
			t.Errorf("migration %d re-applied: applied_at %d, was %d", v, after[v], at)
		}
	}
	ds, err := db.Domains(t.Context())
	if err != nil || len(ds) != 1 || ds[0].Name != "example.org" {
		t.Fatalf("domains after reopen: %+v, %v", ds, err)
	}
	if v, err := db.DirectoryVersion(t.Context()); err != nil || v != 1 {
		t.Fatalf("directory version after reopen: %d, %v; want 1", v, err)
	}
}

func TestOpen_RefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mailroom.db")
	db := mustOpen(t, path)
	if _, err := db.sql.ExecContext(t.Context(), `INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)`); err != nil {
		t.Fatal(err)
	}
	if db2, err := Open(t.Context(), path); err == nil {
		db2.Close()
		t.Fatal("open of a database with a newer schema succeeded")
	}
}

func TestDB_TimesAreUTCNanoseconds(t *testing.T) {
	db := mustOpen(t, filepath.Join(t.TempDir(), "mailroom.db"))
	at := time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.FixedZone("X", -7*3600))
	db.Now = func() time.Time { return at }
	d, err := db.CreateDomain(t.Context(), "example.org")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := db.Domains(t.Context())
	if err != nil || len(ds) != 1 {
		t.Fatalf("domains: %+v, %v", ds, err)
	}
	for _, got := range []time.Time{d.CreatedAt, ds[0].CreatedAt} {
		if !got.Equal(at) || got.Location() != time.UTC {
			t.Errorf("CreatedAt %v, want %v in UTC", got, at)
		}
	}
}

func TestDSN_EscapesURIReservedCharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "odd ?#% dir")
	path := filepath.Join(dir, "mail?room#1%.db")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	db := mustOpen(t, path)
	if _, err := db.CreateDomain(t.Context(), "example.org"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not created at %q: %v", path, err)
	}
}

// appliedMigrations returns applied_at by version from schema_migrations.
func appliedMigrations(tb testing.TB, db *DB) map[int64]int64 {
	tb.Helper()
	got, err := db.AppliedMigrations(tb.Context())
	if err != nil {
		tb.Fatal(err)
	}
	return got
}

// mustLoadMigrations returns the number of embedded migrations.
func mustLoadMigrations(tb testing.TB) int {
	tb.Helper()
	ms, err := loadMigrations()
	if err != nil {
		tb.Fatal(err)
	}
	return len(ms)
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
