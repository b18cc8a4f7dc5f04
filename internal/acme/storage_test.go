package acme

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"mailroom/internal/store/postgres"
	"mailroom/internal/store/postgres/pgtest"
)

func TestListKeys(t *testing.T) {
	keys := []string{"a/b/c.crt", "a/b/c.key", "a/d.json", "a/e/f/g"}
	for _, tc := range []struct {
		prefix    string
		keys      []string
		recursive bool
		want      []string
	}{
		{"a", keys, false, []string{"a/b", "a/d.json", "a/e"}},
		{"a", keys, true, []string{"a/b", "a/b/c.crt", "a/b/c.key", "a/d.json", "a/e", "a/e/f", "a/e/f/g"}},
		{"a/b", []string{"a/b/c.crt", "a/b/c.key"}, false, []string{"a/b/c.crt", "a/b/c.key"}},
		{"", keys, false, []string{"a"}},
	} {
		if got := listKeys(tc.prefix, tc.keys, tc.recursive); !slices.Equal(got, tc.want) {
			t.Errorf("listKeys(%q, recursive %v) = %q; want %q", tc.prefix, tc.recursive, got, tc.want)
		}
	}
}

// dbStorages returns two storages over one fresh PostgreSQL schema: two
// nodes of a cluster.
func dbStorages(t *testing.T) (a, b *DBStorage) {
	t.Helper()
	dsn := pgtest.DSN(t)
	open := func() *DBStorage {
		db, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		s := NewDBStorage(db)
		s.poll = 10 * time.Millisecond
		return s
	}
	return open(), open()
}

// What one node stores the other loads, stats, lists and deletes, with
// certmagic's meaning of a missing key.
func TestDBStorage_RoundTrip(t *testing.T) {
	a, b := dbStorages(t)
	ctx := t.Context()
	const crt = "certificates/ca/mx.example.org/mx.example.org.crt"
	if err := a.Store(ctx, crt, []byte("pem")); err != nil {
		t.Fatal(err)
	}
	if v, err := b.Load(ctx, crt); err != nil || string(v) != "pem" {
		t.Fatalf("load = %q, %v", v, err)
	}
	if _, err := b.Load(ctx, "certificates/none"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("load of a missing key: %v; want fs.ErrNotExist", err)
	}
	if ki, err := b.Stat(ctx, crt); err != nil || !ki.IsTerminal || ki.Size != 3 {
		t.Fatalf("stat = %+v, %v", ki, err)
	}
	if ki, err := b.Stat(ctx, "certificates/ca"); err != nil || ki.IsTerminal {
		t.Fatalf("stat of a directory = %+v, %v", ki, err)
	}
	if !b.Exists(ctx, "certificates") || b.Exists(ctx, "certificates/c") {
		t.Fatal("exists: wrong")
	}
	if keys, err := b.List(ctx, "certificates/ca/", false); err != nil || !slices.Equal(keys, []string{"certificates/ca/mx.example.org"}) {
		t.Fatalf("list = %q, %v", keys, err)
	}
	if err := b.Delete(ctx, "certificates"); err != nil {
		t.Fatal(err)
	}
	if a.Exists(ctx, crt) {
		t.Fatal("exists after delete")
	}
}

// A second node's Lock waits while the first holds the lock, and returns
// once the first unlocks.
func TestDBStorage_LockWaitsForUnlock(t *testing.T) {
	a, b := dbStorages(t)
	ctx := t.Context()
	const name = "issue_cert_mx.example.org"
	if err := a.Lock(ctx, name); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	err := b.Lock(short, name)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("b locked while a holds the lock: %v", err)
	}
	var unlocked atomic.Bool
	got := make(chan error, 1)
	go func() {
		err := b.Lock(ctx, name)
		if err == nil && !unlocked.Load() {
			err = errors.New("b got the lock before a unlocked")
		}
		got <- err
	}()
	unlocked.Store(true)
	if err := a.Unlock(ctx, name); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if err := b.Unlock(ctx, name); err != nil {
		t.Fatal(err)
	}
}

// A holder keeps its lock past the TTL by refreshing it; once it stops
// (its node died), another node takes the lock after the TTL.
func TestDBStorage_LockOfDeadHolderExpires(t *testing.T) {
	a, b := dbStorages(t)
	// Wide enough that a loaded machine still refreshes in time.
	a.ttl, b.ttl = 2*time.Second, 2*time.Second
	ctx := t.Context()
	const name = "issue_cert_mx.example.org"
	if err := a.Lock(ctx, name); err != nil {
		t.Fatal(err)
	}
	// a's refresher renews at ttl/3; b cannot get it within two TTLs.
	short, cancel := context.WithTimeout(ctx, 2*a.ttl)
	err := b.Lock(short, name)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("b took a lock a keeps fresh: %v", err)
	}
	// a dies: its refresher stops, and it never unlocks.
	a.mu.Lock()
	h := a.held[name]
	a.mu.Unlock()
	h.stop()
	<-h.done
	if err := b.Lock(ctx, name); err != nil {
		t.Fatal(err)
	}
	if err := b.Unlock(ctx, name); err != nil {
		t.Fatal(err)
	}
}
