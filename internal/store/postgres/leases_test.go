package postgres

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mailroom/internal/store"
	"mailroom/internal/store/postgres/pgtest"
	"mailroom/internal/store/sqlstore"
)

// leaseFixture opens two handles on one fresh schema (two nodes) with one
// mailbox, and returns its id.
func leaseFixture(t *testing.T) (a, b *DB, mailbox int64) {
	t.Helper()
	dsn := pgtest.DSN(t)
	a, b = mustOpen(t, dsn), mustOpen(t, dsn)
	if _, err := a.CreateDomain(t.Context(), "example.org", ""); err != nil {
		t.Fatal(err)
	}
	m, err := a.CreateMailbox(t.Context(), store.Mailbox{Address: "alice@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	return a, b, m.ID
}

func mustAcquire(t *testing.T, db *DB, req store.LeaseRequest) store.LeaseResult {
	t.Helper()
	res, err := db.AcquireLease(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func logSubmission(t *testing.T, db *DB, mailbox int64, at time.Time, rcpts int) {
	t.Helper()
	if _, err := db.pool.Exec(t.Context(), sqlstore.AcceptSQL[sqlstore.StmtLog], mailbox, sqlstore.Nanos(at), rcpts); err != nil {
		t.Fatal(err)
	}
}

// Twenty acquisitions at once through two handles: exactly the limit is
// granted, the rest refused as concurrency.
func TestLeases_ConcurrentAcquire(t *testing.T) {
	a, b, mb := leaseFixture(t)
	var granted, refused atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		db := []*DB{a, b}[i%2]
		wg.Go(func() {
			res, err := db.AcquireLease(context.Background(), store.LeaseRequest{MailboxID: mb, Node: "n", Concurrent: 3,
				MessagesPerMinute: 100, Now: time.Now(), TTL: time.Hour})
			switch {
			case err != nil:
				t.Error(err)
			case res.Outcome == store.LeaseGranted:
				granted.Add(1)
			case res.Outcome == store.LeaseConcurrent:
				refused.Add(1)
			default:
				t.Errorf("outcome %d", res.Outcome)
			}
		})
	}
	wg.Wait()
	if granted.Load() != 3 || refused.Load() != 17 {
		t.Fatalf("granted %d, refused %d; want 3 and 17", granted.Load(), refused.Load())
	}
}

// An expired lease stops counting; a renewed one counts again; a released
// one is gone.
func TestLeases_ExpireRenewRelease(t *testing.T) {
	a, b, mb := leaseFixture(t)
	req := store.LeaseRequest{MailboxID: mb, Node: "a", Concurrent: 1, MessagesPerMinute: 100, Now: time.Now()}
	dead := mustAcquire(t, a, req) // TTL 0: expired at once
	if dead.Outcome != store.LeaseGranted {
		t.Fatalf("outcome %d", dead.Outcome)
	}
	req.Node, req.TTL = "b", time.Hour
	live := mustAcquire(t, b, req)
	if live.Outcome != store.LeaseGranted {
		t.Fatalf("expired lease still counts: outcome %d", live.Outcome)
	}
	if _, err := a.ReserveLeaseRecipient(t.Context(), dead.ID, 10, time.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("reserve on a reaped lease: %v, want ErrNotFound", err)
	}
	if res := mustAcquire(t, a, req); res.Outcome != store.LeaseConcurrent {
		t.Fatalf("outcome %d, want LeaseConcurrent", res.Outcome)
	}
	if n, err := a.LiveLeases(t.Context(), mb); err != nil || n != 1 {
		t.Fatalf("live leases: %d, %v; want 1", n, err)
	}
	if n, err := b.RenewLeases(t.Context(), []int64{live.ID, dead.ID}, time.Hour); err != nil || n != 1 {
		t.Fatalf("renew: %d, %v; want 1 lease", n, err)
	}
	if err := b.ReleaseLease(t.Context(), live.ID); err != nil {
		t.Fatal(err)
	}
	if err := b.ReleaseLease(t.Context(), live.ID); err != nil {
		t.Fatalf("second release: %v", err)
	}
	if res := mustAcquire(t, a, req); res.Outcome != store.LeaseGranted {
		t.Fatalf("outcome %d after release, want granted", res.Outcome)
	}
}

// The message rate counts the log's last minute plus leases in flight.
func TestLeases_Rate(t *testing.T) {
	a, b, mb := leaseFixture(t)
	now := time.Now()
	oldest := now.Add(-50 * time.Second)
	logSubmission(t, a, mb, now.Add(-2*time.Minute), 1) // outside the minute
	logSubmission(t, a, mb, oldest, 1)
	logSubmission(t, a, mb, now.Add(-10*time.Second), 1)
	req := store.LeaseRequest{MailboxID: mb, Node: "a", Concurrent: 10, MessagesPerMinute: 3, Now: now, TTL: time.Hour}
	if res := mustAcquire(t, a, req); res.Outcome != store.LeaseGranted {
		t.Fatalf("outcome %d, want granted", res.Outcome)
	}
	// The 50-second-old record has been rolled into its second, which
	// leaves the window at the second's end: that is the retry time base.
	res := mustAcquire(t, b, req)
	secondEnd := sqlstore.FromNanos(sqlstore.Nanos(oldest) - sqlstore.Nanos(oldest)%int64(time.Second) + int64(time.Second))
	if res.Outcome != store.LeaseRate || !res.Oldest.Equal(secondEnd) {
		t.Fatalf("got %+v, want LeaseRate with the oldest at %v", res, secondEnd)
	}
}

// The daily budget counts the log's 24 hours plus every lease's
// reservations, across handles.
func TestLeases_DailyBudget(t *testing.T) {
	a, b, mb := leaseFixture(t)
	now := time.Now()
	oldest := now.Add(-23 * time.Hour)
	logSubmission(t, a, mb, now.Add(-25*time.Hour), 100) // outside the day
	logSubmission(t, a, mb, oldest, 2)
	req := store.LeaseRequest{MailboxID: mb, Node: "a", Concurrent: 10, MessagesPerMinute: 100, Now: now, TTL: time.Hour}
	la, lb := mustAcquire(t, a, req), mustAcquire(t, b, req)
	reserve := func(db *DB, id int64) store.LeaseResult {
		t.Helper()
		res, err := db.ReserveLeaseRecipient(t.Context(), id, 5, now)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for _, r := range []struct {
		db *DB
		id int64
	}{{a, la.ID}, {b, lb.ID}, {a, la.ID}} {
		if res := reserve(r.db, r.id); res.Outcome != store.LeaseGranted {
			t.Fatalf("outcome %d, want granted", res.Outcome)
		}
	}
	// The 23-hour-old record has been rolled into its minute, which
	// leaves the window at the minute's end: that is the retry time base.
	res := reserve(b, lb.ID)
	minuteEnd := sqlstore.FromNanos(sqlstore.Nanos(oldest) - sqlstore.Nanos(oldest)%int64(time.Minute) + int64(time.Minute))
	if res.Outcome != store.LeaseDaily || !res.Oldest.Equal(minuteEnd) {
		t.Fatalf("got %+v, want LeaseDaily with the oldest at %v", res, minuteEnd)
	}
	if err := a.ReleaseLease(t.Context(), la.ID); err != nil {
		t.Fatal(err)
	}
	if res := reserve(b, lb.ID); res.Outcome != store.LeaseGranted {
		t.Fatalf("outcome %d after a's release, want granted", res.Outcome)
	}
}

// Lease decisions roll the log's rows older than 1 s into seconds, and
// seconds older than 2 minutes into minutes, and keep counting them: the
// budget and the rate hold, and SubmissionLog returns the rollups.
func TestLeases_RollupKeepsTheWindows(t *testing.T) {
	a, _, mb := leaseFixture(t)
	now := time.Now()
	old := now.Add(-3 * time.Hour).Truncate(time.Minute)
	for i := range 50 { // 50 messages of 2 recipients in one minute, 3 hours ago
		logSubmission(t, a, mb, old.Add(time.Duration(i)*time.Second), 2)
	}
	logSubmission(t, a, mb, now.Add(-30*time.Second), 7)       // becomes a second
	logSubmission(t, a, mb, now.Add(-200*time.Millisecond), 1) // stays a row
	req := store.LeaseRequest{MailboxID: mb, Node: "a", Concurrent: 10, MessagesPerMinute: 100, Now: now, TTL: time.Hour}
	l := mustAcquire(t, a, req)
	res, err := a.ReserveLeaseRecipient(t.Context(), l.ID, 109, now) // 108 used: one left
	if err != nil || res.Outcome != store.LeaseGranted {
		t.Fatalf("first reservation: %+v, %v", res, err)
	}
	res, err = a.ReserveLeaseRecipient(t.Context(), l.ID, 109, now)
	if err != nil || res.Outcome != store.LeaseDaily {
		t.Fatalf("second reservation: %+v, %v; want LeaseDaily", res, err)
	}
	count := func(q string) (n, msgs, rcpts int) {
		t.Helper()
		if err := a.pool.QueryRow(t.Context(), q).Scan(&n, &msgs, &rcpts); err != nil {
			t.Fatal(err)
		}
		return
	}
	if n, m, r := count(`SELECT COUNT(*), COUNT(*), COALESCE(SUM(recipients), 0) FROM submission_log`); n != 1 || r != 1 {
		t.Errorf("log: %d rows (%d, %d); want 1 (1, 1)", n, m, r)
	}
	if n, m, r := count(`SELECT COUNT(*), COALESCE(SUM(messages), 0), COALESCE(SUM(recipients), 0) FROM submission_seconds`); n != 1 || m != 1 || r != 7 {
		t.Errorf("seconds: %d rows (%d messages, %d recipients); want 1 (1, 7)", n, m, r)
	}
	if n, m, r := count(`SELECT COUNT(*), COALESCE(SUM(messages), 0), COALESCE(SUM(recipients), 0) FROM submission_minutes`); n != 1 || m != 50 || r != 100 {
		t.Errorf("minutes: %d rows (%d messages, %d recipients); want 1 (50, 100)", n, m, r)
	}
	// The minute window counts the row and the second: 2 messages and the
	// lease held make 3.
	rate := store.LeaseRequest{MailboxID: mb, Node: "a", Concurrent: 10, MessagesPerMinute: 3, Now: now, TTL: time.Hour}
	if res := mustAcquire(t, a, rate); res.Outcome != store.LeaseRate {
		t.Fatalf("rate with 2 messages and 1 lease in the minute, limit 3: %+v, want LeaseRate", res)
	}
	rate.MessagesPerMinute = 4
	if res := mustAcquire(t, a, rate); res.Outcome != store.LeaseGranted {
		t.Fatalf("rate limit 4: %+v, want granted", res)
	}
	recs, err := a.SubmissionLog(t.Context(), now.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || !recs[0].At.Equal(old) || recs[0].Recipients != 100 || recs[0].Messages != 50 ||
		recs[1].Recipients != 7 || recs[1].Messages != 1 || recs[2].Recipients != 1 || recs[2].Messages != 1 {
		t.Fatalf("SubmissionLog = %+v; want the minute (100 at %v), the second (7) and the row (1)", recs, old)
	}
	if err := a.PruneSubmissionLog(t.Context(), now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if recs, _ := a.SubmissionLog(t.Context(), time.Time{}); len(recs) != 2 {
		t.Fatalf("after pruning all but the last hour: %+v, want the second and the row", recs)
	}
}

// A directory write on one handle is notified to a listener on another
// (and not to one on another schema).
func TestListenDirectory(t *testing.T) {
	a, b, _ := leaseFixture(t)
	other := mustOpen(t, pgtest.DSN(t))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var calls, otherCalls atomic.Int32
	done := make(chan error, 2)
	go func() { done <- b.ListenDirectory(ctx, func() { calls.Add(1) }) }()
	go func() { done <- other.ListenDirectory(ctx, func() { otherCalls.Add(1) }) }()
	waitUntil(t, func() bool { return calls.Load() == 1 && otherCalls.Load() == 1 }) // the call on listening
	if _, err := a.CreateDomain(t.Context(), "example.net", ""); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool { return calls.Load() == 2 })
	cancel()
	for range 2 {
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("listen ended with %v, want context.Canceled", err)
		}
	}
	if n := otherCalls.Load(); n != 1 {
		t.Fatalf("a listener on another schema was called %d times, want once", n)
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 30s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// An acceptance clears its lease's reserved recipients in its own
// transaction: from its commit the submission log counts them, and the
// lease (released a moment later) must not count them again.
func TestLeases_AcceptClearsReservations(t *testing.T) {
	a, _, mb := leaseFixture(t)
	now := time.Now()
	l := mustAcquire(t, a, store.LeaseRequest{MailboxID: mb, Node: "a", Concurrent: 10, MessagesPerMinute: 100, Now: now, TTL: time.Hour})
	rcpts := []string{"x@remote.example", "y@remote.example", "z@remote.example"}
	for range rcpts {
		if res, err := a.ReserveLeaseRecipient(t.Context(), l.ID, 4, now); err != nil || res.Outcome != store.LeaseGranted {
			t.Fatalf("reserve: %+v, %v", res, err)
		}
	}
	err := a.Accept(t.Context(), store.Acceptance{
		Message:    store.Message{ID: "Q1", MessageID: "q1@x", MailboxID: mb, EnvelopeFrom: "alice@example.org", Blob: "Q1.eml", DeliveryBlob: "Q1.eml", CreatedAt: now},
		Recipients: rcpts,
		Lease:      l.ID,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Another transaction of the mailbox, before the first lease is
	// released: 3 logged + 0 reserved leaves one of the 4.
	l2 := mustAcquire(t, a, store.LeaseRequest{MailboxID: mb, Node: "a", Concurrent: 10, MessagesPerMinute: 100, Now: now, TTL: time.Hour})
	if res, err := a.ReserveLeaseRecipient(t.Context(), l2.ID, 4, now); err != nil || res.Outcome != store.LeaseGranted {
		t.Fatalf("the 4th recipient: %+v, %v; want granted (the accepted 3 counted once)", res, err)
	}
	if res, err := a.ReserveLeaseRecipient(t.Context(), l2.ID, 4, now); err != nil || res.Outcome != store.LeaseDaily {
		t.Fatalf("the 5th recipient: %+v, %v; want LeaseDaily", res, err)
	}
}
