package storetest

import (
	"testing"
	"time"

	"mailroom/internal/store"
)

var statsTests = []test{
	{"QueueDepth", testQueueDepth},
}

// testQueueDepth: fresh rows count as queued, rows after a transient
// failure as deferred, delivered rows not at all.
func testQueueDepth(t *testing.T, s store.Store) {
	alice, _ := setup(t, s)
	want := func(q, d int64) {
		t.Helper()
		got, err := s.QueueDepth(t.Context())
		noErr(t, err, "queue depth")
		if got != (store.QueueDepth{Queued: q, Deferred: d}) {
			t.Fatalf("queue depth %+v, want queued %d deferred %d", got, q, d)
		}
	}
	want(0, 0)
	mustAccept(t, s, acceptance("Q1", alice, base, "a@remote.example", "b@remote.example", "c@remote.example"))
	want(3, 0)
	es := mustClaim(t, s, base, 10)
	outs := []store.Outcome{
		{RowID: es[0].ID, Lease: es[0].LeaseUntil, State: store.StateQueued, NextAttemptAt: base.Add(time.Hour), Attempted: true, LastReply: "451 later"},
		{RowID: es[1].ID, Lease: es[1].LeaseUntil, State: store.StateDelivered, Attempted: true, LastReply: "250 ok"},
		{RowID: es[2].ID, Lease: es[2].LeaseUntil},
	}
	_, _, err := s.Record(t.Context(), base, outs, nil)
	noErr(t, err, "record")
	want(1, 1)
}
