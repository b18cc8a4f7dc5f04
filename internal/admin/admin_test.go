package admin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mailroom/internal/config"
)

func TestOpenStore_PicksTheDriver(t *testing.T) {
	cfg := config.Default()
	cfg.SetDir(t.TempDir())
	st, err := OpenStore(t.Context(), cfg)
	if err != nil {
		t.Fatalf("open the default (sqlite) store: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataPath(), DatabaseFile)); err != nil {
		t.Fatalf("sqlite driver made no database file: %v", err)
	}

	// The postgres driver connects to store.dsn (nothing listens here) and
	// makes no SQLite file; the error does not show the password.
	cfg = config.Default()
	cfg.SetDir(t.TempDir())
	cfg.Store = config.Store{Driver: config.DriverPostgres, DSN: "postgres://mailroom:s3cret@127.0.0.1:1/mailroom?connect_timeout=1"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	st, err = OpenStore(t.Context(), cfg)
	if err == nil {
		st.Close()
		t.Fatal("open of a postgres store with no server succeeded")
	}
	if !strings.Contains(err.Error(), "postgres") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %q: want it to name postgres and not show the password", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataPath(), DatabaseFile)); err == nil {
		t.Error("postgres driver made a SQLite database file")
	}
}
