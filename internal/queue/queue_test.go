package queue

import (
	"testing"
	"time"

	"mailroom/internal/store"
)

func TestBackoff(t *testing.T) {
	s := []time.Duration{time.Minute, 5 * time.Minute, time.Hour}
	for attempts, want := range []time.Duration{time.Minute, 5 * time.Minute, time.Hour, time.Hour, time.Hour} {
		if got := Backoff(s, attempts); got != want {
			t.Errorf("Backoff after %d attempts = %v, want %v", attempts, got, want)
		}
	}
}

func TestDecide(t *testing.T) {
	accepted := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	q := New(Options{
		Schedule: []time.Duration{time.Minute, time.Hour},
		MaxAge:   48 * time.Hour, DelayNotice: 4 * time.Hour,
	})
	lease := accepted.Add(time.Hour)
	entry := func(attempts int, notified bool) store.QueueEntry {
		return store.QueueEntry{
			QueueRow:   store.QueueRow{ID: 7, MessageID: "Q1", Recipient: "x@remote.test", Attempts: attempts},
			AcceptedAt: accepted, LeaseUntil: lease, DelayNotified: notified, DeliveryBlob: "Q1.eml", Size: 10,
		}
	}
	transient := Result{Status: Transient, Code: 451, Enhanced: "4.3.0", Text: "try later"}
	for _, tc := range []struct {
		name      string
		e         store.QueueEntry
		r         Result
		now       time.Time
		shutdown  bool
		state     string
		next      time.Time
		attempted bool
		notified  bool
		action    string // "" when no DSN note
		status    string
	}{
		{name: "delivered", e: entry(0, false), r: Result{Status: Delivered, Code: 250}, now: accepted,
			state: store.StateDelivered, attempted: true},
		{name: "permanent fails with a DSN", e: entry(0, false), r: Result{Status: Permanent, Code: 550, Enhanced: "5.1.1"}, now: accepted,
			state: store.StateFailed, attempted: true, action: "failed", status: "5.1.1"},
		{name: "permanent without enhanced code", e: entry(0, false), r: Result{Status: Permanent, Code: 554}, now: accepted,
			state: store.StateFailed, attempted: true, action: "failed", status: "5.0.0"},
		{name: "first transient waits the first step", e: entry(0, false), r: transient, now: accepted.Add(time.Second),
			state: store.StateQueued, next: accepted.Add(time.Second + time.Minute), attempted: true},
		{name: "later transient waits the last step", e: entry(5, false), r: transient, now: accepted.Add(2 * time.Hour),
			state: store.StateQueued, next: accepted.Add(3 * time.Hour), attempted: true},
		{name: "delay notice once after 4h", e: entry(5, false), r: transient, now: accepted.Add(4 * time.Hour),
			state: store.StateQueued, next: accepted.Add(5 * time.Hour), attempted: true, notified: true, action: "delayed", status: "4.3.0"},
		{name: "no second delay notice", e: entry(6, true), r: transient, now: accepted.Add(5 * time.Hour),
			state: store.StateQueued, next: accepted.Add(6 * time.Hour), attempted: true},
		{name: "last retry is at the deadline", e: entry(9, true), r: transient, now: accepted.Add(47*time.Hour + 30*time.Minute),
			state: store.StateQueued, next: accepted.Add(48 * time.Hour), attempted: true},
		{name: "expired fails with 4.4.7", e: entry(10, true), r: transient, now: accepted.Add(48 * time.Hour),
			state: store.StateFailed, attempted: true, action: "failed", status: "4.4.7"},
		{name: "shutdown releases without an attempt", e: entry(0, false), r: transient, now: accepted, shutdown: true,
			attempted: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, n := q.decide(tc.e, tc.r, tc.now, tc.shutdown)
			if o.RowID != 7 || !o.Lease.Equal(lease) {
				t.Errorf("outcome %+v does not name the row and its lease", o)
			}
			if o.Attempted != tc.attempted || o.State != tc.state || !o.NextAttemptAt.Equal(tc.next) || o.DelayNotified != tc.notified {
				t.Errorf("outcome %+v, want attempted %v, state %q, next %v, notified %v", o, tc.attempted, tc.state, tc.next, tc.notified)
			}
			switch {
			case tc.action == "" && n != nil:
				t.Errorf("unexpected DSN note %+v", n)
			case tc.action != "" && (n == nil || n.action != tc.action || n.status != tc.status):
				t.Errorf("DSN note %+v, want action %s status %s", n, tc.action, tc.status)
			}
		})
	}
}
