package queue_test

import (
	"context"
	"testing"

	"github.com/emersion/go-smtp"

	"mailroom/internal/queue"
	"mailroom/internal/store"
	"mailroom/internal/store/postgres"
	"mailroom/internal/store/postgres/pgtest"
	"mailroom/internal/testkit"
)

// TestQueue_LostCommitKeepsDSNBody: on PostgreSQL, the commit that records
// a failure and its DSN loses its reply (the connection drops after the
// database committed). The queue cannot know whether the DSN is written,
// so it keeps the DSN's body: alice's Inbox entry must not name a body
// that was removed.
func TestQueue_LostCommitKeepsDSNBody(t *testing.T) {
	dsn := pgtest.DSN(t)
	r := testkit.NewRemote(t)
	r.MX(t, "remote.test", testkit.MXOptions{Rcpt: func(string) *smtp.SMTPError {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}})
	open := func(dsn string) *postgres.DB {
		db, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	e := newEnvOn(t, r, open(dsn))
	proxy := pgtest.NewProxy(t, dsn)
	viaProxy := open(proxy.DSN)
	e.accept(t, "LOST1", "bob@remote.test")
	proxy.LoseCommitReply() // the queue's first commit is its Record
	e.start(t, viaProxy, queue.Options{})

	testkit.Eventually(t, "recording the failure loses its commit reply", func() bool { return e.log.Has("record delivery outcomes") })
	inbox, err := e.st.FolderEntries(context.Background(), e.alice.ID, store.FolderInbox)
	if err != nil || len(inbox) != 1 {
		t.Fatalf("alice's Inbox: %+v, %v; want the DSN (the commit happened)", inbox, err)
	}
	if _, err := e.blobs.Open(inbox[0].Blob); err != nil {
		t.Fatalf("the committed DSN's body: %v", err)
	}
}
