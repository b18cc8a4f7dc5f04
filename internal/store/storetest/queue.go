package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"mailroom/internal/store"
)

var queueTests = []test{
	{"ClaimDueLeasesRows", testClaimDue},
	{"ClaimAgainAfterLeaseExpires", testClaimAfterLease},
	{"RenewQueueLeases", testRenewQueueLeases},
	{"ClaimConcurrentNeverTwice", testClaimConcurrent},
	{"RecordOutcomes", testRecordOutcomes},
	{"RecordSkipsLostLease", testRecordLostLease},
	{"RecordReleaseOnly", testRecordRelease},
	{"RecordLocalEntryAndNotice", testRecordEntryAndNotice},
	{"ListRetryDrop", testListRetryDrop},
}

var dkimTests = []test{
	{"AddAndList", testDKIMAddList},
	{"ConflictAndMissingDomain", testDKIMConflict},
	{"RemovedWithDomain", testDKIMRemovedWithDomain},
}

const lease = time.Minute

// mustClaim claims due rows at now.
func mustClaim(tb testing.TB, s store.Store, now time.Time, limit int) []store.QueueEntry {
	tb.Helper()
	es, err := s.ClaimDue(tb.Context(), now, limit, lease)
	noErr(tb, err, "claim due rows")
	return es
}

// rcpts returns the recipients of es in order.
func rcpts(es []store.QueueEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Recipient)
	}
	return out
}

// rowByRcpt returns the queue row of message id for rcpt.
func rowByRcpt(tb testing.TB, s store.Store, id, rcpt string) store.QueueRow {
	tb.Helper()
	rows, err := s.QueueRows(tb.Context(), id)
	noErr(tb, err, "queue rows")
	for _, r := range rows {
		if r.Recipient == rcpt {
			return r
		}
	}
	tb.Fatalf("no queue row of %s for %s in %+v", id, rcpt, rows)
	return store.QueueRow{}
}

func testClaimDue(t *testing.T, s store.Store) {
	alice, bob := setup(t, s)
	a := acceptance("Q1", alice, base, "x@remote.example", "bob@example.org", "y@remote.example")
	a.Delivered["bob@example.org"] = true
	a.Entries = append(a.Entries, store.FolderEntry{MailboxID: bob.ID, Folder: store.FolderInbox, MessageID: "Q1", Blob: "b", Size: 1, CreatedAt: base})
	mustAccept(t, s, a)
	mustAccept(t, s, acceptance("Q2", alice, base.Add(10*time.Second), "later@remote.example"))

	if es := mustClaim(t, s, base.Add(-time.Second), 10); len(es) != 0 {
		t.Fatalf("claimed rows before they were due: %+v", es)
	}
	claimStart := time.Now()
	es := mustClaim(t, s, base, 10)
	if got := rcpts(es); !slices.Equal(got, []string{"x@remote.example", "y@remote.example"}) {
		t.Fatalf("claimed %v, want the two remote rows of Q1 (not delivered, not future rows)", got)
	}
	e := es[0]
	if es[1].LeaseUntil != e.LeaseUntil {
		t.Errorf("rows of one claim hold leases %v and %v, want one", e.LeaseUntil, es[1].LeaseUntil)
	}
	if e.MessageID != "Q1" || e.EnvelopeFrom != alice.Address || e.HeaderID != "Q1@mail.example" ||
		e.DeliveryBlob != "blob/Q1.delivery" || e.Size != 1234 || !e.AcceptedAt.Equal(base) || e.State != store.StateQueued {
		t.Errorf("claimed entry %+v lacks its message's data", e)
	}
	// The lease runs on the store's clock, not the claim's now (base).
	if e.LeaseUntil.Before(claimStart.Add(lease - time.Second)) {
		t.Errorf("LeaseUntil %v, want the store's clock plus %v (claimed at %v)", e.LeaseUntil, lease, claimStart)
	}
	if again := mustClaim(t, s, base.Add(time.Second), 10); len(again) != 0 {
		t.Fatalf("leased rows claimed twice: %+v", again)
	}
	if lim := mustClaim(t, s, base.Add(20*time.Second), 1); len(lim) != 1 || lim[0].MessageID != "Q2" {
		t.Fatalf("claim with limit 1 once Q2 is due: %+v, want Q2's row only", lim)
	}
}

