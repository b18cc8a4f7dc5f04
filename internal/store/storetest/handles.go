package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"mailroom/internal/store"
)

// Handles is how RunHandles reaches one driver's databases: where a new
// database is, how the store opens it, and a side door for the SQL the
// store itself would never run.
type Handles struct {
	// Location returns a new, empty database: a file path, or a DSN.
	Location func(t *testing.T) string
	// Open opens the store at loc, migrating its schema.
	Open func(t *testing.T, loc string) (store.Store, error)
	// Exec runs st on the database at loc, outside the store, after
	// applying migrations (as they were on main before the shared store
	// when main is true, and not at all when loc is already a database).
	Exec func(t *testing.T, loc string, main bool, st ...Statement)
}

// migrations is what a store tells of its schema history.
type migrations interface {
	AppliedMigrations(ctx context.Context) (map[int64]int64, error)
}

// RunHandles runs the tests of opening databases and of several handles
// (processes, nodes) on one database.
func RunHandles(t *testing.T, h Handles) {
	open := func(t *testing.T, loc string) store.Store {
		t.Helper()
		s, err := h.Open(t, loc)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
		return s
	}
	applied := func(t *testing.T, s store.Store) map[int64]int64 {
		t.Helper()
		got, err := s.(migrations).AppliedMigrations(t.Context())
		noErr(t, err, "read schema migrations")
		return got
	}
	t.Run("TwoHandlesShareWrites", func(t *testing.T) {
		loc := h.Location(t)
		twoHandlesShareWrites(t, open(t, loc), open(t, loc))
	})
	t.Run("TwoHandlesClaimApart", func(t *testing.T) {
		loc := h.Location(t)
		a, b := open(t, loc), open(t, loc)
		alice, _ := setup(t, a)
		at := time.Now()
		for i := range 6 {
			mustAccept(t, a, acceptance(fmt.Sprintf("Q%d", i), alice, at, "x@remote.example", "y@remote.example", "z@remote.example"))
		}
		takeApart(t, []store.Store{a, b}, 18, claimIDs(t, at, 4, time.Minute))
	})
	t.Run("TwoHandlesSweepApart", func(t *testing.T) {
		loc := h.Location(t)
		a, b := open(t, loc), open(t, loc)
		for i := range 30 {
			id := fmt.Sprintf("M%02d", i)
			mustAccept(t, a, store.Acceptance{Message: store.Message{ID: id, MailboxID: 1, Blob: id, DeliveryBlob: id + ".dlv"}})
		}
		takeApart(t, []store.Store{a, b}, 60, func(s store.Store) ([]string, error) {
			return s.DeleteUnreferenced(t.Context(), 3)
		})
	})
	t.Run("ConcurrentFreshDatabase", func(t *testing.T) {
		loc := h.Location(t)
		const n = 4
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				s, err := h.Open(t, loc)
				if err == nil {
					err = s.Close()
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for i, err := range errs {
			noErr(t, err, fmt.Sprintf("open %d", i))
		}
		if got, want := applied(t, open(t, loc)), applied(t, open(t, h.Location(t))); len(got) != len(want) {
			t.Fatalf("schema_migrations has %d rows, want one per migration (%d)", len(got), len(want))
		}
	})
	t.Run("ReopenKeepsSchemaAndData", func(t *testing.T) {
		loc := h.Location(t)
		s, err := h.Open(t, loc)
		noErr(t, err, "open")
		mustCreateDomain(t, s, "example.org")
		before := applied(t, s)
		noErr(t, s.Close(), "close")
		s = open(t, loc)
		after := applied(t, s)
		if len(after) != len(before) {
			t.Fatalf("reopen recorded migrations %v, had %v", after, before)
		}
		for v, at := range before {
			if after[v] != at {
				t.Errorf("migration %d re-applied: applied_at %d, was %d", v, after[v], at)
			}
		}
		if ds, err := s.Domains(t.Context()); err != nil || len(ds) != 1 || ds[0].Name != "example.org" {
			t.Fatalf("domains after reopen: %+v, %v", ds, err)
		}
		if v := mustVersion(t, s); v != 1 {
			t.Fatalf("directory version after reopen: %d; want 1", v)
		}
	})
	t.Run("RefusesNewerSchema", func(t *testing.T) {
		loc := h.Location(t)
		open(t, loc)
		h.Exec(t, loc, false, Statement{`INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)`, nil})
		if s, err := h.Open(t, loc); err == nil {
			s.Close()
			t.Fatal("open of a database with a newer schema succeeded")
		}
	})
	t.Run("DatabaseOfMainKeepsItsMail", func(t *testing.T) {
		loc := h.Location(t)
		h.Exec(t, loc, true, MainFixture...)
		CheckMainFixture(t, open(t, loc))
	})
}

// twoHandlesShareWrites checks that what one handle writes the other
// reads, and that a conflict across handles is still a conflict.
func twoHandlesShareWrites(t *testing.T, server, cli store.Store) {
	ctx := t.Context()
	v0 := mustVersion(t, server)
	mustCreateDomain(t, cli, "example.org")
	m := mustCreateMailbox(t, cli, "alice@example.org", "example.org")
	v1 := mustVersion(t, server)
	if v1 <= v0 {
		t.Fatalf("server sees directory version %d after cli writes, was %d", v1, v0)
	}
	if _, err := server.Mailbox(ctx, m.Address); err != nil {
		t.Fatalf("server: read mailbox the cli created: %v", err)
	}
	_, err := server.CreateDomain(ctx, "example.org", "")
	wantErr(t, err, store.ErrConflict, "server: create domain the cli created")
	mustAccept(t, server, acceptance("Q1", m, time.Now(), "x@remote.example"))
	rows, err := cli.QueueRows(ctx, "Q1")
	if err != nil || len(rows) != 1 || rows[0].State != store.StateQueued {
		t.Fatalf("cli: queue rows of server's message: %+v, %v", rows, err)
	}
	noErr(t, cli.DeleteMailbox(ctx, m.Address), "cli: delete mailbox")
	if v2 := mustVersion(t, server); v2 <= v1 {
		t.Fatalf("server sees directory version %d after cli delete, was %d", v2, v1)
	}
	if _, err := server.Mailbox(ctx, m.Address); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("server: read mailbox the cli deleted: got %v, want ErrNotFound", err)
	}
}

// claimIDs returns a take of takeApart that claims up to limit rows due at
// at, and returns their ids.
func claimIDs(t *testing.T, at time.Time, limit int, lease time.Duration) func(store.Store) ([]string, error) {
	return func(s store.Store) ([]string, error) {
		es, err := s.ClaimDue(t.Context(), at, limit, lease)
		var ids []string
		for _, e := range es {
			ids = append(ids, fmt.Sprint(e.ID))
		}
		return ids, err
	}
}

// takeApart runs take from two goroutines per handle until it returns
// nothing, and checks that the handles took want things in all, each
// once: what one node claims or sweeps, no other does.
func takeApart(t *testing.T, handles []store.Store, want int, take func(store.Store) ([]string, error)) {
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for _, s := range handles {
		for range 2 {
			wg.Go(func() {
				for {
					got, err := take(s)
					if err != nil {
						t.Errorf("take: %v", err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, k := range got {
						seen[k]++
					}
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if len(seen) != want {
		t.Errorf("took %d distinct, want %d", len(seen), want)
	}
	for k, c := range seen {
		if c != 1 {
			t.Errorf("%s taken %d times", k, c)
		}
	}
}
