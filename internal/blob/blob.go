// Package blob owns message bodies on disk: each is written to a temporary
// file, fsynced, renamed to its final name and made durable by an fsync of
// the directory, so a body is either wholly present or absent after a crash.
// Rows that name a blob are committed only after Commit returns.
package blob

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"mailroom/internal/groupcommit"
)

// tmpPrefix marks files that were never committed; Open removes them.
const tmpPrefix = ".tmp-"

// FS stores blobs as files in one directory.
type FS struct {
	dir string
	// dirSyncs coalesces the directory fsyncs of concurrent commits: a
	// commit waits for an fsync that started after its rename.
	dirSyncs  *groupcommit.Batcher[struct{}]
	fileSyncs atomic.Int64
}

// Open prepares dir (creating it) and removes temporary files that a crash
// left behind.
func Open(dir string) (*FS, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create blob dir: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read blob dir: %w", err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	fs := &FS{dir: dir}
	fs.dirSyncs = groupcommit.New(1024, func([]struct{}) error { return fs.SyncDir() })
	return fs, nil
}

// Close stops the directory-sync batcher; Commit fails afterwards.
func (s *FS) Close() { s.dirSyncs.Close() }

// Writer receives one blob. Call Commit to make it durable, or Abort.
type Writer struct {
	fs   *FS
	f    *os.File
	buf  *bufio.Writer
	n    int64
	done bool
}

// Create starts a new blob.
func (s *FS) Create() (*Writer, error) {
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, fmt.Errorf("random name: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(s.dir, tmpPrefix+hex.EncodeToString(rnd[:])), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, fmt.Errorf("create blob: %w", err)
	}
	return &Writer{fs: s, f: f, buf: bufio.NewWriterSize(f, 64<<10)}, nil
}

// Write appends to the blob.
func (w *Writer) Write(p []byte) (int, error) {
	n, err := w.buf.Write(p)
	w.n += int64(n)
	return n, err
}

// Size is the number of bytes written so far.
func (w *Writer) Size() int64 { return w.n }

// Commit flushes and fsyncs the blob, names it key and fsyncs the directory.
// When Commit returns nil the blob survives a crash. The Writer is done
// either way; on error the temporary file is removed.
func (w *Writer) Commit(key string) error {
	if err := validKey(key); err != nil {
		w.Abort()
		return err
	}
	if err := w.sync(); err != nil {
		w.Abort()
		return err
	}
	w.done = true
	tmp := w.f.Name()
	if err := w.f.Close(); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("close blob: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(w.fs.dir, key)); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("rename blob %s: %w", key, err)
	}
	if err := w.fs.dirSyncs.Do(context.Background(), struct{}{}); err != nil {
		return fmt.Errorf("blob %s: %w", key, err)
	}
	return nil
}

// Syncs returns how many file and directory fsyncs the FS has made, for
// measuring group commit.
func (s *FS) Syncs() (files, dirs int64) {
	dirs, _ = s.dirSyncs.Stats()
	return s.fileSyncs.Load(), dirs
}

// sync flushes the buffer and fsyncs the file.
func (w *Writer) sync() error {
	if w.done {
		return errors.New("blob writer already finished")
	}
	if err := w.buf.Flush(); err != nil {
		return fmt.Errorf("write blob: %w", err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("fsync blob: %w", err)
	}
	w.fs.fileSyncs.Add(1)
	return nil
}

// Abort discards the blob. It is safe to call after Commit.
func (w *Writer) Abort() {
	if w.done {
		return
	}
	w.done = true
	_ = w.f.Close()
	_ = os.Remove(w.f.Name())
}

// SyncDir fsyncs the blob directory, making renames into it durable.
func (s *FS) SyncDir() error {
	d, err := os.Open(s.dir)
	if err != nil {
		return fmt.Errorf("open blob dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync blob dir: %w", err)
	}
	return nil
}

// Reader reads one blob, sequentially or at offsets.
type Reader interface {
	io.ReadCloser
	io.ReaderAt
}

// Open returns a reader of the blob named key.
func (s *FS) Open(key string) (Reader, error) {
	if err := validKey(key); err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(s.dir, key))
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", key, err)
	}
	return f, nil
}

// Remove deletes the blob named key; a missing blob is not an error.
func (s *FS) Remove(key string) error {
	if err := validKey(key); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(s.dir, key)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove blob %s: %w", key, err)
	}
	return nil
}

// validKey refuses keys that could escape the directory or collide with
// temporary files.
func validKey(key string) error {
	if key == "" || strings.HasPrefix(key, ".") || strings.ContainsAny(key, `/\`) {
		return fmt.Errorf("invalid blob key %q", key)
	}
	return nil
}