// shortLease is a lease a test waits out on the store's clock.
const shortLease = 50 * time.Millisecond

// claimWhenFree claims at now, for d, until the claim returns rows (the
// leases it waits for have expired on the store's clock).
func claimWhenFree(tb testing.TB, s store.Store, now time.Time, d time.Duration) []store.QueueEntry {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		es, err := s.ClaimDue(tb.Context(), now, 10, d)
		noErr(tb, err, "claim due rows")
		if len(es) > 0 {
			return es
		}
		if time.Now().After(deadline) {
			tb.Fatal("no lease expired within 30s")
		}
		time.Sleep(shortLease / 5)
	}
}

func testClaimAfterLease(t *testing.T, s store.Store) {
	alice, _ := setup(t, s)
	mustAccept(t, s, acceptance("Q1", alice, base, "x@remote.example"))
	first, err := s.ClaimDue(t.Context(), base, 10, shortLease)
	noErr(t, err, "first claim")
	if len(first) != 1 {
		t.Fatalf("first claim: %+v", first)
	}
	// The claimer crashed: nothing is recorded. Once its lease has ended
	// on the store's clock, however late the claim's now, the row is due
	// again.
	second := claimWhenFree(t, s, base, shortLease)
	if len(second) != 1 || second[0].ID != first[0].ID || !second[0].LeaseUntil.After(first[0].LeaseUntil) {
		t.Fatalf("claim after lease expiry: %+v (first %+v)", second, first)
	}
	// The first claimer's late outcome no longer counts.
	skipped, _, err := s.Record(t.Context(), base.Add(lease), []store.Outcome{{
		RowID: first[0].ID, Lease: first[0].LeaseUntil, State: store.StateDelivered, Attempted: true, LastReply: "250 late",
	}}, nil)
	noErr(t, err, "record with an expired lease")
	if skipped != 1 {
		t.Fatalf("skipped %d outcomes, want 1", skipped)
	}
	if r := rowByRcpt(t, s, "Q1", "x@remote.example"); r.State != store.StateQueued || r.Attempts != 0 {
		t.Fatalf("row after a stale outcome: %+v", r)
	}
	// A lease is measured on the store's clock: a claim whose now is an
	// hour ahead (a node whose clock is) does not take a leased row.
	claimWhenFree(t, s, base, lease)
	if es := mustClaim(t, s, time.Now().Add(time.Hour), 10); len(es) != 0 {
		t.Fatalf("a claim an hour ahead took leased rows: %+v", es)
	}
}

func testRenewQueueLeases(t *testing.T, s store.Store) {
	alice, _ := setup(t, s)
	mustAccept(t, s, acceptance("Q1", alice, base, "a@remote.example", "b@remote.example", "c@remote.example"))
	es, err := s.ClaimDue(t.Context(), base, 10, shortLease)
	noErr(t, err, "claim")
	if len(es) != 3 {
		t.Fatalf("claimed %+v", es)
	}
	old := es[0].LeaseUntil
	// An administrator drops c while the attempt runs.
	if n, err := s.Drop(t.Context(), store.QueueSelector{MessageID: "Q1", Recipient: "c@remote.example"}, "dropped", base); err != nil || n != 1 {
		t.Fatalf("drop c: %d, %v", n, err)
	}
	ids := []int64{es[0].ID, es[1].ID, es[2].ID}
	until, renewed, err := s.RenewQueueLeases(t.Context(), ids, old, lease)
	noErr(t, err, "renew")
	if !slices.Equal(renewed, []int64{es[0].ID, es[1].ID}) || !until.After(old) {
		t.Fatalf("renewed %v until %v (old %v), want a and b, later", renewed, until, old)
	}
	// Renewed for a minute: the short lease it replaced is long over when
	// another claimer looks, and the rows stay taken.
	time.Sleep(2 * shortLease)
	if again := mustClaim(t, s, base, 10); len(again) != 0 {
		t.Fatalf("renewed rows claimed by another claimer: %+v", again)
	}
	// Renewing with the old lease again renews nothing: it is not held.
	if _, none, err := s.RenewQueueLeases(t.Context(), ids, old, lease); err != nil || len(none) != 0 {
		t.Fatalf("renew with a lease no longer held: %v, %v", none, err)
	}
	// The outcome is recorded under the renewed lease; under the old one
	// it is skipped.
	skipped, _, err := s.Record(t.Context(), base, []store.Outcome{
		{RowID: es[0].ID, Lease: until, State: store.StateDelivered, Attempted: true, LastReply: "250 ok"},
		{RowID: es[1].ID, Lease: old, State: store.StateDelivered, Attempted: true, LastReply: "250 ok"},
	}, nil)
	noErr(t, err, "record")
	if skipped != 1 || rowByRcpt(t, s, "Q1", "a@remote.example").State != store.StateDelivered ||
		rowByRcpt(t, s, "Q1", "b@remote.example").State != store.StateQueued {
		t.Fatalf("skipped %d: want a recorded under the renewed lease, b skipped under the old one", skipped)
	}
}

