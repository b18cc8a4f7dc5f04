package queue_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"mailroom/internal/admin"
	"mailroom/internal/blob"
	"mailroom/internal/config"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

const pw = "correct-horse-battery"

func fixture(a *admin.Service) {
	ctx := context.Background()
	if _, err := a.AddDomain(ctx, "example.test"); err != nil {
		panic(err)
	}
	if _, _, err := a.AddMailbox(ctx, admin.NewMailbox{Address: "alice@example.test", Password: pw}); err != nil {
		panic(err)
	}
}

func fastPoll(c *config.Config) { c.Delivery.QueuePoll = config.Duration(20 * time.Millisecond) }

// TestQueue_CrashedAttemptRetriedAfterLease leaves a row as a worker that
// died mid-attempt leaves it (claimed, nothing recorded): the running
// server attempts it once the lease has ended, and only then.
func TestQueue_CrashedAttemptRetriedAfterLease(t *testing.T) {
	r := testkit.NewRemote(t)
	mx := r.MX(t, "remote.test", testkit.MXOptions{})
	s := testkit.Start(t, fixture, testkit.WithRemote(r), fastPoll)
	ctx := context.Background()

	blobs, err := blob.Open(filepath.Join(s.DataDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := blobs.Create()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("From: alice@example.test\r\nSubject: crash\r\n\r\nbody\r\n"))
	if err := w.Commit("CRASH1.eml"); err != nil {
		t.Fatal(err)
	}
	alice, err := s.Store.Mailbox(ctx, "alice@example.test")
	if err != nil {
		t.Fatal(err)
	}
	// Due one second from now, so that this test's "dead worker" claims it
	// before the server could.
	due := time.Now().Add(time.Second)
	err = s.Store.Accept(ctx, store.Acceptance{
		Message:    store.Message{ID: "CRASH1", MessageID: "crash1@example.test", MailboxID: alice.ID, EnvelopeFrom: alice.Address, Size: 48, Blob: "CRASH1.eml", DeliveryBlob: "CRASH1.eml", CreatedAt: due},
		Recipients: []string{"bob@remote.test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := s.Store.ClaimDue(ctx, due, 10, 300*time.Millisecond)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("dead worker's claim: %+v, %v", claimed, err)
	}

	testkit.Eventually(t, "the row is delivered", func() bool { return s.QueueStates("CRASH1")["bob@remote.test"] == store.StateDelivered })
	rows, _ := s.Store.QueueRows(ctx, "CRASH1")
	if rows[0].Attempts != 1 || rows[0].UpdatedAt.Before(claimed[0].LeaseUntil) {
		t.Errorf("row %+v: want one attempt, made after the lease ended at %v", rows[0], claimed[0].LeaseUntil)
	}
	if n := len(mx.Accepted()); n != 1 {
		t.Errorf("MX got %d messages, want 1", n)
	}
}

// TestQueue_ShutdownMidAttemptRedeliversAfterRestart stops the server
// while the remote holds the final dot's reply: the attempt is not
// counted, the row is still queued, and the restarted server delivers it.
// The remote had the whole message, so it now has it twice: the
// at-least-once window the queue documents.
func TestQueue_ShutdownMidAttemptRedeliversAfterRestart(t *testing.T) {
	r := testkit.NewRemote(t)
	hold := make(chan struct{})
	mx := r.MX(t, "remote.test", testkit.MXOptions{Hold: hold})
	dir := t.TempDir()
	s1 := testkit.Start(t, fixture, testkit.WithRemote(r), testkit.WithDataDir(dir))
	id := s1.Send("alice@example.test", pw, "alice@example.test", []string{"bob@remote.test"}, "Subject: interrupted\n\nx\n")
	testkit.Eventually(t, "the remote holds the final dot", func() bool { return mx.Holding() == 1 })

	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s1.Daemon.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	rows, err := s1.Store.QueueRows(context.Background(), id)
	if err != nil || len(rows) != 1 || rows[0].State != store.StateQueued || rows[0].Attempts != 0 {
		t.Fatalf("row after shutdown: %+v, %v; want queued, no attempt counted", rows, err)
	}
	close(hold)
	testkit.Eventually(t, "the remote keeps the held message", func() bool { return len(mx.Accepted()) == 1 })

	s2 := testkit.Start(t, nil, testkit.WithRemote(r), testkit.WithDataDir(dir))
	testkit.Eventually(t, "the restarted server delivers", func() bool { return s2.QueueStates(id)["bob@remote.test"] == store.StateDelivered })
	if n := len(mx.Accepted()); n != 2 {
		t.Errorf("remote has %d copies, want 2 (at least once)", n)
	}
}

// TestQueue_DSNToRemoteSenderHasNullSender: a failure of a message whose
// sender is not a local mailbox is reported by a DSN queued for remote
// delivery with MAIL FROM:<>; when that DSN fails too, nothing follows.
func TestQueue_DSNToRemoteSenderHasNullSender(t *testing.T) {
	r := testkit.NewRemote(t)
	var acceptBounce atomic.Bool
	mx := r.MX(t, "remote.test", testkit.MXOptions{Rcpt: func(rcpt string) *smtp.SMTPError {
		if rcpt == "gone@remote.test" || rcpt == "bounces@remote.test" && !acceptBounce.Load() {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	}})
	s := testkit.Start(t, fixture, testkit.WithRemote(r), fastPoll)
	ctx := context.Background()
	blobs, err := blob.Open(filepath.Join(s.DataDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	accept := func(id, from string) {
		t.Helper()
		w, err := blobs.Create()
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("From: " + from + "\r\nSubject: forwarded\r\n\r\nbody\r\n"))
		if err := w.Commit(id + ".eml"); err != nil {
			t.Fatal(err)
		}
		err = s.Store.Accept(ctx, store.Acceptance{
			Message:    store.Message{ID: id, MessageID: id + "@remote.test", EnvelopeFrom: from, Size: 40, Blob: id + ".eml", DeliveryBlob: id + ".eml"},
			Recipients: []string{"gone@remote.test"},
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	acceptBounce.Store(true)
	accept("EXT1", "sender@remote.test")
	testkit.Eventually(t, "the DSN reaches the remote sender", func() bool {
		for _, m := range mx.Accepted() {
			if len(m.Rcpts) == 1 && m.Rcpts[0] == "sender@remote.test" {
				return true
			}
		}
		return false
	})
	for _, m := range mx.Accepted() {
		if m.Rcpts[0] == "sender@remote.test" && (m.From != "" || !strings.Contains(string(m.Data), "Action: failed")) {
			t.Errorf("DSN sent with MAIL FROM:<%s>, want <>:\n%s", m.From, m.Data)
		}
	}

	// A DSN that fails is not answered by another DSN.
	acceptBounce.Store(false)
	accept("EXT2", "bounces@remote.test")
	var dsnID string
	testkit.Eventually(t, "the DSN to bounces@ fails", func() bool {
		es, _ := s.Store.ListQueue(ctx, store.QueueFilter{State: store.StateFailed})
		for _, e := range es {
			if e.Recipient == "bounces@remote.test" && e.EnvelopeFrom == "" {
				dsnID = e.MessageID
				return true
			}
		}
		return false
	})
	all, _ := s.Store.ListQueue(ctx, store.QueueFilter{})
	for _, e := range all {
		if e.MessageID != "EXT1" && e.MessageID != "EXT2" && e.MessageID != dsnID && e.Recipient != "sender@remote.test" {
			t.Errorf("unexpected queue row %+v: a DSN about a DSN?", e)
		}
	}
}
