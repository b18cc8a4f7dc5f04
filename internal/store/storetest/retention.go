package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"mailroom/internal/store"
)

var retentionTests = []test{
	{"MailboxUsage", testMailboxUsage},
	{"ExpireFolderEntries", testExpireFolderEntries},
	{"DeleteUnreferenced", testDeleteUnreferenced},
	{"DeleteUnreferencedLimit", testDeleteUnreferencedLimit},
	{"DeleteUnreferencedFailedRowsAreFinal", testDeleteUnreferencedFailed},
}

// testDeleteUnreferencedFailed: a message whose rows are all delivered or
// failed goes; one with a queued row stays.
func testDeleteUnreferencedFailed(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, _ := setup(t, s)
	for _, id := range []string{"F", "Q"} {
		a := acceptance(id, alice, time.Now(), "x@remote.example", "y@remote.example")
		a.Entries, a.Delivered = nil, map[string]bool{"y@remote.example": true}
		mustAccept(t, s, a)
	}
	if n, err := s.Drop(ctx, store.QueueSelector{MessageID: "F"}, "550 dropped", time.Now()); err != nil || n != 1 {
		t.Fatalf("drop F's queued row: %d, %v", n, err)
	}
	keys, err := s.DeleteUnreferenced(ctx, 10)
	noErr(t, err, "delete unreferenced")
	slices.Sort(keys)
	if want := []string{"blob/F", "blob/F.delivery"}; !slices.Equal(keys, want) {
		t.Fatalf("freed %q, want %q", keys, want)
	}
	if _, err := s.Message(ctx, "Q"); err != nil {
		t.Fatalf("message with a queued row: %v", err)
	}
}

var submissionLogTests = []test{
	{"WrittenByAccept", testSubmissionLogAccept},
	{"NotWrittenByFailedAccept", testSubmissionLogFailedAccept},
	{"Prune", testSubmissionLogPrune},
	{"OutOfRangeBounds", testSubmissionLogOutOfRange},
}

// testSubmissionLogOutOfRange: times beyond what int64 nanoseconds hold
// (the zero time, year 9999) bound a query as before and after everything.
func testSubmissionLogOutOfRange(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, _ := setup(t, s)
	mustAccept(t, s, acceptance("Q", alice, time.Unix(0, 0), "x@remote.example"))
	end := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		since time.Time
		want  int
	}{{time.Time{}, 1}, {end, 0}} {
		rs, err := s.SubmissionLog(ctx, tc.since)
		if err != nil || len(rs) != tc.want {
			t.Errorf("submission log since %v: %+v, %v; want %d records", tc.since, rs, err, tc.want)
		}
	}
	noErr(t, s.PruneSubmissionLog(ctx, time.Time{}), "prune before the zero time")
	if rs, _ := s.SubmissionLog(ctx, time.Time{}); len(rs) != 1 {
		t.Errorf("prune before the zero time removed records: %+v", rs)
	}
	noErr(t, s.PruneSubmissionLog(ctx, end), "prune before year 9999")
	if rs, _ := s.SubmissionLog(ctx, time.Time{}); len(rs) != 0 {
		t.Errorf("prune before year 9999 kept records: %+v", rs)
	}
}

// inboxEntry is bob's Inbox entry for message id, created at at.
func inboxEntry(bob store.Mailbox, id string, at time.Time) store.FolderEntry {
	return store.FolderEntry{
		MailboxID: bob.ID, Folder: store.FolderInbox, MessageID: id, Blob: "blob/" + id + ".delivery", Size: 1200, CreatedAt: at,
	}
}

