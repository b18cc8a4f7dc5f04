package admin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mailroom/internal/blob"
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

// OpenBodies follows [store] bodies, and keeps bodies written as files
// before readable when every new body goes to the database.
func TestOpenBodies_Modes(t *testing.T) {
	for _, tc := range []struct {
		mode       string
		oldFiles   bool
		wantFiles  bool
		wantLegacy bool
	}{
		{config.BodiesAuto, false, true, false},  // sqlite: large bodies as files
		{config.BodiesFiles, false, true, false}, // every body a file
		{config.BodiesDatabase, false, false, false},
		{config.BodiesDatabase, true, true, true}, // old files stay readable
	} {
		cfg := config.Default()
		cfg.SetDir(t.TempDir())
		cfg.Store.Bodies = tc.mode
		st, err := OpenStore(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if tc.oldFiles {
			fs, err := blob.Open(filepath.Join(cfg.DataPath(), "blobs"))
			if err != nil {
				t.Fatal(err)
			}
			w, _ := fs.Create()
			w.Write([]byte("Subject: old\r\n\r\nx\r\n"))
			if err := w.Commit("00000001-old.eml"); err != nil {
				t.Fatal(err)
			}
			fs.Close()
		}
		bodies, files, err := OpenBodies(cfg, st)
		if err != nil {
			t.Fatal(err)
		}
		if (files != nil) != tc.wantFiles {
			t.Errorf("%s (old files %v): file store %v, want %v", tc.mode, tc.oldFiles, files != nil, tc.wantFiles)
		}
		d, isDB := bodies.(*blob.DB)
		if (tc.mode == config.BodiesFiles) == isDB {
			t.Errorf("%s: body store %T", tc.mode, bodies)
		}
		if isDB && (d.Legacy != nil) != tc.wantLegacy {
			t.Errorf("%s (old files %v): legacy %v, want %v", tc.mode, tc.oldFiles, d.Legacy != nil, tc.wantLegacy)
		}
		if tc.oldFiles {
			if r, err := bodies.Open("00000001-old.eml"); err != nil {
				t.Errorf("old body not readable: %v", err)
			} else {
				r.Close()
			}
		}
		if files != nil {
			files.Close()
		}
		st.Close()
	}
}
