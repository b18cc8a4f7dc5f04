package postgres

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"mailroom/internal/store"
	"mailroom/internal/store/postgres/pgtest"
	"mailroom/internal/store/storetest"
)

// mustOpen opens the store at dsn and closes it when the test ends.
func mustOpen(tb testing.TB, dsn string) *DB {
	tb.Helper()
	db, err := Open(tb.Context(), dsn)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return db
}

func TestDB_Store(t *testing.T) {
	pgtest.BaseDSN(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		db, err := Open(t.Context(), pgtest.DSN(t))
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		return db
	})
}

func TestDB_Handles(t *testing.T) {
	pgtest.BaseDSN(t)
	storetest.RunHandles(t, storetest.Handles{
		Location: func(t *testing.T) string { return pgtest.DSN(t) },
		Open:     func(t *testing.T, dsn string) (store.Store, error) { return Open(t.Context(), dsn) },
		Exec: func(t *testing.T, dsn string, main bool, sts ...storetest.Statement) {
			db := openRaw(t, dsn, main)
			for _, st := range sts {
				if _, err := db.sql.ExecContext(t.Context(), st.SQL, st.Args...); err != nil {
					t.Fatalf("%s: %v", st.SQL, err)
				}
			}
		},
	})
}

func TestOpen_MissingSchema(t *testing.T) {
	dsn := pgtest.WithSearchPath(t, pgtest.BaseDSN(t), "mailroom_test_does_not_exist")
	if db, err := Open(t.Context(), dsn); err == nil {
		db.Close()
		t.Fatal("open with a search_path naming no schema succeeded")
	}
}

func TestOpen_ErrorHidesPassword(t *testing.T) {
	const secret = "s3cret-pass"
	_, err := Open(t.Context(), "postgres://mailroom:"+secret+"@127.0.0.1:1/mailroom?connect_timeout=1")
	if err == nil {
		t.Fatal("open of an unreachable server succeeded")
	}
	if strings.Contains(err.Error(), secret) {
		t.Fatalf("error %q shows the password", err)
	}
}

// An address is a mailbox's or an alias, never both, even when two nodes
// create it at once: both writes take the address's advisory lock before
// they check. The test holds the directory counter's row so that both
// transactions are in flight together (each blocks on it, or on the
// address lock, before it can commit), then lets them go.
func TestAddress_MailboxOrAliasNotBoth(t *testing.T) {
	app := "mailroom_test_address"
	dsn := pgtest.WithParam(t, pgtest.DSN(t), "application_name", app)
	a, b := mustOpen(t, dsn), mustOpen(t, dsn)
	ctx := t.Context()
	if _, err := a.CreateDomain(ctx, "example.org", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateMailbox(ctx, store.Mailbox{Address: "owner@example.org"}); err != nil {
		t.Fatal(err)
	}
	hold, err := a.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback(ctx)
	if _, err := hold.Exec(ctx, `SELECT value FROM meta WHERE key = 'directory_version' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	const addr = "x@example.org"
	var mailboxErr, aliasErr error
	var wg sync.WaitGroup
	wg.Go(func() { _, mailboxErr = a.CreateMailbox(ctx, store.Mailbox{Address: addr}) })
	wg.Go(func() { aliasErr = b.AddAlias(ctx, "owner@example.org", addr) })
	// Both wait for a lock: one for the counter, one for the counter or
	// the address.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting int
		err := a.pool.QueryRow(ctx, `SELECT COUNT(*) FROM pg_stat_activity
			WHERE application_name = $1 AND wait_event_type = 'Lock'`, app).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d transactions wait for a lock after 10s, want 2", waiting)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := hold.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	switch {
	case mailboxErr == nil && errors.Is(aliasErr, store.ErrConflict):
	case aliasErr == nil && errors.Is(mailboxErr, store.ErrConflict):
	default:
		t.Fatalf("create mailbox: %v; add alias: %v; want exactly one to succeed, the other ErrConflict", mailboxErr, aliasErr)
	}
}
