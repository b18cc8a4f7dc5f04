package blob_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"mailroom/internal/blob"
	"mailroom/internal/config"
	"mailroom/internal/store"
	"mailroom/internal/store/sqlite"
)

// openDB returns a DB on a fresh SQLite store, with Files when withFiles.
func openDB(t *testing.T, withFiles bool) (*blob.DB, *sqlite.DB) {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "mailroom.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	d := &blob.DB{Bodies: st, InlineMax: 1024, SpoolDir: dir}
	if withFiles {
		fs, err := blob.Open(filepath.Join(dir, "blobs"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(fs.Close)
		d.Files = fs
	}
	return d, st
}

// write creates a body of data and commits it under key.
func write(t *testing.T, s blob.Store, key string, data []byte) {
	t.Helper()
	w, err := s.Create()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if w.Size() != int64(len(data)) {
		t.Fatalf("Size %d, want %d", w.Size(), len(data))
	}
	if err := w.Commit(key); err != nil {
		t.Fatal(err)
	}
}

// readBack reads the body named key whole, and again at offsets.
func readBack(t *testing.T, s blob.Store, key string, want []byte) {
	t.Helper()
	r, err := s.Open(key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: read %d bytes, want %d (equal prefix: %v)", key, len(got), len(want), bytes.HasPrefix(want, got))
	}
	for _, off := range []int64{0, 1, int64(len(want)) / 2, int64(len(want)) - 1} {
		if off < 0 || off > int64(len(want)) {
			continue
		}
		sec, err := io.ReadAll(io.NewSectionReader(r, off, 1<<40))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(sec, want[off:]) {
			t.Fatalf("%s: ReadAt from %d: %d bytes, want %d", key, off, len(sec), len(want)-int(off))
		}
	}
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%23)
	}
	return b
}

// TestDB_ConfigInlineMaxIsOnePart holds config's bound on
// store.inline_body_max to what DB takes: one database body part.
func TestDB_ConfigInlineMaxIsOnePart(t *testing.T) {
	if config.MaxInlineBody != store.BodyPartSize {
		t.Fatalf("config.MaxInlineBody = %d, store.BodyPartSize = %d: an inline body is one part", config.MaxInlineBody, store.BodyPartSize)
	}
}

func TestDB_SizesRoundTrip(t *testing.T) {
	for _, withFiles := range []bool{false, true} {
		d, _ := openDB(t, withFiles)
		for i, n := range []int{0, 1, 1024, 1025, store.BodyPartSize, store.BodyPartSize + 1, 2*store.BodyPartSize + 77} {
			key := string(rune('a'+i)) + ".eml"
			data := pattern(n)
			write(t, d, key, data)
			readBack(t, d, key, data)
		}
	}
}

func TestDB_LargeBodiesGoWhereConfigured(t *testing.T) {
	d, st := openDB(t, true)
	write(t, d, "small", pattern(100))
	write(t, d, "large", pattern(5000))
	if _, err := st.BodyPart(t.Context(), "small", 0); err != nil {
		t.Errorf("small body not in the database: %v", err)
	}
	if _, err := st.BodyPart(t.Context(), "large", 0); err == nil {
		t.Error("large body in the database although Files is set")
	}
	if n, _ := blob.Count(d.Files.Dir()); n != 1 {
		t.Errorf("%d files, want the large body's", n)
	}

	d2, st2 := openDB(t, false)
	write(t, d2, "large", pattern(5000))
	if _, err := st2.BodyPart(t.Context(), "large", 0); err != nil {
		t.Errorf("without Files the large body must be in the database: %v", err)
	}
}

func TestDB_InlineRidesInTheAcceptance(t *testing.T) {
	d, st := openDB(t, true)
	w, err := d.Create()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "Subject: hi\r\n\r\nbody\r\n")
	data, ok := w.Inline()
	if !ok {
		t.Fatal("a small body is not inline")
	}
	w.Abort() // after Inline: nothing to undo
	if _, err := d.Open("Q1.eml"); err == nil {
		t.Fatal("an inline body exists before its acceptance")
	}
	mb := mustMailbox(t, st)
	err = st.Accept(t.Context(), store.Acceptance{
		Message: store.Message{ID: "Q1", MailboxID: mb.ID, EnvelopeFrom: mb.Address, Blob: "Q1.eml", DeliveryBlob: "Q1.eml"},
		Bodies:  []store.Body{{Key: "Q1.eml", Data: data}},
	})
	if err != nil {
		t.Fatal(err)
	}
	readBack(t, d, "Q1.eml", []byte("Subject: hi\r\n\r\nbody\r\n"))

	big, _ := d.Create()
	big.Write(pattern(2000))
	if _, ok := big.Inline(); ok {
		t.Fatal("a body over InlineMax is inline")
	}
	big.Abort()
}

