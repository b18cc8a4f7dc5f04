// Package blob owns message bodies. Store is what the rest of mailroom
// uses; FS keeps bodies as files and DB keeps them in the database
// (store.Bodies), small ones inside their acceptance's transaction.
//
// FS writes each body to a temporary file, fsyncs it, renames it to its
// final name and makes it durable by an fsync of the directory, so a body
// is either wholly present or absent after a crash. Rows that name a blob
// are committed only after Commit returns.
//
// Bodies are spread over subdirectories named by the first shardLen
// characters of their key. Queue ids start with the time in hex, so one
// subdirectory takes about four seconds of mail: concurrent commits land
// in the same directory and share its fsync, and no directory grows to
// millions of entries (file creation in a huge directory gets slow).
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
	"sync"
	"sync/atomic"
	"time"

	"mailroom/internal/groupcommit"
)

// tmpPrefix marks files that were never committed; Open removes them.
const tmpPrefix = ".tmp-"

// shardLen is how many leading characters of a key name its subdirectory.
const shardLen = 8

// FS stores blobs as files in one directory.
type FS struct {
	dir string
	// dirSyncs coalesces the directory fsyncs of concurrent commits: a
	// commit waits for an fsync that started after its rename.
	dirSyncs  *groupcommit.Batcher[string]
	fileSyncs atomic.Int64
	made      sync.Map // subdirectories known to exist durably
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
	fs.dirSyncs = groupcommit.New(1024, fs.syncDirs)
	return fs, nil
}

// Dir is the directory the FS was opened on.
func (s *FS) Dir() string { return s.dir }

// Close stops the directory-sync batcher; Commit fails afterwards.
func (s *FS) Close() { s.dirSyncs.Close() }

// Store keeps message bodies by key.
type Store interface {
	// Create starts a new body.
	Create() (Writer, error)
	// Open returns a reader of the body named key.
	Open(key string) (Reader, error)
	// Remove deletes the bodies named keys; a missing one is not an error.
	Remove(keys ...string) error
	// Walk calls fn for every stored body whose key sorts at or after
	// from's shard (see ShardOf; "" walks all), with the time it was stored.
	Walk(from string, fn func(key string, stored time.Time) error) error
}

// Writer receives one body. Call Commit to make it durable, or take it
// with Inline and write it in the acceptance's transaction, or Abort.
type Writer interface {
	io.Writer
	// Size is the number of bytes written so far.
	Size() int64
	// Commit makes the body durable under key: when it returns nil the
	// body survives a crash. The Writer is done either way.
	Commit(key string) error
	// Inline returns the body's bytes when the store keeps it in the
	// database and it is small enough to ride in the acceptance's
	// transaction (store.Acceptance.Bodies): one commit makes the rows and
	// the body durable together. The Writer is done when ok is true; else
	// call Commit.
	Inline() (data []byte, ok bool)
	// Abort discards the body. It is safe to call after Commit or Inline.
	Abort()
}

// fileWriter receives one blob into a temporary file.
type fileWriter struct {
	fs   *FS
	f    *os.File
	buf  *bufio.Writer
	n    int64
	done bool
}

// Create starts a new blob.
func (s *FS) Create() (Writer, error) {
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, fmt.Errorf("random name: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(s.dir, tmpPrefix+hex.EncodeToString(rnd[:])), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, fmt.Errorf("create blob: %w", err)
	}
	return &fileWriter{fs: s, f: f, buf: bufio.NewWriterSize(f, 64<<10)}, nil
}

// Write appends to the blob.
func (w *fileWriter) Write(p []byte) (int, error) {
	n, err := w.buf.Write(p)
	w.n += int64(n)
	return n, err
}

// Size is the number of bytes written so far.
func (w *fileWriter) Size() int64 { return w.n }

// Inline reports false: files are committed on their own.
func (w *fileWriter) Inline() ([]byte, bool) { return nil, false }

// Commit flushes and fsyncs the blob, names it key and fsyncs the directory.
// When Commit returns nil the blob survives a crash. The Writer is done
// either way; on error the temporary file is removed.
func (w *fileWriter) Commit(key string) error {
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
	sub, err := w.fs.subdir(key)
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, filepath.Join(sub, key)); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("rename blob %s: %w", key, err)
	}
	if err := w.fs.dirSyncs.Do(context.Background(), sub); err != nil {
		return fmt.Errorf("blob %s: %w", key, err)
	}
	return nil
}

// subdir returns the directory of key, creating it (durably) if needed.
func (s *FS) subdir(key string) (string, error) {
	name := "_"
	if len(key) > shardLen {
		name = key[:shardLen]
	}
	p := filepath.Join(s.dir, name)
	if _, ok := s.made.Load(p); ok {
		return p, nil
	}
	if err := os.Mkdir(p, 0o750); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("create blob subdirectory: %w", err)
	}
	if err := syncDir(s.dir); err != nil { // the new entry in the base directory
		return "", err
	}
	s.made.Store(p, true)
	return p, nil
}

// Path is the file of the blob named key under dir, the directory an FS
// was opened on (for tools and tests; use FS.Open to read).
func Path(dir, key string) string {
	if len(key) > shardLen {
		return filepath.Join(dir, key[:shardLen], key)
	}
	return filepath.Join(dir, "_", key)
}

// ShardOf names the subdirectory a key created at t falls in: keys that
// start with the time in milliseconds as 11 hex digits (queue ids) shard by
// their first shardLen characters, so shards sort by time.
func ShardOf(t time.Time) string { return fmt.Sprintf("%011x", t.UnixMilli())[:shardLen] }

// Walk calls fn for every committed blob in the shards from (by name,
// inclusive) onwards, with its modification time. "" walks every shard.
func (s *FS) Walk(from string, fn func(key string, mod time.Time) error) error {
	shards, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("read blob dir: %w", err)
	}
	for _, sh := range shards {
		if !sh.IsDir() || sh.Name() < from {
			continue
		}
		ents, err := os.ReadDir(filepath.Join(s.dir, sh.Name()))
		if err != nil {
			return fmt.Errorf("read blob shard %s: %w", sh.Name(), err)
		}
		for _, e := range ents {
			info, err := e.Info()
			if err != nil {
				continue // removed meanwhile
			}
			if err := fn(e.Name(), info.ModTime()); err != nil {
				return err
			}
		}
	}
	return nil
}

// Count returns how many committed blobs are under dir (for tools and tests).
func Count(dir string) (int, error) {
	n := 0
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !strings.HasPrefix(d.Name(), tmpPrefix) {
			n++
		}
		return nil
	})
	return n, err
}

// syncDirs fsyncs each distinct directory of a batch.
func (s *FS) syncDirs(dirs []string) error {
	done := make(map[string]bool, 1)
	for _, d := range dirs {
		if done[d] {
			continue
		}
		done[d] = true
		if err := syncDir(d); err != nil {
			return err
		}
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
func (w *fileWriter) sync() error {
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
func (w *fileWriter) Abort() {
	if w.done {
		return
	}
	w.done = true
	_ = w.f.Close()
	_ = os.Remove(w.f.Name())
}

// syncDir fsyncs a directory, making renames into it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
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
	f, err := os.Open(Path(s.dir, key))
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", key, err)
	}
	return f, nil
}

// Remove deletes the blobs named keys; a missing blob is not an error.
func (s *FS) Remove(keys ...string) error {
	for _, key := range keys {
		if err := validKey(key); err != nil {
			return err
		}
		if err := os.Remove(Path(s.dir, key)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove blob %s: %w", key, err)
		}
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
