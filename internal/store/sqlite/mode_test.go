package sqlite

import (
	"os"
	"path/filepath"
	"testing"
)

// TestOpen_FilesPrivate: the database holds password hashes, DKIM keys
// and bodies, so a new database file and its -wal and -shm files are
// readable by their owner only, whatever the umask.
func TestOpen_FilesPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mailroom.db")
	db := mustOpen(t, path)
	if _, err := db.CreateDomain(t.Context(), "example.com", ""); err != nil { // a write makes the WAL
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s: mode %#o, want 0600", filepath.Base(p), m)
		}
	}
}
