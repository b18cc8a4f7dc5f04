package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"mailroom/internal/store"
)

// dbTimeout bounds one database operation on a body.
const dbTimeout = 30 * time.Second

// DB keeps bodies in the database (store.Bodies). A body of at most
// InlineMax bytes is handed to the acceptance's transaction by
// Writer.Inline, so the message and its body cost one commit. A larger
// body goes to Files when it is set (the embedded default: large bodies
// are files beside the database), else into the database in parts of
// store.BodyPartSize, spooled first to an unlinked file under SpoolDir so
// that memory stays bounded (a cluster: every node reads every body).
type DB struct {
	// Bodies is the database.
	Bodies store.Bodies
	// Files, when set, keeps bodies larger than InlineMax.
	Files *FS
	// InlineMax is the size up to which a body is kept in memory and may
	// ride in its acceptance's transaction; at most store.BodyPartSize.
	InlineMax int
	// SpoolDir holds the temporary files of large bodies on their way to
	// the database ("" is os.TempDir()).
	SpoolDir string
	// Legacy, when set (and Files is not), holds bodies stored as files
	// before bodies went to the database: they are read, walked and
	// removed there, never written.
	Legacy *FS
}

var _ Store = (*DB)(nil)

// Create starts a new body.
func (d *DB) Create() (Writer, error) {
	if d.InlineMax > store.BodyPartSize {
		return nil, fmt.Errorf("blob: InlineMax %d is more than a body part (%d)", d.InlineMax, store.BodyPartSize)
	}
	return &dbWriter{db: d}, nil
}

// dbWriter holds a body in memory until it outgrows InlineMax, then in a
// file writer (Files) or a spool file.
type dbWriter struct {
	db    *DB
	buf   bytes.Buffer
	file  Writer   // the body went to Files
	spool *os.File // the body is spooled for the database
	n     int64
	done  bool
}

// Write appends to the body.
func (w *dbWriter) Write(p []byte) (int, error) {
	if w.done {
		return 0, errors.New("blob writer already finished")
	}
	switch {
	case w.file != nil:
		n, err := w.file.Write(p)
		w.n += int64(n)
		return n, err
	case w.spool != nil:
		n, err := w.spool.Write(p)
		w.n += int64(n)
		if err != nil {
			err = fmt.Errorf("spool body: %w", err)
		}
		return n, err
	case w.buf.Len()+len(p) <= w.db.InlineMax:
		n, _ := w.buf.Write(p)
		w.n += int64(n)
		return n, nil
	}
	if err := w.spill(); err != nil {
		return 0, err
	}
	return w.Write(p)
}

// spill moves the buffered bytes to a file writer or a spool file.
func (w *dbWriter) spill() error {
	if w.db.Files != nil {
		fw, err := w.db.Files.Create()
		if err != nil {
			return err
		}
		if _, err := fw.Write(w.buf.Bytes()); err != nil {
			fw.Abort()
			return err
		}
		w.file = fw
	} else {
		f, err := os.CreateTemp(w.db.SpoolDir, ".spool-")
		if err != nil {
			return fmt.Errorf("spool body: %w", err)
		}
		_ = os.Remove(f.Name()) // unlinked: gone with the process, whatever happens
		if _, err := f.Write(w.buf.Bytes()); err != nil {
			_ = f.Close()
			return fmt.Errorf("spool body: %w", err)
		}
		w.spool = f
	}
	w.buf = bytes.Buffer{}
	return nil
}

// Size is the number of bytes written so far.
func (w *dbWriter) Size() int64 { return w.n }

// Inline returns the body when it is still in memory.
func (w *dbWriter) Inline() ([]byte, bool) {
	if w.done || w.file != nil || w.spool != nil {
		return nil, false
	}
	w.done = true
	if w.buf.Len() == 0 {
		return []byte{}, true // an empty body is a row with an empty value, not NULL
	}
	return w.buf.Bytes(), true
}

// Commit stores the body under key: in the file store, or in the database
// in its own transaction.
func (w *dbWriter) Commit(key string) error {
	if w.done {
		return errors.New("blob writer already finished")
	}
	if err := validKey(key); err != nil {
		w.Abort()
		return err
	}
	if w.file != nil {
		w.done = true
		return w.file.Commit(key)
	}
	defer w.Abort()
	var r io.Reader = bytes.NewReader(w.buf.Bytes())
	if w.spool != nil {
		if _, err := w.spool.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("rewind spooled body: %w", err)
		}
		r = w.spool
	}
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	return w.db.Bodies.PutBody(ctx, key, r)
}

