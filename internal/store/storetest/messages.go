package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"mailroom/internal/store"
)

var acceptTests = []test{
	{"MessageRoundTrip", testAcceptMessage},
	{"MessageMissingNotFound", testMessageMissing},
	{"QueueRowStates", testAcceptQueueStates},
	{"QueueRowsAllOldestFirst", testQueueRowsAll},
	{"FolderEntries", testAcceptFolderEntries},
	{"DuplicateIDConflict", testAcceptDuplicate},
	{"AllOrNothing", testAcceptAtomic},
	{"Concurrent", testAcceptConcurrent},
	{"TimesReadBackInUTC", testAcceptTimesUTC},
}

// testAcceptTimesUTC: a time written in any zone reads back equal, in UTC.
func testAcceptTimesUTC(t *testing.T, s store.Store) {
	alice, _ := setup(t, s)
	at := time.Date(2025, 1, 2, 3, 4, 5, 123456000, time.FixedZone("X", -7*3600))
	mustAccept(t, s, acceptance("Q1", alice, at, "x@remote.example"))
	m, err := s.Message(t.Context(), "Q1")
	noErr(t, err, "read message")
	es, err := s.FolderEntries(t.Context(), alice.ID, store.FolderSent)
	noErr(t, err, "read Sent Items")
	for _, got := range []time.Time{m.CreatedAt, es[0].CreatedAt} {
		if !got.Equal(at) || got.Location() != time.UTC {
			t.Errorf("CreatedAt %v, want %v in UTC", got, at)
		}
	}
}

// setup creates example.org with mailboxes alice and bob.
func setup(tb testing.TB, s store.Store) (alice, bob store.Mailbox) {
	tb.Helper()
	mustCreateDomain(tb, s, "example.org")
	return mustCreateMailbox(tb, s, "alice@example.org", "example.org"),
		mustCreateMailbox(tb, s, "bob@example.org", "example.org")
}

func testAcceptMessage(t *testing.T, s store.Store) {
	alice, _ := setup(t, s)
	a := acceptance("Q1", alice, base, "rcpt@remote.example")
	mustAccept(t, s, a)
	got, err := s.Message(t.Context(), "Q1")
	noErr(t, err, "read message")
	want := a.Message
	if !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("CreatedAt: got %v, want %v", got.CreatedAt, want.CreatedAt)
	}
	got.CreatedAt, want.CreatedAt = time.Time{}, time.Time{}
	if got != want {
		t.Errorf("message\n got %+v\nwant %+v", got, want)
	}
}

func testMessageMissing(t *testing.T, s store.Store) {
	_, err := s.Message(t.Context(), "NOPE")
	wantErr(t, err, store.ErrNotFound, "read missing message")
}

func testAcceptQueueStates(t *testing.T, s store.Store) {
	alice, bob := setup(t, s)
	rcpts := []string{"x@remote.example", "bob@example.org", "y@remote.example"}
	a := acceptance("Q1", alice, base, rcpts...)
	a.Delivered["bob@example.org"] = true
	a.Entries = append(a.Entries, store.FolderEntry{
		MailboxID: bob.ID, Folder: store.FolderInbox, MessageID: "Q1", Blob: "blob/Q1.delivery", Size: 1200, CreatedAt: base,
	})
	mustAccept(t, s, a)

	rows, err := s.QueueRows(t.Context(), "Q1")
	noErr(t, err, "queue rows")
	if len(rows) != len(rcpts) {
		t.Fatalf("got %d queue rows, want %d: %+v", len(rows), len(rcpts), rows)
	}
	seen := map[int64]bool{}
	for i, r := range rows {
		want := store.StateQueued
		if a.Delivered[r.Recipient] {
			want = store.StateDelivered
		}
		if r.Recipient != rcpts[i] {
			t.Errorf("row %d: recipient %q, want %q (rows oldest first)", i, r.Recipient, rcpts[i])
		}
		if r.ID == 0 || seen[r.ID] {
			t.Errorf("row %d: ID %d not set or repeated", i, r.ID)
		}
		seen[r.ID] = true
		if r.MessageID != "Q1" || r.State != want || r.Attempts != 0 || r.LastReply != "" {
			t.Errorf("row %d: got %+v, want message Q1, state %s, no attempts, no reply", i, r, want)
		}
		if want == store.StateQueued && r.NextAttemptAt.After(base) {
			t.Errorf("row %d: queued row due at %v, after acceptance at %v", i, r.NextAttemptAt, base)
		}
	}
}