func testClaimConcurrent(t *testing.T, s store.Store) {
	alice, _ := setup(t, s)
	const n = 40
	var rs []string
	for i := range n {
		rs = append(rs, fmt.Sprintf("r%02d@remote.example", i))
	}
	mustAccept(t, s, acceptance("Q1", alice, base, rs...))
	takeApart(t, []store.Store{s, s}, n, claimIDs(t, base, 3, lease)) // four claimers
}

func testRecordOutcomes(t *testing.T, s store.Store) {
	alice, _ := setup(t, s)
	mustAccept(t, s, acceptance("Q1", alice, base, "ok@remote.example", "later@remote.example", "bad@remote.example"))
	es := mustClaim(t, s, base, 10)
	if len(es) != 3 {
		t.Fatalf("claimed %+v", es)
	}
	at := base.Add(time.Second)
	next := base.Add(5 * time.Minute)
	skipped, _, err := s.Record(t.Context(), at, []store.Outcome{
		{RowID: es[0].ID, Lease: es[0].LeaseUntil, State: store.StateDelivered, Attempted: true, LastReply: "250 2.0.0 ok"},
		{RowID: es[1].ID, Lease: es[1].LeaseUntil, State: store.StateQueued, NextAttemptAt: next, Attempted: true, LastReply: "451 4.3.0 later", DelayNotified: true},
		{RowID: es[2].ID, Lease: es[2].LeaseUntil, State: store.StateFailed, Attempted: true, LastReply: "550 5.1.1 no such user"},
	}, nil)
	noErr(t, err, "record")
	if skipped != 0 {
		t.Fatalf("skipped %d", skipped)
	}
	for _, want := range []struct {
		rcpt, state, reply string
	}{
		{"ok@remote.example", store.StateDelivered, "250 2.0.0 ok"},
		{"later@remote.example", store.StateQueued, "451 4.3.0 later"},
		{"bad@remote.example", store.StateFailed, "550 5.1.1 no such user"},
	} {
		r := rowByRcpt(t, s, "Q1", want.rcpt)
		if r.State != want.state || r.Attempts != 1 || r.LastReply != want.reply || !r.UpdatedAt.Equal(at) {
			t.Errorf("row %s: %+v, want state %s, 1 attempt, reply %q, updated at %v", want.rcpt, r, want.state, want.reply, at)
		}
	}
	if r := rowByRcpt(t, s, "Q1", "later@remote.example"); !r.NextAttemptAt.Equal(next) {
		t.Errorf("retried row due at %v, want %v", r.NextAttemptAt, next)
	}
	if es := mustClaim(t, s, next.Add(-time.Microsecond), 10); len(es) != 0 {
		t.Fatalf("claimed before the retry time: %+v", es)
	}
	es = mustClaim(t, s, next, 10)
	if got := rcpts(es); !slices.Equal(got, []string{"later@remote.example"}) {
		t.Fatalf("claimed at the retry time %v, want only the retried row", got)
	}
	if !es[0].DelayNotified || es[0].LeaseUntil.IsZero() {
		t.Errorf("retried entry %+v: want DelayNotified and a new lease", es[0])
	}
}

