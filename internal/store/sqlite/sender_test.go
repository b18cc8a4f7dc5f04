package sqlite

import (
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"mailroom/internal/store"
	"mailroom/internal/store/sqlstore"
)

// openAt opens path with only the migrations up to version applied.
func openAt(tb testing.TB, path string, version int64) *DB {
	tb.Helper()
	sdb, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		tb.Fatal(err)
	}
	db := newDB(sdb)
	ms, err := loadMigrations()
	if err != nil {
		tb.Fatal(err)
	}
	for _, m := range ms {
		if m.Version > version {
			break
		}
		err := db.write(tb.Context(), func(tx *sql.Tx) error {
			return sqlstore.ApplyMigration(tb.Context(), tx, types(), m, m.Version)
		})
		if err != nil {
			tb.Fatalf("apply %s: %v", m.Name, err)
		}
	}
	return db
}

func TestMigrate_0002KeepsExistingRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mailroom.db")
	old := openAt(t, path, 1)
	for _, q := range []string{
		`INSERT INTO domains (name, created_at) VALUES ('example.org', 1)`,
		`INSERT INTO mailboxes (address, domain_id, display_name, password_hash, smtp_auth, shared, created_at, updated_at)
		 VALUES ('alice@example.org', 1, 'Alice', 'hash', 1, 0, 2, 3)`,
		`UPDATE meta SET value = 7 WHERE key = 'directory_version'`,
	} {
		if _, err := old.sql.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	db := mustOpen(t, path)
	ds, err := db.Domains(t.Context())
	if err != nil || len(ds) != 1 {
		t.Fatalf("domains after migration: %+v, %v", ds, err)
	}
	if d := ds[0]; d.DisplayName != store.DisplayNameClient || d.Networks != nil || d.Limits != (store.Limits{}) {
		t.Errorf("migrated domain %+v, want the defaults", d)
	}
	m, err := db.Mailbox(t.Context(), "alice@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if !m.SaveSent || m.CopySentAs || m.CopySentOnBehalf || m.SentRetention != 0 || m.QuotaBytes != 0 ||
		m.Networks != nil || m.Limits != (store.Limits{}) || m.DisplayName != "Alice" || !m.SMTPAuth {
		t.Errorf("migrated mailbox %+v, want SaveSent and no other setting", m)
	}
	if v, err := db.DirectoryVersion(t.Context()); err != nil || v != 7 {
		t.Errorf("directory version after migration %d, %v; want 7", v, err)
	}
}

func TestDeleteUnreferenced_UsesIndexes(t *testing.T) {
	db := mustOpen(t, filepath.Join(t.TempDir(), "mailroom.db"))
	plan := queryPlan(t, db, sqlstore.Unreferenced, 10)
	all := strings.Join(plan, "\n")
	for _, want := range []string{"folder_entries_message", "queue_message"} {
		if !strings.Contains(all, want) {
			t.Errorf("plan does not use index %s:\n%s", want, all)
		}
	}
	for _, line := range plan {
		if strings.HasPrefix(line, "SCAN") && !strings.HasPrefix(line, "SCAN m") {
			t.Errorf("plan scans a table other than messages: %q\n%s", line, all)
		}
	}
}

func TestNetworks_Encoding(t *testing.T) {
	for _, in := range [][]string{nil, {}, {"192.0.2.0/24"}, {"2001:db8::/32", "odd,\n\"value\""}} {
		enc, err := encodeNetworks(in)
		if err != nil {
			t.Fatal(err)
		}
		if len(in) == 0 && enc != "[]" {
			t.Errorf("encode %q = %q, want []", in, enc)
		}
		var out []string
		if err := scanNetworks(&out).Scan(enc); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(out, in) || (len(in) == 0 && out != nil) {
			t.Errorf("round trip of %q gave %q", in, out)
		}
	}
	var out []string
	if err := scanNetworks(&out).Scan("192.0.2.0/24"); err == nil {
		t.Error("decode of a non-JSON value succeeded")
	}
}
