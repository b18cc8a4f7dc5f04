package submission_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"mailroom/internal/daemon"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

// failingStore is the store with acceptance failing on demand: the edge
// tests inject failures at (daemon.Options.WrapStore).
type failingStore struct {
	store.Store
	mode atomic.Int32
}

const (
	failNone     = iota
	failError    // Accept returns an error without writing: a full disk, a lost database
	failCanceled // the real Accept runs with a dead context: the store's own rollback path
)

func (f *failingStore) Accept(ctx context.Context, a store.Acceptance) error {
	switch f.mode.Load() {
	case failError:
		return errors.New("database or disk is full (injected)")
	case failCanceled:
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		return f.Store.Accept(cctx, a)
	}
	return f.Store.Accept(ctx, a)
}

// TestStoreFailure_451NothingKept: when the acceptance transaction fails,
// the client gets 451 4.3.0, never 250; no queue row, message row or blob
// file remains (both copies, as the message has Bcc:), the slot returns,
// and the next message goes through once the store recovers.
func TestStoreFailure_451NothingKept(t *testing.T) {
	fs := &failingStore{}
	s := testkit.StartWith(t, fixture, func(o *daemon.Options) {
		o.WrapStore = func(st store.Store) store.Store { fs.Store = st; return fs }
	}, oneSlot)
	c := testkit.Ready(t, s, "alice@example.test", pw)
	for _, mode := range []int32{failError, failCanceled} {
		fs.mode.Store(mode)
		c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
		c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
		c.MustCmd("RCPT TO:<someone@remote.example>", 250, "")
		r := c.Expect(c.SendData("Subject: x\nBcc: someone@remote.example\n\nbody\n"), 451, "4.3.0")
		if strings.Contains(r.Text, "injected") || strings.Contains(r.Text, "canceled") {
			t.Errorf("reply leaks the cause: %q", r.Text)
		}
		assertNothingStored(t, s)
	}
	if !strings.Contains(s.Log(), "database or disk is full (injected)") {
		t.Error("the log does not carry the store error")
	}
	fs.mode.Store(failNone)
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "") // one slot: it was released
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.Expect(c.SendData("Subject: after\n\nbody\n"), 250, "2.0.0")
}

// TestStoreFailure_BlobDirectory: when a large body (one kept as a file,
// not in the database) cannot be written (the blob directory is gone or
// unwritable: here a file stands in its place, which fails even for root),
// the client gets 451 4.3.0 and no row is written.
func TestStoreFailure_BlobDirectory(t *testing.T) {
	s := testkit.Start(t, fixture)
	large := strings.Repeat("a line of a large body, kept as a file\n", 10000)
	c := testkit.Ready(t, s, "alice@example.test", pw)
	dir := filepath.Join(s.DataDir(), "blobs")
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.Expect(c.SendData("Subject: x\n\n"+large), 451, "4.3.0")
	rows, err := s.Store.QueueRows(context.Background(), "")
	if err != nil || len(rows) != 0 {
		t.Fatalf("queue rows after a blob failure: %+v, %v", rows, err)
	}
	// A small body goes to the database with its rows: still accepted.
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.Expect(c.SendData("Subject: small\n\nbody\n"), 250, "2.0.0")
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.Expect(c.SendData("Subject: after\n\n"+large), 250, "2.0.0")
}