func testRecordLostLease(t *testing.T, s store.Store) {
	alice, _ := setup(t, s)
	mustAccept(t, s, acceptance("Q1", alice, base, "a@remote.example", "b@remote.example"))
	es := mustClaim(t, s, base, 10)
	// An administrator drops b while the attempt runs.
	n, err := s.Drop(t.Context(), store.QueueSelector{MessageID: "Q1", Recipient: "b@remote.example"}, "dropped", base)
	noErr(t, err, "drop")
	if n != 1 {
		t.Fatalf("dropped %d rows, want 1", n)
	}
	notice := acceptance("N1", alice, base, alice.Address)
	skipped, noticed, err := s.Record(t.Context(), base, []store.Outcome{
		{RowID: es[0].ID, Lease: es[0].LeaseUntil, State: store.StateDelivered, Attempted: true, LastReply: "250 ok"},
		{RowID: es[1].ID, Lease: es[1].LeaseUntil, State: store.StateFailed, Attempted: true, LastReply: "550 no"},
	}, &notice)
	noErr(t, err, "record")
	if skipped != 1 || noticed {
		t.Fatalf("skipped %d, noticed %v; want 1 (the dropped row), no notice", skipped, noticed)
	}
	if r := rowByRcpt(t, s, "Q1", "a@remote.example"); r.State != store.StateDelivered {
		t.Errorf("a: %+v", r)
	}
	if r := rowByRcpt(t, s, "Q1", "b@remote.example"); r.State != store.StateFailed || r.LastReply != "dropped" || r.Attempts != 0 {
		t.Errorf("dropped row overwritten: %+v", r)
	}
	// The only failure was not written, so neither is its notice.
	_, err = s.Message(t.Context(), "N1")
	wantErr(t, err, store.ErrNotFound, "notice of a skipped failure")
}

func testRecordRelease(t *testing.T, s store.Store) {
	alice, _ := setup(t, s)
	mustAccept(t, s, acceptance("Q1", alice, base, "a@remote.example"))
	es := mustClaim(t, s, base, 10)
	skipped, _, err := s.Record(t.Context(), base.Add(time.Second), []store.Outcome{{RowID: es[0].ID, Lease: es[0].LeaseUntil}}, nil)
	noErr(t, err, "release")
	if skipped != 0 {
		t.Fatalf("skipped %d", skipped)
	}
	r := rowByRcpt(t, s, "Q1", "a@remote.example")
	if r.State != store.StateQueued || r.Attempts != 0 || r.LastReply != "" || !r.NextAttemptAt.Equal(base) {
		t.Fatalf("released row: %+v, want it untouched but for the lease", r)
	}
	if again := mustClaim(t, s, base.Add(time.Second), 10); len(again) != 1 {
		t.Fatalf("released row not claimable at once: %+v", again)
	}
}

