package sqlite

import (
	"errors"
	"io/fs"
	"os"
)

// createPrivate creates the database file at path, readable by its owner
// only, unless it exists. SQLite would create it 0644 less the umask, and
// gives the -wal and -shm files the database file's mode, so all three
// start private: the database holds password hashes, DKIM keys and
// bodies. An existing file keeps the mode its administrator gave it.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}
