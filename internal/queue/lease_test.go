package queue_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"mailroom/internal/queue"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

// TestQueue_SlowDestinationNeverDeliveredTwice: two nodes share a store,
// one with one worker, one with two, and the destination holds every
// message past the lease. The first node claims only what its free worker
// starts, so the second message is left for the other node (not leased to
// wait behind the busy worker until its lease runs out); and each node
// renews the lease of the attempt it runs, so the other node's free worker
// never claims it. Each message reaches the destination once.
func TestQueue_SlowDestinationNeverDeliveredTwice(t *testing.T) {
	r := testkit.NewRemote(t)
	hold := make(chan struct{})
	mx := r.MX(t, "remote.test", testkit.MXOptions{Hold: hold})
	e := newEnv(t, r)
	const lease = time.Second
	o := queue.Options{Workers: 1, Lease: lease, AttemptTimeout: time.Minute}
	e.accept(t, "SLOW1", "bob@remote.test")
	e.accept(t, "SLOW2", "carol@remote.test")

	a := e.start(t, nil, o)
	testkit.Eventually(t, "the destination holds the first attempt", func() bool { return mx.Holding() == 1 })
	claimed := time.Now()
	o.Workers = 2
	b := e.start(t, nil, o)
	// The first lease would have run out twice over by now were it not
	// renewed; the other node polls every 20 ms meanwhile.
	testkit.Eventually(t, "two leases have passed since the first claim", func() bool { return time.Since(claimed) > 2*lease })
	close(hold)
	testkit.Eventually(t, "both messages are delivered", func() bool {
		return e.row(t, "SLOW1").State == store.StateDelivered && e.row(t, "SLOW2").State == store.StateDelivered
	})
	a.stop()
	b.stop()
	for _, id := range []string{"SLOW1", "SLOW2"} {
		if n := copies(mx, id); n != 1 {
			t.Errorf("%s reached the destination %d times, want once", id, n)
		}
		if row := e.row(t, id); row.Attempts != 1 {
			t.Errorf("%s: %d attempts recorded, want 1", id, row.Attempts)
		}
	}
}

// failingMailbox is the queue's store with Mailbox failing while fail is
// set: the DSN cannot be built (its recipient cannot be looked up).
type failingMailbox struct {
	store.Store
	fail atomic.Bool
}

func (f *failingMailbox) Mailbox(ctx context.Context, addr string) (store.Mailbox, error) {
	if f.fail.Load() {
		return store.Mailbox{}, errors.New("injected: database unreachable")
	}
	return f.Store.Mailbox(ctx, addr)
}

// TestQueue_DSNFailureStillRecordsDelivered: one attempt delivers one
// recipient and fails another for good, and the DSN about the failure
// cannot be built. The delivered recipient is recorded all the same (not
// sent again when the lease runs out); the failed one is retried, and its
// DSN sent once it can be built.
func TestQueue_DSNFailureStillRecordsDelivered(t *testing.T) {
	r := testkit.NewRemote(t)
	mx := r.MX(t, "remote.test", testkit.MXOptions{Rcpt: func(rcpt string) *smtp.SMTPError {
		if rcpt == "bad@remote.test" {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	}})
	e := newEnv(t, r)
	st := &failingMailbox{Store: e.st}
	st.fail.Store(true)
	e.accept(t, "DSNF1", "ok@remote.test", "bad@remote.test")
	e.start(t, st, queue.Options{Lease: time.Second, Schedule: []time.Duration{50 * time.Millisecond}})

	testkit.Eventually(t, "ok@ is recorded delivered, or sent again", func() bool {
		return e.rowOf(t, "DSNF1", "ok@remote.test").State == store.StateDelivered || copies(mx, "DSNF1") > 1
	})
	if n := copies(mx, "DSNF1"); n != 1 {
		t.Fatalf("ok@ reached the destination %d times, want once", n)
	}
	testkit.Eventually(t, "bad@'s attempt is recorded and retried", func() bool {
		return e.rowOf(t, "DSNF1", "bad@remote.test").Attempts >= 2
	})
	if bad := e.rowOf(t, "DSNF1", "bad@remote.test"); bad.State != store.StateQueued {
		t.Fatalf("bad@ without its DSN: %+v, want queued for a retry", bad)
	}
	st.fail.Store(false)
	testkit.Eventually(t, "bad@ fails with a DSN to alice", func() bool {
		return e.rowOf(t, "DSNF1", "bad@remote.test").State == store.StateFailed
	})
	inbox, err := e.st.FolderEntries(context.Background(), e.alice.ID, store.FolderInbox)
	if err != nil || len(inbox) != 1 {
		t.Fatalf("alice's Inbox: %+v, %v; want the DSN", inbox, err)
	}
	if n := copies(mx, "DSNF1"); n != 1 {
		t.Errorf("ok@ reached the destination %d times, want once", n)
	}
}

// TestQueue_UnwrittenDSNBodyRemoved: an attempt fails a recipient that an
// administrator dropped meanwhile; its outcome is skipped, so is the DSN,
// and the DSN's body is removed rather than left as an orphan file.
func TestQueue_UnwrittenDSNBodyRemoved(t *testing.T) {
	r := testkit.NewRemote(t)
	hold := make(chan struct{})
	mx := r.MX(t, "remote.test", testkit.MXOptions{Hold: hold, Data: func(testkit.Received) *smtp.SMTPError {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "refused"}
	}})
	e := newEnv(t, r)
	e.accept(t, "DROP1", "bob@remote.test")
	e.start(t, nil, queue.Options{AttemptTimeout: time.Minute})
	testkit.Eventually(t, "the destination holds the attempt", func() bool { return mx.Holding() == 1 })
	if n, err := e.st.Drop(context.Background(), store.QueueSelector{MessageID: "DROP1"}, "dropped by admin", time.Now()); err != nil || n != 1 {
		t.Fatalf("drop: %d, %v", n, err)
	}
	close(hold)
	testkit.Eventually(t, "the attempt's outcome is skipped", func() bool { return e.log.Has("delivery outcomes skipped") })
	if n := e.bodies(t); n != 1 {
		t.Errorf("%d bodies stored, want 1 (the message's; the unwritten DSN's removed)", n)
	}
}
