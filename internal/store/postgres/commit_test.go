package postgres

import (
	"errors"
	"testing"
	"time"

	"mailroom/internal/store"
	"mailroom/internal/store/postgres/pgtest"
)

// TestWrite_LostCommitReplyIsMaybeCommitted: when the connection is lost
// after COMMIT reached the database, Accept and Record say the outcome is
// unknown (store.ErrMaybeCommitted), and the rows did commit: a caller
// that removed the bodies they name would lose mail.
func TestWrite_LostCommitReplyIsMaybeCommitted(t *testing.T) {
	dsn := pgtest.DSN(t)
	direct := mustOpen(t, dsn)
	proxy := pgtest.NewProxy(t, dsn)
	db := mustOpen(t, proxy.DSN)
	ctx := t.Context()
	d, err := direct.CreateDomain(ctx, "example.org", "")
	if err != nil {
		t.Fatal(err)
	}
	mb, err := direct.CreateMailbox(ctx, store.Mailbox{Address: "alice@example.org", Domain: d.Name})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Truncate(time.Microsecond)
	a := store.Acceptance{
		Message:    store.Message{ID: "Q1", MessageID: "q1@example.org", MailboxID: mb.ID, EnvelopeFrom: mb.Address, Size: 5, Blob: "Q1.eml", DeliveryBlob: "Q1.eml", CreatedAt: at},
		Recipients: []string{"x@remote.example"},
		Delivered:  map[string]bool{},
	}

	proxy.LoseCommitReply()
	err = db.Accept(ctx, a)
	if !errors.Is(err, store.ErrMaybeCommitted) {
		t.Fatalf("Accept with its COMMIT reply lost: %v, want ErrMaybeCommitted", err)
	}
	if _, err := direct.Message(ctx, "Q1"); err != nil {
		t.Fatalf("the acceptance did commit, but: %v", err)
	}

	es, err := db.ClaimDue(ctx, at, 10, time.Minute)
	if err != nil || len(es) != 1 {
		t.Fatalf("claim: %+v, %v", es, err)
	}
	notice := store.Acceptance{
		Message:    store.Message{ID: "N1", MessageID: "n1@example.org", Size: 5, Blob: "N1.eml", DeliveryBlob: "N1.eml", CreatedAt: at},
		Recipients: []string{mb.Address},
		Delivered:  map[string]bool{},
	}
	proxy.LoseCommitReply()
	_, _, err = db.Record(ctx, at, []store.Outcome{{RowID: es[0].ID, Lease: es[0].LeaseUntil, State: store.StateFailed, Attempted: true, LastReply: "550 no"}}, &notice)
	if !errors.Is(err, store.ErrMaybeCommitted) {
		t.Fatalf("Record with its COMMIT reply lost: %v, want ErrMaybeCommitted", err)
	}
	if _, err := direct.Message(ctx, "N1"); err != nil {
		t.Fatalf("the notice did commit, but: %v", err)
	}

	// A refused commit is not ambiguous.
	err = db.Accept(ctx, a)
	if !errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrMaybeCommitted) {
		t.Fatalf("Accept of a duplicate: %v, want ErrConflict alone", err)
	}
}