func testMailboxUsage(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob := setup(t, s)
	usage := func(m store.Mailbox, want int64) {
		t.Helper()
		got, err := s.MailboxUsage(ctx, m.ID)
		noErr(t, err, "usage of "+m.Address)
		if got != want {
			t.Fatalf("usage of %s is %d, want %d", m.Address, got, want)
		}
	}
	usage(alice, 0)
	usage(store.Mailbox{ID: alice.ID + bob.ID + 100, Address: "missing"}, 0)

	a := acceptance("Q1", alice, base, "bob@example.org")
	a.Delivered["bob@example.org"] = true
	a.Entries = append(a.Entries, inboxEntry(bob, "Q1", base))
	mustAccept(t, s, a)
	mustAccept(t, s, acceptance("Q2", alice, base.Add(time.Minute), "x@remote.example"))
	usage(alice, 2*1234)
	usage(bob, 1200)

	// Usage counts every folder: a message bob sends alice adds to her Inbox.
	b := acceptance("Q3", bob, base.Add(2*time.Minute), "alice@example.org")
	b.Delivered["alice@example.org"] = true
	b.Entries = append(b.Entries, store.FolderEntry{
		MailboxID: alice.ID, Folder: store.FolderInbox, MessageID: "Q3", Blob: "blob/Q3.delivery", Size: 100, CreatedAt: base.Add(2 * time.Minute),
	})
	mustAccept(t, s, b)
	usage(alice, 2*1234+100)
	usage(bob, 1200+1234)

	n, err := s.ExpireFolderEntries(ctx, alice.ID, store.FolderSent, base.Add(time.Second))
	noErr(t, err, "expire alice's Sent Items")
	if n != 1 {
		t.Fatalf("expired %d entries, want 1", n)
	}
	usage(alice, 1234+100)
	usage(bob, 1200+1234)
}

func testExpireFolderEntries(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob := setup(t, s)
	for i, id := range []string{"Q1", "Q2", "Q3"} {
		at := base.Add(time.Duration(i) * time.Minute)
		a := acceptance(id, alice, at, "bob@example.org")
		a.Delivered["bob@example.org"] = true
		a.Entries = append(a.Entries, inboxEntry(bob, id, at))
		mustAccept(t, s, a)
	}
	// The cutoff is exclusive: Q2, created at the cutoff, stays.
	n, err := s.ExpireFolderEntries(ctx, alice.ID, store.FolderSent, base.Add(time.Minute))
	noErr(t, err, "expire")
	if n != 1 {
		t.Fatalf("expired %d entries, want 1", n)
	}
	sent, err := s.FolderEntries(ctx, alice.ID, store.FolderSent)
	noErr(t, err, "alice's Sent Items")
	if got := entryMessages(sent); !slices.Equal(got, []string{"Q2", "Q3"}) {
		t.Fatalf("Sent Items after expiry %v, want Q2 Q3", got)
	}
	inbox, err := s.FolderEntries(ctx, bob.ID, store.FolderInbox)
	noErr(t, err, "bob's Inbox")
	if got := entryMessages(inbox); !slices.Equal(got, []string{"Q1", "Q2", "Q3"}) {
		t.Fatalf("another mailbox's folder changed by expiry: %v", got)
	}
	// The message stays: bob's Inbox still has it.
	if _, err := s.Message(ctx, "Q1"); err != nil {
		t.Fatalf("message of an expired entry: %v", err)
	}

	n, err = s.ExpireFolderEntries(ctx, alice.ID, store.FolderSent, base.Add(time.Minute))
	noErr(t, err, "expire again")
	if n != 0 {
		t.Fatalf("second expiry removed %d entries, want 0", n)
	}
	n, err = s.ExpireFolderEntries(ctx, alice.ID, store.FolderInbox, base.Add(time.Hour))
	noErr(t, err, "expire an empty folder")
	if n != 0 {
		t.Fatalf("expiry of an empty folder removed %d entries", n)
	}
	n, err = s.ExpireFolderEntries(ctx, bob.ID, store.FolderInbox, base.Add(time.Hour))
	noErr(t, err, "expire bob's Inbox")
	if n != 3 {
		t.Fatalf("expired %d of bob's entries, want 3", n)
	}
}