// Abort discards the body.
func (w *dbWriter) Abort() {
	if w.file != nil && !w.done {
		w.file.Abort()
	}
	if w.spool != nil {
		_ = w.spool.Close()
		w.spool = nil
	}
	w.done = true
}

// Open returns a reader of the body named key: from the database, else
// (when Files is set) from a file.
func (d *DB) Open(key string) (Reader, error) {
	if err := validKey(key); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	first, err := d.Bodies.BodyPart(ctx, key, 0)
	if errors.Is(err, store.ErrNotFound) && d.fileStore() != nil {
		return d.fileStore().Open(key)
	}
	if err != nil {
		return nil, fmt.Errorf("open body %s: %w", key, err)
	}
	return &dbReader{bodies: d.Bodies, key: key, part: 0, data: first}, nil
}

// dbReader reads a body part by part; it keeps the last part it read.
type dbReader struct {
	bodies store.Bodies
	key    string
	off    int64 // the next sequential read

	mu   sync.Mutex // ReadAt may be called concurrently
	part int        // the part in data
	data []byte     // nil: none held
}

// Read reads sequentially.
func (r *dbReader) Read(p []byte) (int, error) {
	n, err := r.ReadAt(p, r.off)
	r.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

// ReadAt reads len(p) bytes at off, fetching the parts it spans.
func (r *dbReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("blob: negative offset")
	}
	total := 0
	for total < len(p) {
		part := int(off / store.BodyPartSize)
		data, err := r.fetch(part)
		if errors.Is(err, store.ErrNotFound) {
			return total, r.missing(part)
		}
		if err != nil {
			return total, err
		}
		in := int(off % store.BodyPartSize)
		if in >= len(data) {
			return total, io.EOF
		}
		n := copy(p[total:], data[in:])
		total += n
		off += int64(n)
		if total < len(p) && len(data) < store.BodyPartSize { // read to the end of the last part
			return total, io.EOF
		}
	}
	return total, nil
}

// missing says what a missing part n means: the body's end (io.EOF), or,
// when part 0 is gone too, that the body was removed while being read
// (io.ErrUnexpectedEOF): a body's parts go together, in one transaction,
// so a reader never mistakes a removal for a shorter message.
func (r *dbReader) missing(n int) error {
	if n == 0 {
		return io.ErrUnexpectedEOF
	}
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	if _, err := r.bodies.BodyPart(ctx, r.key, 0); err != nil {
		return fmt.Errorf("body %s removed while read: %w", r.key, io.ErrUnexpectedEOF)
	}
	return io.EOF
}

// fetch returns part n, from memory if it is the part held.
func (r *dbReader) fetch(n int) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.data != nil && r.part == n {
		return r.data, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	data, err := r.bodies.BodyPart(ctx, r.key, n)
	if err != nil {
		return nil, err
	}
	r.part, r.data = n, data
	return data, nil
}

// Close releases the part held.
func (r *dbReader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.data = nil
	return nil
}

// Remove deletes the bodies named keys from the database (one
// transaction) and from Files.
func (d *DB) Remove(keys ...string) error {
	for _, k := range keys {
		if err := validKey(k); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	if err := d.Bodies.DeleteBodies(ctx, keys); err != nil {
		return err
	}
	if fs := d.fileStore(); fs != nil {
		return fs.Remove(keys...)
	}
	return nil
}

// fileStore is where bodies not in the database are: Files, else Legacy.
func (d *DB) fileStore() *FS {
	if d.Files != nil {
		return d.Files
	}
	return d.Legacy
}

// Walk calls fn for every body in the database, then in Files, whose key
// sorts at or after from.
func (d *DB) Walk(from string, fn func(key string, stored time.Time) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*dbTimeout)
	defer cancel()
	if err := d.Bodies.BodyKeys(ctx, from, fn); err != nil {
		return err
	}
	if fs := d.fileStore(); fs != nil {
		return fs.Walk(from, fn)
	}
	return nil
}
