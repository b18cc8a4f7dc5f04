package testkit

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"mailroom/internal/admin"
	"mailroom/internal/config"
	"mailroom/internal/store/sqlite"
)

// migrated holds an empty SQLite database with every migration applied,
// made once per test binary: running the migrations takes about 0.4 s
// under the race detector (SQLite is Go code there, instrumented), more
// than the rest of a daemon's start, and the start of every test server
// would pay it. Tests of the migrations themselves live in the store
// packages and start from nothing.
var migrated struct {
	once sync.Once
	data []byte
	err  error
}

// migratedDatabase returns the bytes of that database.
func migratedDatabase() ([]byte, error) {
	migrated.once.Do(func() {
		dir, err := os.MkdirTemp("", "mailroom-template-")
		if err != nil {
			migrated.err = err
			return
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, admin.DatabaseFile)
		db, err := sqlite.Open(context.Background(), path)
		if err != nil {
			migrated.err = err
			return
		}
		// Closing the last connection checkpoints the WAL into the file.
		if err := db.Close(); err != nil {
			migrated.err = err
			return
		}
		migrated.data, migrated.err = os.ReadFile(path)
	})
	return migrated.data, migrated.err
}

// seedDatabase puts the migrated database into cfg's data_dir when cfg is
// on SQLite and has no database yet; the daemon then opens it as one that
// is up to date. Anything else is left as it is.
func seedDatabase(cfg config.Config) error {
	if cfg.Store.Driver != "" && cfg.Store.Driver != config.DriverSQLite {
		return nil
	}
	path := filepath.Join(cfg.DataPath(), admin.DatabaseFile)
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	data, err := migratedDatabase()
	if err != nil {
		return fmt.Errorf("make the migrated template database: %w", err)
	}
	if err := os.MkdirAll(cfg.DataPath(), 0o750); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}