func testQueueRowsAll(t *testing.T, s store.Store) {
	alice, _ := setup(t, s)
	empty, err := s.QueueRows(t.Context(), "")
	noErr(t, err, "queue rows of empty store")
	if len(empty) != 0 {
		t.Fatalf("empty store has queue rows %+v", empty)
	}
	mustAccept(t, s, acceptance("Q1", alice, base, "a@remote.example", "b@remote.example"))
	mustAccept(t, s, acceptance("Q2", alice, base.Add(time.Second), "c@remote.example"))
	mustAccept(t, s, acceptance("Q3", alice, base.Add(2*time.Second)))

	rows, err := s.QueueRows(t.Context(), "")
	noErr(t, err, "all queue rows")
	var got []string
	for _, r := range rows {
		got = append(got, r.MessageID+" "+r.Recipient)
	}
	want := []string{"Q1 a@remote.example", "Q1 b@remote.example", "Q2 c@remote.example"}
	if !slices.Equal(got, want) {
		t.Fatalf("all queue rows %v, want %v", got, want)
	}
	for _, id := range []string{"Q3", "NOPE"} {
		rows, err := s.QueueRows(t.Context(), id)
		noErr(t, err, "queue rows of "+id)
		if len(rows) != 0 {
			t.Errorf("message %s has queue rows %+v, want none", id, rows)
		}
	}
}

func testAcceptFolderEntries(t *testing.T, s store.Store) {
	alice, bob := setup(t, s)
	a1 := acceptance("Q1", alice, base, "bob@example.org")
	a1.Delivered["bob@example.org"] = true
	a1.Entries = append(a1.Entries, store.FolderEntry{
		MailboxID: bob.ID, Folder: store.FolderInbox, MessageID: "Q1", Blob: "blob/Q1.delivery", Size: 1200, CreatedAt: base,
	})
	mustAccept(t, s, a1)
	mustAccept(t, s, acceptance("Q2", alice, base.Add(time.Minute), "x@remote.example"))

	sent, err := s.FolderEntries(t.Context(), alice.ID, store.FolderSent)
	noErr(t, err, "alice's Sent Items")
	if len(sent) != 2 || sent[0].MessageID != "Q1" || sent[1].MessageID != "Q2" {
		t.Fatalf("alice's Sent Items %+v, want Q1 then Q2", sent)
	}
	want := a1.Entries[0]
	got := sent[0]
	if got.ID == 0 || got.MailboxID != want.MailboxID || got.Folder != want.Folder ||
		got.Blob != want.Blob || got.Size != want.Size || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("Sent Items entry\n got %+v\nwant %+v", got, want)
	}

	inbox, err := s.FolderEntries(t.Context(), bob.ID, store.FolderInbox)
	noErr(t, err, "bob's Inbox")
	if len(inbox) != 1 || inbox[0].MessageID != "Q1" || inbox[0].Blob != "blob/Q1.delivery" || inbox[0].Size != 1200 {
		t.Fatalf("bob's Inbox %+v, want the delivery copy of Q1", inbox)
	}
	for _, tc := range []struct {
		mailbox int64
		folder  store.Folder
	}{{alice.ID, store.FolderInbox}, {bob.ID, store.FolderSent}, {alice.ID + bob.ID + 100, store.FolderInbox}} {
		es, err := s.FolderEntries(t.Context(), tc.mailbox, tc.folder)
		noErr(t, err, fmt.Sprintf("folder %s of mailbox %d", tc.folder, tc.mailbox))
		if len(es) != 0 {
			t.Errorf("folder %s of mailbox %d has entries %+v, want none", tc.folder, tc.mailbox, es)
		}
	}
}

