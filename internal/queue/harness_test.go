package queue_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"mailroom/internal/blob"
	"mailroom/internal/delivery"
	"mailroom/internal/directory"
	"mailroom/internal/queue"
	"mailroom/internal/resolver"
	"mailroom/internal/store"
	"mailroom/internal/store/sqlite"
	"mailroom/internal/testkit"
)

// env is the world of queues built by hand, for what the daemon does not
// let a test set (two nodes on one store, a short lease): a store, body
// files, alice@example.test as the local sender, and a real Deliverer that
// reaches the fake MX servers of a testkit.Remote.
type env struct {
	st    store.Store
	blobs *blob.FS
	dlv   *delivery.Deliverer
	alice store.Mailbox
	log   *logBuffer
}

// newEnv opens a SQLite store in a fresh directory.
func newEnv(t *testing.T, r *testkit.Remote) *env {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "mailroom.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newEnvOn(t, r, st)
}

// newEnvOn builds the env on st (closed by the caller).
func newEnvOn(t *testing.T, r *testkit.Remote, st store.Store) *env {
	t.Helper()
	ctx := t.Context()
	blobs, err := blob.Open(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateDomain(ctx, "example.test", ""); err != nil {
		t.Fatal(err)
	}
	alice, err := st.CreateMailbox(ctx, store.Mailbox{Address: "alice@example.test", Domain: "example.test"})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := directory.New(ctx, st, directory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := resolver.New(r.DNS.Addr)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{st: st, blobs: blobs, alice: alice, log: &logBuffer{}}
	e.dlv = delivery.New(delivery.Options{Hostname: "mail.example.test", Directory: dir, Blobs: blobs, Resolver: res, MXPort: r.Port})
	return e
}

// accept stores message id from alice to rcpts, due now.
func (e *env) accept(t *testing.T, id string, rcpts ...string) {
	t.Helper()
	w, err := e.blobs.Create()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("From: alice@example.test\r\nSubject: " + id + "\r\nMessage-ID: <" + id + "@example.test>\r\n\r\nbody\r\n"))
	if err := w.Commit(id + ".eml"); err != nil {
		t.Fatal(err)
	}
	err = e.st.Accept(t.Context(), store.Acceptance{
		Message: store.Message{ID: id, MessageID: id + "@example.test", MailboxID: e.alice.ID, EnvelopeFrom: e.alice.Address,
			Size: w.Size(), Blob: id + ".eml", DeliveryBlob: id + ".eml", CreatedAt: time.Now()},
		Recipients: rcpts,
		Delivered:  map[string]bool{},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// node is one running queue: a worker pool of one server.
type node struct {
	q      *queue.Queue
	cancel context.CancelFunc
	done   chan struct{}
}

// start runs a queue on the env's store (or st, when set) with o's
// settings; it stops when the test ends.
func (e *env) start(t *testing.T, st queue.Store, o queue.Options) *node {
	t.Helper()
	if st == nil {
		st = e.st
	}
	o.Store, o.Blobs, o.Deliverer, o.Hostname = st, e.blobs, e.dlv, "mail.example.test"
	o.Log = slog.New(slog.NewTextHandler(e.log, nil))
	if o.Poll == 0 {
		o.Poll = 20 * time.Millisecond
	}
	n := &node{q: queue.New(o), done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go func() { defer close(n.done); n.q.Run(ctx) }()
	t.Cleanup(n.stop)
	return n
}

// stop ends the queue and waits for its attempts.
func (n *node) stop() {
	n.cancel()
	<-n.done
}

// row returns the queue row of message id.
func (e *env) row(t *testing.T, id string) store.QueueRow {
	t.Helper()
	rows, err := e.st.QueueRows(context.Background(), id)
	if err != nil || len(rows) == 0 {
		t.Fatalf("queue rows of %s: %+v, %v", id, rows, err)
	}
	return rows[0]
}

// rowOf returns the queue row of message id for rcpt.
func (e *env) rowOf(t *testing.T, id, rcpt string) store.QueueRow {
	t.Helper()
	rows, err := e.st.QueueRows(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Recipient == rcpt {
			return r
		}
	}
	t.Fatalf("no row of %s for %s", id, rcpt)
	return store.QueueRow{}
}

// bodies counts the stored body files.
func (e *env) bodies(t *testing.T) int {
	t.Helper()
	n := 0
	if err := e.blobs.Walk("", func(string, time.Time) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// copies counts the messages an MX accepted with subject id.
func copies(mx *testkit.MX, id string) int {
	n := 0
	for _, m := range mx.Accepted() {
		if bytes.Contains(m.Data, []byte("Subject: "+id+"\r\n")) {
			n++
		}
	}
	return n
}

// logBuffer is the queues' log, safe for concurrent writes.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// Has reports whether the log holds s.
func (l *logBuffer) Has(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Contains(l.b.String(), s)
}