func testRecordEntryAndNotice(t *testing.T, s store.Store) {
	alice, bob := setup(t, s)
	mustAccept(t, s, acceptance("Q1", alice, base, "bob@example.org", "gone@remote.example"))
	es := mustClaim(t, s, base, 10)
	notice := store.Acceptance{
		Message:    store.Message{ID: "N1", MessageID: "n1@mail.example", EnvelopeFrom: "", Size: 99, Blob: "blob/N1", DeliveryBlob: "blob/N1", CreatedAt: base},
		Recipients: []string{alice.Address},
		Delivered:  map[string]bool{alice.Address: true},
		Entries:    []store.FolderEntry{{MailboxID: alice.ID, Folder: store.FolderInbox, MessageID: "N1", Blob: "blob/N1", Size: 99, CreatedAt: base}},
	}
	_, noticed, err := s.Record(t.Context(), base, []store.Outcome{
		{RowID: es[0].ID, Lease: es[0].LeaseUntil, State: store.StateDelivered, Attempted: true, LastReply: "250 local",
			Entry: &store.FolderEntry{MailboxID: bob.ID, Folder: store.FolderInbox, MessageID: "Q1", Blob: "blob/Q1.delivery", Size: 1234, CreatedAt: base}},
		{RowID: es[1].ID, Lease: es[1].LeaseUntil, State: store.StateFailed, Attempted: true, LastReply: "550 5.1.1 gone"},
	}, &notice)
	noErr(t, err, "record")
	if !noticed {
		t.Error("Record wrote the notice but says it did not")
	}
	inbox, err := s.FolderEntries(t.Context(), bob.ID, store.FolderInbox)
	noErr(t, err, "bob's Inbox")
	if len(inbox) != 1 || inbox[0].MessageID != "Q1" || inbox[0].Blob != "blob/Q1.delivery" {
		t.Fatalf("bob's Inbox %+v, want Q1's delivery copy", inbox)
	}
	inbox, err = s.FolderEntries(t.Context(), alice.ID, store.FolderInbox)
	noErr(t, err, "alice's Inbox")
	if len(inbox) != 1 || inbox[0].MessageID != "N1" {
		t.Fatalf("alice's Inbox %+v, want the notice", inbox)
	}
	m, err := s.Message(t.Context(), "N1")
	noErr(t, err, "notice message")
	if m.EnvelopeFrom != "" || m.Blob != "blob/N1" {
		t.Errorf("notice message %+v", m)
	}
	if r := rowByRcpt(t, s, "N1", alice.Address); r.State != store.StateDelivered {
		t.Errorf("notice's queue row %+v, want delivered", r)
	}
}

func testListRetryDrop(t *testing.T, s store.Store) {
	alice, _ := setup(t, s)
	mustAccept(t, s, acceptance("Q1", alice, base, "a@remote.example", "b@remote.example"))
	mustAccept(t, s, acceptance("Q2", alice, base, "c@remote.example"))
	es := mustClaim(t, s, base, 10)
	later := base.Add(time.Hour)
	var outs []store.Outcome
	for _, e := range es {
		outs = append(outs, store.Outcome{RowID: e.ID, Lease: e.LeaseUntil, State: store.StateQueued, NextAttemptAt: later, Attempted: true, LastReply: "451 later"})
	}
	_, _, err := s.Record(t.Context(), base, outs, nil)
	noErr(t, err, "record")

	all, err := s.ListQueue(t.Context(), store.QueueFilter{})
	noErr(t, err, "list all")
	if got := rcpts(all); !slices.Equal(got, []string{"a@remote.example", "b@remote.example", "c@remote.example"}) {
		t.Fatalf("list all: %v", got)
	}
	if all[0].EnvelopeFrom != alice.Address || all[0].LastReply != "451 later" {
		t.Errorf("listed entry %+v", all[0])
	}

	n, err := s.RetryNow(t.Context(), store.QueueSelector{MessageID: "Q1"}, base.Add(time.Minute))
	noErr(t, err, "retry Q1")
	if n != 2 {
		t.Fatalf("retry Q1 changed %d rows, want 2", n)
	}
	if es := mustClaim(t, s, base.Add(time.Minute), 10); !slices.Equal(rcpts(es), []string{"a@remote.example", "b@remote.example"}) {
		t.Fatalf("claim after retry: %v, want Q1's rows", rcpts(es))
	}
	n, err = s.Drop(t.Context(), store.QueueSelector{All: true}, "dropped by admin", base.Add(time.Minute))
	noErr(t, err, "drop all")
	if n != 3 {
		t.Fatalf("drop all changed %d rows, want 3", n)
	}
	failed, err := s.ListQueue(t.Context(), store.QueueFilter{State: store.StateFailed, MessageID: "Q2"})
	noErr(t, err, "list failed of Q2")
	if len(failed) != 1 || failed[0].LastReply != "dropped by admin" {
		t.Fatalf("failed rows of Q2: %+v", failed)
	}
	if n, err := s.RetryNow(t.Context(), store.QueueSelector{All: true}, base); err != nil || n != 0 {
		t.Fatalf("retry of failed rows changed %d rows (%v), want 0", n, err)
	}
	if _, err := s.Drop(t.Context(), store.QueueSelector{}, "x", base); err == nil {
		t.Fatal("drop with an empty selector succeeded")
	}
	if lim, err := s.ListQueue(t.Context(), store.QueueFilter{Limit: 2}); err != nil || len(lim) != 2 {
		t.Fatalf("list with limit 2: %d rows, %v", len(lim), err)
	}
}