func TestDB_RemoveAndWalk(t *testing.T) {
	d, _ := openDB(t, true)
	write(t, d, "0000000a-small", pattern(10))
	write(t, d, "0000000b-large", pattern(4000))
	write(t, d, "0000000c-small", pattern(10))
	var keys []string
	walk := func(from string) {
		keys = nil
		err := d.Walk(from, func(k string, at time.Time) error {
			if time.Since(at) > time.Minute {
				t.Errorf("%s stored at %v", k, at)
			}
			keys = append(keys, k)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	walk("")
	if len(keys) != 3 {
		t.Fatalf("walk: %v", keys)
	}
	if err := d.Remove("0000000a-small", "0000000b-large", "missing"); err != nil {
		t.Fatal(err)
	}
	walk("")
	if len(keys) != 1 || keys[0] != "0000000c-small" {
		t.Fatalf("after remove: %v", keys)
	}
	for _, k := range []string{"0000000a-small", "0000000b-large"} {
		if _, err := d.Open(k); err == nil {
			t.Errorf("%s still opens", k)
		}
	}
}

func TestDB_AbortLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	d, _ := openDB(t, false)
	d.SpoolDir = dir
	w, _ := d.Create()
	w.Write(pattern(5000)) // spooled
	w.Abort()
	if err := w.Commit("x"); err == nil {
		t.Fatal("Commit after Abort succeeded")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 0 {
		t.Fatalf("spool left %d files", len(ents))
	}
}

func mustMailbox(t *testing.T, st *sqlite.DB) store.Mailbox {
	t.Helper()
	if _, err := st.CreateDomain(t.Context(), "example.org", ""); err != nil {
		t.Fatal(err)
	}
	mb, err := st.CreateMailbox(t.Context(), store.Mailbox{Address: "a@example.org", Domain: "example.org", PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	return mb
}

// ReadAt may run concurrently on one reader (io.ReaderAt): parts fetched by
// one call must not be mixed into another's.
func TestDB_ConcurrentReadAt(t *testing.T) {
	d, _ := openDB(t, false)
	data := pattern(3*store.BodyPartSize + 123)
	write(t, d, "big.eml", data)
	r, err := d.Open("big.eml")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var wg sync.WaitGroup
	// Four readers of 12 reads each, spread over every part: each read
	// may fetch a whole part (1 MiB), which costs seconds under the race
	// detector, the run this test is for.
	for g := range 4 {
		wg.Go(func() {
			buf := make([]byte, 4096)
			for i := range 12 {
				off := int64((g*12+i)*262_147) % int64(len(data)-len(buf))
				n, err := r.ReadAt(buf, off)
				if err != nil || n != len(buf) || !bytes.Equal(buf, data[off:off+int64(n)]) {
					t.Errorf("ReadAt(%d): %d bytes, %v, equal %v", off, n, err, bytes.Equal(buf[:n], data[off:off+int64(n)]))
					return
				}
			}
		})
	}
	wg.Wait()
}

// A body removed while it is read is an error, not a shorter message.
func TestDB_RemovedWhileRead(t *testing.T) {
	d, _ := openDB(t, false)
	data := pattern(2*store.BodyPartSize + 10)
	write(t, d, "gone.eml", data)
	r, err := d.Open("gone.eml")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	buf := make([]byte, 1000)
	if _, err := r.ReadAt(buf, 0); err != nil {
		t.Fatal(err)
	}
	if err := d.Remove("gone.eml"); err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(r)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("reading a removed body: %v, want io.ErrUnexpectedEOF", err)
	}
	// A body of exactly two parts ends cleanly.
	exact := pattern(2 * store.BodyPartSize)
	write(t, d, "exact.eml", exact)
	readBack(t, d, "exact.eml", exact)
}

// Bodies stored as files before bodies went to the database stay
// readable, walkable and removable through Legacy; new ones go to the
// database.
func TestDB_LegacyFiles(t *testing.T) {
	dir := t.TempDir()
	old, err := blob.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	write(t, old, "00000001-old.eml", pattern(5000))
	d, st := openDB(t, false)
	d.Legacy = old
	readBack(t, d, "00000001-old.eml", pattern(5000))
	write(t, d, "00000002-new.eml", pattern(5000))
	if _, err := st.BodyPart(t.Context(), "00000002-new.eml", 0); err != nil {
		t.Fatalf("a new body did not go to the database: %v", err)
	}
	n := 0
	d.Walk("", func(string, time.Time) error { n++; return nil })
	if n != 2 {
		t.Fatalf("walk saw %d bodies, want 2", n)
	}
	if err := d.Remove("00000001-old.eml"); err != nil {
		t.Fatal(err)
	}
	if c, _ := blob.Count(old.Dir()); c != 0 {
		t.Fatalf("%d legacy files after Remove", c)
	}
}