func testAcceptDuplicate(t *testing.T, s store.Store) {
	alice, _ := setup(t, s)
	mustAccept(t, s, acceptance("Q1", alice, base, "a@remote.example"))
	dup := acceptance("Q1", alice, base.Add(time.Second), "b@remote.example")
	wantErr(t, s.Accept(t.Context(), dup), store.ErrConflict, "accept the same queue id twice")
	rows, err := s.QueueRows(t.Context(), "Q1")
	noErr(t, err, "queue rows")
	if len(rows) != 1 || rows[0].Recipient != "a@remote.example" {
		t.Fatalf("queue rows after duplicate accept %+v, want only the first", rows)
	}
	sent, err := s.FolderEntries(t.Context(), alice.ID, store.FolderSent)
	noErr(t, err, "Sent Items")
	if len(sent) != 1 {
		t.Fatalf("Sent Items after duplicate accept has %d entries, want 1", len(sent))
	}
}

func testAcceptAtomic(t *testing.T, s store.Store) {
	alice, _ := setup(t, s)
	a := acceptance("Q1", alice, base, "a@remote.example", "b@remote.example")
	a.Entries = append(a.Entries, store.FolderEntry{
		MailboxID: alice.ID + 1000, Folder: store.FolderInbox, MessageID: "Q1", Blob: "blob/Q1", Size: 1, CreatedAt: base,
	})
	if err := s.Accept(t.Context(), a); err == nil {
		t.Fatal("accept with an entry for a missing mailbox succeeded")
	}
	_, err := s.Message(t.Context(), "Q1")
	wantErr(t, err, store.ErrNotFound, "message of a failed accept")
	rows, err := s.QueueRows(t.Context(), "")
	noErr(t, err, "queue rows")
	if len(rows) != 0 {
		t.Fatalf("failed accept left queue rows %+v", rows)
	}
	sent, err := s.FolderEntries(t.Context(), alice.ID, store.FolderSent)
	noErr(t, err, "Sent Items")
	if len(sent) != 0 {
		t.Fatalf("failed accept left Sent Items entries %+v", sent)
	}
	// The queue id is free again.
	mustAccept(t, s, acceptance("Q1", alice, base, "a@remote.example"))
}

func testAcceptConcurrent(t *testing.T, s store.Store) {
	const n = 16
	alice, bob := setup(t, s)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprintf("C%02d", i)
			a := acceptance(id, alice, base.Add(time.Duration(i)*time.Millisecond), "x@remote.example", "bob@example.org")
			a.Delivered["bob@example.org"] = true
			a.Entries = append(a.Entries, store.FolderEntry{
				MailboxID: bob.ID, Folder: store.FolderInbox, MessageID: id, Blob: "blob/" + id, Size: 1, CreatedAt: base,
			})
			if err := s.Accept(t.Context(), a); err != nil {
				t.Errorf("accept %s: %v", id, err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	rows, err := s.QueueRows(t.Context(), "")
	noErr(t, err, "queue rows")
	if len(rows) != 2*n {
		t.Errorf("got %d queue rows, want %d", len(rows), 2*n)
	}
	for i := range n {
		id := fmt.Sprintf("C%02d", i)
		if _, err := s.Message(t.Context(), id); err != nil {
			t.Errorf("message %s: %v", id, err)
		}
	}
	for _, c := range []struct {
		m store.Mailbox
		f store.Folder
	}{{alice, store.FolderSent}, {bob, store.FolderInbox}} {
		es, err := s.FolderEntries(t.Context(), c.m.ID, c.f)
		noErr(t, err, "folder entries")
		if len(es) != n {
			t.Errorf("%s of %s has %d entries, want %d", c.f, c.m.Address, len(es), n)
		}
	}
}