func testDKIMAddList(t *testing.T, s store.Store) {
	mustCreateDomain(t, s, "example.org")
	mustCreateDomain(t, s, "other.example")
	keys, err := s.AddDKIMKeys(t.Context(), []store.DKIMKey{
		{Domain: "example.org", Selector: "s1-ed25519", Algorithm: store.DKIMEd25519, PrivateKey: []byte{1, 2, 3}},
		{Domain: "example.org", Selector: "s1-rsa", Algorithm: store.DKIMRSA, PrivateKey: []byte{4, 5}},
	})
	noErr(t, err, "add keys")
	if len(keys) != 2 || keys[0].ID == 0 || keys[1].ID == keys[0].ID || keys[0].CreatedAt.IsZero() {
		t.Fatalf("added keys %+v, want IDs and CreatedAt set", keys)
	}
	got, err := s.DKIMKeysOf(t.Context(), "example.org")
	noErr(t, err, "list keys")
	if len(got) != 2 || got[0].Selector != "s1-ed25519" || got[1].Algorithm != store.DKIMRSA ||
		!slices.Equal(got[1].PrivateKey, []byte{4, 5}) || got[0].Domain != "example.org" || !got[0].CreatedAt.Equal(keys[0].CreatedAt) {
		t.Fatalf("listed keys %+v", got)
	}
	for _, d := range []string{"other.example", "missing.example"} {
		ks, err := s.DKIMKeysOf(t.Context(), d)
		noErr(t, err, "keys of "+d)
		if len(ks) != 0 {
			t.Errorf("%s has keys %+v", d, ks)
		}
	}
}

func testDKIMConflict(t *testing.T, s store.Store) {
	mustCreateDomain(t, s, "example.org")
	k := store.DKIMKey{Domain: "example.org", Selector: "s1", Algorithm: store.DKIMEd25519, PrivateKey: []byte{1}}
	_, err := s.AddDKIMKeys(t.Context(), []store.DKIMKey{k})
	noErr(t, err, "add key")
	other := store.DKIMKey{Domain: "example.org", Selector: "s2", Algorithm: store.DKIMRSA, PrivateKey: []byte{2}}
	_, err = s.AddDKIMKeys(t.Context(), []store.DKIMKey{other, k})
	wantErr(t, err, store.ErrConflict, "add a selector twice")
	_, err = s.AddDKIMKeys(t.Context(), []store.DKIMKey{{Domain: "missing.example", Selector: "s1", Algorithm: store.DKIMRSA, PrivateKey: []byte{3}}})
	wantErr(t, err, store.ErrNotFound, "add a key to a missing domain")
	ks, err := s.DKIMKeysOf(t.Context(), "example.org")
	noErr(t, err, "list keys")
	if len(ks) != 1 {
		t.Fatalf("keys after refused adds: %+v, want only the first (all or nothing)", ks)
	}
}

func testDKIMRemovedWithDomain(t *testing.T, s store.Store) {
	mustCreateDomain(t, s, "example.org")
	_, err := s.AddDKIMKeys(t.Context(), []store.DKIMKey{{Domain: "example.org", Selector: "s1", Algorithm: store.DKIMEd25519, PrivateKey: []byte{1}}})
	noErr(t, err, "add key")
	noErr(t, s.DeleteDomain(t.Context(), "example.org"), "delete domain with keys")
	mustCreateDomain(t, s, "example.org")
	ks, err := s.DKIMKeysOf(t.Context(), "example.org")
	noErr(t, err, "keys of the new domain")
	if len(ks) != 0 {
		t.Fatalf("a re-created domain inherited keys %+v", ks)
	}
}