func testDeleteUnreferenced(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob := setup(t, s)
	noEntries := func(a store.Acceptance) store.Acceptance { a.Entries = nil; return a }

	// SENT: referenced by alice's Sent Items; its one row is delivered.
	sent := acceptance("SENT", alice, base, "bob@example.org")
	sent.Delivered["bob@example.org"] = true
	mustAccept(t, s, sent)
	// INBOX: referenced only by bob's Inbox.
	inbox := noEntries(acceptance("INBOX", alice, base, "bob@example.org"))
	inbox.Delivered["bob@example.org"] = true
	inbox.Entries = []store.FolderEntry{inboxEntry(bob, "INBOX", base)}
	mustAccept(t, s, inbox)
	// QUEUED: no entry, but a queued row.
	mustAccept(t, s, noEntries(acceptance("QUEUED", alice, base, "x@remote.example")))
	// MIXED: no entry, one row delivered and one still queued.
	mixed := noEntries(acceptance("MIXED", alice, base, "bob@example.org", "y@remote.example"))
	mixed.Delivered["bob@example.org"] = true
	mustAccept(t, s, mixed)
	// DONE: no entry, every row delivered: unreferenced.
	done := noEntries(acceptance("DONE", alice, base, "bob@example.org", "carol@example.org"))
	done.Delivered["bob@example.org"], done.Delivered["carol@example.org"] = true, true
	mustAccept(t, s, done)
	// BARE: no entry, no rows, one blob for both copies: unreferenced.
	bare := noEntries(acceptance("BARE", alice, base))
	bare.Message.DeliveryBlob = bare.Message.Blob
	mustAccept(t, s, bare)

	freed := func(want ...string) {
		t.Helper()
		keys, err := s.DeleteUnreferenced(ctx, 100)
		noErr(t, err, "delete unreferenced")
		slices.Sort(keys)
		slices.Sort(want)
		if !slices.Equal(keys, want) {
			t.Fatalf("freed blob keys %q, want %q", keys, want)
		}
	}
	present := func(ids ...string) {
		t.Helper()
		for _, id := range ids {
			if _, err := s.Message(ctx, id); err != nil {
				t.Fatalf("message %s: %v", id, err)
			}
		}
	}
	gone := func(ids ...string) {
		t.Helper()
		for _, id := range ids {
			_, err := s.Message(ctx, id)
			wantErr(t, err, store.ErrNotFound, "read freed message "+id)
			rows, err := s.QueueRows(ctx, id)
			noErr(t, err, "queue rows of "+id)
			if len(rows) != 0 {
				t.Fatalf("freed message %s keeps queue rows %+v", id, rows)
			}
		}
	}

	freed("blob/DONE", "blob/DONE.delivery", "blob/BARE")
	gone("DONE", "BARE")
	present("SENT", "INBOX", "QUEUED", "MIXED")
	freed()
	rows, err := s.QueueRows(ctx, "")
	noErr(t, err, "all queue rows")
	if len(rows) != 5 {
		t.Fatalf("%d queue rows remain, want 5 (SENT, INBOX, QUEUED, MIXED×2)", len(rows))
	}

	// Expiring alice's Sent Items unreferences SENT; deleting bob (and his
	// Inbox) unreferences INBOX.
	if _, err := s.ExpireFolderEntries(ctx, alice.ID, store.FolderSent, base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	noErr(t, s.DeleteMailbox(ctx, bob.Address), "delete bob")
	freed("blob/SENT", "blob/SENT.delivery", "blob/INBOX", "blob/INBOX.delivery")
	gone("SENT", "INBOX")
	present("QUEUED", "MIXED")
}

func testDeleteUnreferencedLimit(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, _ := setup(t, s)
	var want []string
	for i := range 5 {
		a := acceptance(fmt.Sprintf("M%d", i), alice, base, "bob@example.org")
		a.Delivered["bob@example.org"] = true
		a.Entries = nil
		mustAccept(t, s, a)
		want = append(want, a.Message.Blob, a.Message.DeliveryBlob)
	}
	keys, err := s.DeleteUnreferenced(ctx, 0)
	noErr(t, err, "delete unreferenced, limit 0")
	if len(keys) != 0 {
		t.Fatalf("limit 0 freed %q", keys)
	}
	var all []string
	for _, n := range []int{4, 4, 2, 0} {
		keys, err := s.DeleteUnreferenced(ctx, 2)
		noErr(t, err, "delete unreferenced, limit 2")
		if len(keys) != n {
			t.Fatalf("limit 2 freed %q, want %d keys (two messages' worth)", keys, n)
		}
		all = append(all, keys...)
	}
	slices.Sort(all)
	slices.Sort(want)
	if !slices.Equal(all, want) {
		t.Fatalf("freed %q, want each blob once: %q", all, want)
	}
}

func testSubmissionLogAccept(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob := setup(t, s)
	empty, err := s.SubmissionLog(ctx, time.Time{})
	noErr(t, err, "submission log of an empty store")
	if len(empty) != 0 {
		t.Fatalf("empty store has submission records %+v", empty)
	}
	// Accepted out of time order; the log reads oldest first.
	mustAccept(t, s, acceptance("Q3", alice, base.Add(2*time.Minute)))
	mustAccept(t, s, acceptance("Q1", alice, base, "a@remote.example", "b@remote.example"))
	b := acceptance("Q2", bob, base.Add(time.Minute), "alice@example.org")
	b.Delivered["alice@example.org"] = true
	mustAccept(t, s, b)

	want := []store.SubmissionRecord{
		{MailboxID: alice.ID, At: base, Recipients: 2},
		{MailboxID: bob.ID, At: base.Add(time.Minute), Recipients: 1},
		{MailboxID: alice.ID, At: base.Add(2 * time.Minute), Recipients: 0},
	}
	for _, tc := range []struct {
		since time.Time
		want  []store.SubmissionRecord
	}{
		{time.Time{}, want},
		{base.Add(-time.Hour), want},
		{base, want},
		{base.Add(time.Microsecond), want[1:]},
		{base.Add(time.Minute), want[1:]}, // since is inclusive
		{base.Add(3 * time.Minute), nil},
	} {
		got, err := s.SubmissionLog(ctx, tc.since)
		noErr(t, err, "submission log")
		equalRecords(t, got, tc.want, fmt.Sprintf("since %v", tc.since))
	}
}

func testSubmissionLogFailedAccept(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, _ := setup(t, s)
	mustAccept(t, s, acceptance("Q1", alice, base, "a@remote.example"))
	if err := s.Accept(ctx, acceptance("Q1", alice, base.Add(time.Second), "b@remote.example")); err == nil {
		t.Fatal("duplicate accept succeeded")
	}
	bad := acceptance("Q2", alice, base.Add(time.Second), "b@remote.example")
	bad.Entries[0].MailboxID = alice.ID + 1000
	if err := s.Accept(ctx, bad); err == nil {
		t.Fatal("accept with an entry for a missing mailbox succeeded")
	}
	got, err := s.SubmissionLog(ctx, time.Time{})
	noErr(t, err, "submission log")
	equalRecords(t, got, []store.SubmissionRecord{{MailboxID: alice.ID, At: base, Recipients: 1}}, "after failed accepts")
}

func testSubmissionLogPrune(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, _ := setup(t, s)
	for i := range 3 {
		mustAccept(t, s, acceptance(fmt.Sprintf("Q%d", i), alice, base.Add(time.Duration(i)*time.Minute), "a@remote.example"))
	}
	noErr(t, s.PruneSubmissionLog(ctx, base.Add(time.Minute)), "prune")
	got, err := s.SubmissionLog(ctx, time.Time{})
	noErr(t, err, "submission log")
	equalRecords(t, got, []store.SubmissionRecord{
		{MailboxID: alice.ID, At: base.Add(time.Minute), Recipients: 1},
		{MailboxID: alice.ID, At: base.Add(2 * time.Minute), Recipients: 1},
	}, "after prune")
	// Pruning leaves the messages alone.
	if _, err := s.Message(ctx, "Q0"); err != nil {
		t.Fatalf("message after prune: %v", err)
	}
	noErr(t, s.PruneSubmissionLog(ctx, base.Add(time.Hour)), "prune all")
	got, err = s.SubmissionLog(ctx, time.Time{})
	noErr(t, err, "submission log")
	equalRecords(t, got, nil, "after pruning all")
}

// entryMessages returns the MessageID of each entry, in order.
func entryMessages(es []store.FolderEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.MessageID)
	}
	return out
}

// equalRecords fails tb unless got and want hold the same records in the
// same order, comparing times as instants.
func equalRecords(tb testing.TB, got, want []store.SubmissionRecord, what string) {
	tb.Helper()
	same := len(got) == len(want)
	for i := 0; same && i < len(got); i++ {
		same = got[i].MailboxID == want[i].MailboxID && got[i].At.Equal(want[i].At) &&
			got[i].Recipients == want[i].Recipients && got[i].Messages == 1 // one per accepted message
	}
	if !same {
		tb.Fatalf("submission log %s\n got %+v\nwant %+v", what, got, want)
	}
}
