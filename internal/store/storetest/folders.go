package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"mailroom/internal/store"
)

var folderTests = []test{
	{"UIDsAscendPerFolder", testFolderUIDs},
	{"ConcurrentUIDsDistinct", testFolderConcurrentUIDs},
	{"FlagsPersist", testFolderFlags},
	{"ExpungeDeletedOnly", testFolderExpunge},
	{"CopyAndMove", testFolderCopyMove},
	{"CopyOverQuota", testFolderCopyQuota},
	{"AppendAndSentCopy", testFolderAppend},
	{"CreateRenameDelete", testFolderCreateRenameDelete},
	{"StatesMove", testFolderStates},
	{"DeliveryEntriesNumbered", testFolderRecordEntries},
	{"PageAndFind", testFolderPageFind},
}

// uids returns the UIDs of a folder's entries.
func uids(tb testing.TB, s store.Store, mb int64, f store.Folder) []uint32 {
	tb.Helper()
	es, err := s.FolderMessages(tb.Context(), mb, f)
	noErr(tb, err, "list folder")
	var out []uint32
	for _, e := range es {
		out = append(out, e.UID)
	}
	return out
}

// withInbox adds an Inbox entry of mb to a.
func withInbox(a store.Acceptance, mb store.Mailbox) store.Acceptance {
	a.Entries = append(a.Entries, store.FolderEntry{MailboxID: mb.ID, Folder: store.FolderInbox, Blob: a.Message.DeliveryBlob, Size: a.Message.Size})
	return a
}

func testFolderUIDs(t *testing.T, s store.Store) {
	alice, bob := setup(t, s)
	for i := range 3 {
		mustAccept(t, s, withInbox(acceptance(fmt.Sprintf("Q%d", i), alice, base.Add(time.Duration(i)*time.Second), bob.Address), bob))
	}
	if got := uids(t, s, bob.ID, store.FolderInbox); !slices.Equal(got, []uint32{1, 2, 3}) {
		t.Errorf("Inbox UIDs = %v", got)
	}
	if got := uids(t, s, alice.ID, store.FolderSent); !slices.Equal(got, []uint32{1, 2, 3}) {
		t.Errorf("Sent Items UIDs = %v", got)
	}
	sent, err := s.Folder(t.Context(), alice.ID, store.FolderSent)
	noErr(t, err, "read Sent Items")
	inbox, err := s.Folder(t.Context(), bob.ID, store.FolderInbox)
	noErr(t, err, "read Inbox")
	if sent.SpecialUse != store.SpecialUseSent || sent.UIDNext != 4 || sent.Messages != 3 || sent.Size != 3*1234 || !sent.Subscribed {
		t.Errorf("Sent Items = %+v", sent)
	}
	if inbox.SpecialUse != "" || inbox.UIDValidity == sent.UIDValidity || inbox.UIDValidity == 0 {
		t.Errorf("Inbox = %+v (Sent Items %+v)", inbox, sent)
	}
	if _, err := s.Folder(t.Context(), bob.ID, store.FolderSent); err == nil {
		t.Error("bob has a Sent Items folder he never wrote to")
	}
	// Ensure makes the missing one and leaves an existing one alone.
	f, err := s.EnsureFolder(t.Context(), bob.ID, store.FolderSent, store.SpecialUseSent)
	noErr(t, err, "ensure Sent Items")
	g, err := s.EnsureFolder(t.Context(), bob.ID, store.FolderInbox, "")
	noErr(t, err, "ensure Inbox")
	if f.UIDNext != 1 || f.SpecialUse != store.SpecialUseSent || g != inbox {
		t.Errorf("ensured = %+v, %+v; Inbox was %+v", f, g, inbox)
	}
	if _, err := s.EnsureFolder(t.Context(), 9999, store.FolderInbox, ""); err == nil {
		t.Error("EnsureFolder of a missing mailbox succeeded")
	}
}

// testFolderConcurrentUIDs: concurrent acceptances to one Inbox get
// distinct UIDs, 1 to n.
func testFolderConcurrentUIDs(t *testing.T, s store.Store) {
	alice, bob := setup(t, s)
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			a := withInbox(acceptance(fmt.Sprintf("Q%02d", i), alice, base, bob.Address), bob)
			// Each also writes to a folder of its own of alice, before and after bob's in name order.
			a.Entries = append(a.Entries, store.FolderEntry{MailboxID: alice.ID, Folder: "A", Blob: "b"}, store.FolderEntry{MailboxID: bob.ID, Folder: "Z", Blob: "b"})
			errs <- s.Accept(t.Context(), a)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		noErr(t, err, "accept")
	}
	want := make([]uint32, n)
	for i := range want {
		want[i] = uint32(i + 1)
	}
	for _, f := range []struct {
		mb     int64
		folder store.Folder
	}{{bob.ID, store.FolderInbox}, {alice.ID, store.FolderSent}, {alice.ID, "A"}, {bob.ID, "Z"}} {
		if got := uids(t, s, f.mb, f.folder); !slices.Equal(got, want) {
			t.Errorf("%d %s UIDs = %v", f.mb, f.folder, got)
		}
	}
}

func testFolderFlags(t *testing.T, s store.Store) {
	alice, bob := setup(t, s)
	ctx := t.Context()
	for i := range 3 {
		mustAccept(t, s, withInbox(acceptance(fmt.Sprintf("Q%d", i), alice, base, bob.Address), bob))
	}
	changed, err := s.SetFlags(ctx, bob.ID, store.FolderInbox, []store.UIDRange{{Start: 1, Stop: 2}}, store.FlagsAdd, []string{`\Seen`, "$Label1"})
	noErr(t, err, "add flags")
	if len(changed) != 2 || !slices.Equal(changed[0].Flags, []string{"$Label1", `\Seen`}) {
		t.Errorf("changed = %+v", changed)
	}
	_, err = s.SetFlags(ctx, bob.ID, store.FolderInbox, []store.UIDRange{{Start: 2, Stop: 3}}, store.FlagsRemove, []string{`\seen`})
	noErr(t, err, "remove flags")
	_, err = s.SetFlags(ctx, bob.ID, store.FolderInbox, []store.UIDRange{{Start: 3, Stop: 3}}, store.FlagsReplace, []string{`\Flagged`, `\Answered`})
	noErr(t, err, "replace flags")
	again, err := s.SetFlags(ctx, bob.ID, store.FolderInbox, []store.UIDRange{{Start: 3, Stop: 3}}, store.FlagsAdd, []string{`\Flagged`})
	noErr(t, err, "add a flag it has")
	if len(again) != 0 {
		t.Errorf("a no-op change reported %+v", again)
	}
	es, err := s.FolderMessages(ctx, bob.ID, store.FolderInbox)
	noErr(t, err, "list Inbox")
	want := [][]string{{"$Label1", `\Seen`}, {"$Label1"}, {`\Answered`, `\Flagged`}}
	for i, e := range es {
		if !slices.Equal(e.Flags, want[i]) {
			t.Errorf("UID %d flags = %q, want %q", e.UID, e.Flags, want[i])
		}
	}
	if _, err := s.SetFlags(ctx, bob.ID, "Nope", []store.UIDRange{{Start: 1, Stop: 1}}, store.FlagsAdd, []string{`\Seen`}); err == nil {
		t.Error("SetFlags on a missing folder succeeded")
	}
}

func testFolderExpunge(t *testing.T, s store.Store) {
	alice, bob := setup(t, s)
	ctx := t.Context()
	for i := range 4 {
		mustAccept(t, s, withInbox(acceptance(fmt.Sprintf("Q%d", i), alice, base, bob.Address), bob))
	}
	_, err := s.SetFlags(ctx, bob.ID, store.FolderInbox, []store.UIDRange{{Start: 1, Stop: 1}, {Start: 3, Stop: 4}}, store.FlagsAdd, []string{`\Deleted`})
	noErr(t, err, "flag deleted")
	gone, err := s.Expunge(ctx, bob.ID, store.FolderInbox, []store.UIDRange{{Start: 3, Stop: 3}})
	noErr(t, err, "UID EXPUNGE 3")
	if !slices.Equal(gone, []uint32{3}) {
		t.Errorf("UID EXPUNGE 3 removed %v", gone)
	}
	gone, err = s.Expunge(ctx, bob.ID, store.FolderInbox, nil)
	noErr(t, err, "EXPUNGE")
	if !slices.Equal(gone, []uint32{1, 4}) {
		t.Errorf("EXPUNGE removed %v", gone)
	}
	if got := uids(t, s, bob.ID, store.FolderInbox); !slices.Equal(got, []uint32{2}) {
		t.Errorf("left %v", got)
	}
	// The message stays while alice's Sent Items names it.
	if got := uids(t, s, alice.ID, store.FolderSent); len(got) != 4 {
		t.Errorf("Sent Items = %v", got)
	}
	// A new entry never reuses an expunged UID.
	mustAccept(t, s, withInbox(acceptance("Q9", alice, base, bob.Address), bob))
	if got := uids(t, s, bob.ID, store.FolderInbox); !slices.Equal(got, []uint32{2, 5}) {
		t.Errorf("after a new delivery %v", got)
	}
}

func testFolderCopyMove(t *testing.T, s store.Store) {
	alice, bob := setup(t, s)
	ctx := t.Context()
	for i := range 3 {
		mustAccept(t, s, withInbox(acceptance(fmt.Sprintf("Q%d", i), alice, base, bob.Address), bob))
	}
	_, err := s.SetFlags(ctx, bob.ID, store.FolderInbox, []store.UIDRange{{Start: 2, Stop: 2}}, store.FlagsAdd, []string{`\Seen`})
	noErr(t, err, "flag")
	if _, err := s.CopyEntries(ctx, bob.ID, store.FolderInbox, []store.UIDRange{{Start: 1, Stop: 3}}, bob.ID, "Archive", false, 0); err == nil {
		t.Fatal("copy to a missing folder succeeded")
	} else {
		wantErr(t, err, store.ErrNotFound, "copy to a missing folder")
	}
	_, err = s.CreateFolder(ctx, bob.ID, "Archive", "")
	noErr(t, err, "create Archive")
	res, err := s.CopyEntries(ctx, bob.ID, store.FolderInbox, []store.UIDRange{{Start: 2, Stop: 3}}, bob.ID, "Archive", false, 0)
	noErr(t, err, "copy")
	if !slices.Equal(res.Source, []uint32{2, 3}) || !slices.Equal(res.Dest, []uint32{1, 2}) || res.UIDValidity == 0 {
		t.Errorf("copy = %+v", res)
	}
	res, err = s.CopyEntries(ctx, bob.ID, store.FolderInbox, []store.UIDRange{{Start: 1, Stop: 2}}, bob.ID, "Archive", true, 0)
	noErr(t, err, "move")
	if !slices.Equal(res.Source, []uint32{1, 2}) || !slices.Equal(res.Dest, []uint32{3, 4}) {
		t.Errorf("move = %+v", res)
	}
	if got := uids(t, s, bob.ID, store.FolderInbox); !slices.Equal(got, []uint32{3}) {
		t.Errorf("Inbox after move %v", got)
	}
	es, err := s.FolderMessages(ctx, bob.ID, "Archive")
	noErr(t, err, "list Archive")
	if len(es) != 4 || !slices.Equal(es[0].Flags, []string{`\Seen`}) || es[0].MessageID != "Q1" || !es[0].Appended || es[3].MessageID != "Q1" {
		t.Errorf("Archive = %+v", es)
	}
	// Expunging one copy leaves the other.
	_, err = s.SetFlags(ctx, bob.ID, "Archive", []store.UIDRange{{Start: 1, Stop: 1}}, store.FlagsAdd, []string{`\Deleted`})
	noErr(t, err, "flag")
	_, err = s.Expunge(ctx, bob.ID, "Archive", nil)
	noErr(t, err, "expunge")
	if got := uids(t, s, bob.ID, "Archive"); !slices.Equal(got, []uint32{2, 3, 4}) {
		t.Errorf("Archive after expunge %v", got)
	}
}

func testFolderCopyQuota(t *testing.T, s store.Store) {
	alice, bob := setup(t, s)
	ctx := t.Context()
	mustAccept(t, s, withInbox(acceptance("Q1", alice, base, bob.Address), bob))
	_, err := s.CreateFolder(ctx, bob.ID, "Archive", "")
	noErr(t, err, "create Archive")
	_, err = s.CopyEntries(ctx, bob.ID, store.FolderInbox, []store.UIDRange{{Start: 1, Stop: 1}}, bob.ID, "Archive", false, 2*1234-1)
	wantErr(t, err, store.ErrOverQuota, "copy over quota")
	_, err = s.CopyEntries(ctx, bob.ID, store.FolderInbox, []store.UIDRange{{Start: 1, Stop: 1}}, bob.ID, "Archive", true, 1234)
	noErr(t, err, "a move within a mailbox at its quota")
}

func testFolderAppend(t *testing.T, s store.Store) {
	alice, _ := setup(t, s)
	ctx := t.Context()
	mustAccept(t, s, acceptance("Q1", alice, base, "x@remote.example"))
	ap := store.Appended{
		Message: store.Message{ID: "A1", MessageID: "Q1@mail.example", MailboxID: alice.ID, Size: 100, Blob: "A1.eml", CreatedAt: base.Add(time.Minute)},
		Entry:   store.FolderEntry{MailboxID: alice.ID, Folder: store.FolderSent, Flags: []string{`\Seen`}},
		Bodies:  []store.Body{{Key: "A1.eml", Data: []byte("appended")}},
	}
	e, err := s.AppendMessage(ctx, ap)
	noErr(t, err, "append")
	if e.UID != 2 || !e.Appended || e.Size != 100 || !slices.Equal(e.Flags, []string{`\Seen`}) {
		t.Errorf("appended = %+v", e)
	}
	if b, err := s.BodyPart(ctx, "A1.eml", 0); err != nil || string(b) != "appended" {
		t.Errorf("appended body = %q, %v", b, err)
	}
	// The dedupe finds mailroom's copy, not the appended one, and only within the window.
	c, err := s.SentCopy(ctx, alice.ID, "Q1@mail.example", base.Add(-time.Hour))
	noErr(t, err, "sent copy")
	if c.UID != 1 || c.MessageID != "Q1" {
		t.Errorf("sent copy = %+v", c)
	}
	_, err = s.SentCopy(ctx, alice.ID, "Q1@mail.example", base.Add(time.Second))
	wantErr(t, err, store.ErrNotFound, "sent copy older than since")
	_, err = s.SentCopy(ctx, alice.ID, "other@mail.example", base.Add(-time.Hour))
	wantErr(t, err, store.ErrNotFound, "sent copy of another message")
	// Over quota: nothing written.
	ap.Message.ID, ap.Message.Blob, ap.Bodies = "A2", "A2.eml", []store.Body{{Key: "A2.eml", Data: []byte("x")}}
	ap.QuotaBytes = 1234 + 100 + 99
	_, err = s.AppendMessage(ctx, ap)
	wantErr(t, err, store.ErrOverQuota, "append over quota")
	if _, err := s.Message(ctx, "A2"); err == nil {
		t.Error("the refused append's message was written")
	}
	// Deleting the appended entry frees its message (and so its body).
	_, err = s.SetFlags(ctx, alice.ID, store.FolderSent, []store.UIDRange{{Start: 2, Stop: 2}}, store.FlagsAdd, []string{`\Deleted`})
	noErr(t, err, "flag")
	_, err = s.Expunge(ctx, alice.ID, store.FolderSent, nil)
	noErr(t, err, "expunge")
	keys, err := s.DeleteUnreferenced(ctx, 10)
	noErr(t, err, "sweep")
	if !slices.Equal(keys, []string{"A1.eml"}) {
		t.Errorf("swept %v, want the appended body only", keys)
	}
}

func testFolderCreateRenameDelete(t *testing.T, s store.Store) {
	alice, bob := setup(t, s)
	ctx := t.Context()
	work, err := s.CreateFolder(ctx, bob.ID, "Work", "")
	noErr(t, err, "create Work")
	_, err = s.CreateFolder(ctx, bob.ID, "Work", "")
	wantErr(t, err, store.ErrConflict, "create Work twice")
	_, err = s.CreateFolder(ctx, 9999, "Work", "")
	wantErr(t, err, store.ErrNotFound, "create in a missing mailbox")
	_, err = s.CreateFolder(ctx, bob.ID, "Work/2025", `\Archive`)
	noErr(t, err, "create Work/2025")
	mustAccept(t, s, withInbox(acceptance("Q1", alice, base, bob.Address), bob))
	_, err = s.CopyEntries(ctx, bob.ID, store.FolderInbox, []store.UIDRange{{Start: 1, Stop: 1}}, bob.ID, "Work/2025", false, 0)
	noErr(t, err, "copy")
	noErr(t, s.SubscribeFolder(ctx, bob.ID, "Work", false), "unsubscribe")
	noErr(t, s.RenameFolder(ctx, bob.ID, "Work", "Jobs"), "rename")
	wantErr(t, s.RenameFolder(ctx, bob.ID, "Work", "Jobs"), store.ErrNotFound, "rename a missing folder")
	wantErr(t, s.RenameFolder(ctx, bob.ID, "Jobs", store.FolderInbox), store.ErrConflict, "rename onto Inbox")
	fs, err := s.Folders(ctx, bob.ID)
	noErr(t, err, "list")
	var names []string
	for _, f := range fs {
		names = append(names, string(f.Name))
	}
	if !slices.Equal(names, []string{"Inbox", "Jobs", "Jobs/2025"}) {
		t.Fatalf("folders = %q", names)
	}
	if fs[1].Subscribed || fs[1].UIDValidity != work.UIDValidity || fs[2].Messages != 1 || fs[2].SpecialUse != `\Archive` {
		t.Errorf("folders = %+v", fs)
	}
	noErr(t, s.DeleteFolder(ctx, bob.ID, "Jobs/2025"), "delete")
	wantErr(t, s.DeleteFolder(ctx, bob.ID, "Jobs/2025"), store.ErrNotFound, "delete twice")
	again, err := s.CreateFolder(ctx, bob.ID, "Jobs/2025", "")
	noErr(t, err, "create again")
	if again.UIDValidity == fs[2].UIDValidity || again.Messages != 0 {
		t.Errorf("recreated folder %+v keeps the old one's UIDVALIDITY %d", again, fs[2].UIDValidity)
	}
}

func testFolderStates(t *testing.T, s store.Store) {
	alice, bob := setup(t, s)
	ctx := t.Context()
	state := func() map[store.Folder]store.FolderState {
		ss, err := s.FolderStates(ctx, []int64{bob.ID})
		noErr(t, err, "states")
		m := map[store.Folder]store.FolderState{}
		for _, st := range ss {
			m[st.Name] = st
		}
		return m
	}
	mustAccept(t, s, withInbox(acceptance("Q1", alice, base, bob.Address), bob))
	s0 := state()[store.FolderInbox]
	mustAccept(t, s, withInbox(acceptance("Q2", alice, base, bob.Address), bob))
	s1 := state()[store.FolderInbox]
	_, err := s.SetFlags(ctx, bob.ID, store.FolderInbox, []store.UIDRange{{Start: 1, Stop: 1}}, store.FlagsAdd, []string{`\Deleted`})
	noErr(t, err, "flag")
	s2 := state()[store.FolderInbox]
	_, err = s.Expunge(ctx, bob.ID, store.FolderInbox, nil)
	noErr(t, err, "expunge")
	s3 := state()[store.FolderInbox]
	if s1.UIDNext != s0.UIDNext+1 || s2.Changes <= s1.Changes || s3.Changes <= s2.Changes || s3.UIDNext != s1.UIDNext {
		t.Errorf("states %+v %+v %+v %+v", s0, s1, s2, s3)
	}
	if ss, err := s.FolderStates(ctx, nil); err != nil || len(ss) != 0 {
		t.Errorf("states of no mailbox = %v, %v", ss, err)
	}
}

// testFolderRecordEntries: entries written with delivery outcomes and a
// notice are numbered too.
func testFolderRecordEntries(t *testing.T, s store.Store) {
	alice, bob := setup(t, s)
	ctx := t.Context()
	mustAccept(t, s, acceptance("Q1", alice, base, bob.Address, "carol@example.net"))
	claimed, err := s.ClaimDue(ctx, base.Add(time.Hour), 10, time.Minute)
	noErr(t, err, "claim")
	if len(claimed) != 2 {
		t.Fatalf("claimed %d rows", len(claimed))
	}
	var outs []store.Outcome
	for _, c := range claimed {
		o := store.Outcome{RowID: c.ID, Lease: c.LeaseUntil, Attempted: true, State: store.StateFailed, LastReply: "550 no"}
		if c.Recipient == bob.Address {
			o.State = store.StateDelivered
			o.Entry = &store.FolderEntry{MailboxID: bob.ID, Folder: store.FolderInbox, MessageID: "Q1", Blob: "b", Size: 1}
		}
		outs = append(outs, o)
	}
	notice := withInbox(store.Acceptance{
		Message:    store.Message{ID: "D1", MessageID: "d1@example.org", Size: 1, Blob: "d", DeliveryBlob: "d"},
		Recipients: []string{alice.Address}, Delivered: map[string]bool{alice.Address: true},
	}, alice)
	notice.Entries = append(notice.Entries, store.FolderEntry{MailboxID: bob.ID, Folder: store.FolderInbox, Blob: "d", Size: 1})
	_, noticed, err := s.Record(ctx, base.Add(time.Hour), outs, &notice)
	noErr(t, err, "record")
	if !noticed {
		t.Fatal("no notice written")
	}
	bes, err := s.FolderMessages(ctx, bob.ID, store.FolderInbox)
	noErr(t, err, "bob's Inbox")
	aes, err := s.FolderMessages(ctx, alice.ID, store.FolderInbox)
	noErr(t, err, "alice's Inbox")
	if len(bes) != 2 || bes[0].UID != 1 || bes[1].UID != 2 || len(aes) != 1 || aes[0].UID != 1 || aes[0].MessageID != "D1" {
		t.Errorf("bob's Inbox %+v, alice's %+v", bes, aes)
	}
}

// FolderPage pages a folder newest first and counts it; FindFolderEntry
// finds the newest entry naming a message, ErrNotFound for none.
func testFolderPageFind(t *testing.T, s store.Store) {
	alice, bob := setup(t, s)
	for i := range 5 {
		mustAccept(t, s, withInbox(acceptance(fmt.Sprintf("Q%d", i), alice, base.Add(time.Duration(i)*time.Second), bob.Address), bob))
	}
	ids := func(es []store.FolderEntry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.MessageID)
		}
		return out
	}
	for _, tc := range []struct {
		offset, limit int
		want          []string
	}{
		{0, 2, []string{"Q4", "Q3"}},
		{2, 2, []string{"Q2", "Q1"}},
		{4, 2, []string{"Q0"}},
		{5, 2, nil},
		{0, 50, []string{"Q4", "Q3", "Q2", "Q1", "Q0"}},
	} {
		es, total, err := s.FolderPage(t.Context(), bob.ID, store.FolderInbox, tc.offset, tc.limit)
		noErr(t, err, "page Inbox")
		if total != 5 || !slices.Equal(ids(es), tc.want) {
			t.Errorf("page offset %d limit %d: %v of %d, want %v of 5", tc.offset, tc.limit, ids(es), total, tc.want)
		}
		if len(es) > 0 && (es[0].MailboxID != bob.ID || es[0].Folder != store.FolderInbox || es[0].Blob == "") {
			t.Errorf("page entry %+v", es[0])
		}
	}
	if es, total, err := s.FolderPage(t.Context(), bob.ID, store.FolderSent, 0, 10); err != nil || total != 0 || len(es) != 0 {
		t.Errorf("bob's empty Sent Items: %v of %d, %v", es, total, err)
	}

	// Q2 copied into the Inbox again: the newest entry is the one found.
	_, err := s.CopyEntries(t.Context(), bob.ID, store.FolderInbox, []store.UIDRange{{Start: 3, Stop: 3}} /* Q2 */, bob.ID, store.FolderInbox, false, 0)
	noErr(t, err, "copy Q2")
	e, err := s.FindFolderEntry(t.Context(), bob.ID, store.FolderInbox, "Q2")
	noErr(t, err, "find Q2")
	if e.MessageID != "Q2" || e.Blob != "blob/Q2.delivery" || e.ID != newest(t, s, bob.ID) {
		t.Errorf("found %+v, want Q2's copy, the newest entry", e)
	}
	_, err = s.FindFolderEntry(t.Context(), bob.ID, store.FolderInbox, "Q9")
	wantErr(t, err, store.ErrNotFound, "find a message not in the folder")
	_, err = s.FindFolderEntry(t.Context(), alice.ID, store.FolderInbox, "Q2")
	wantErr(t, err, store.ErrNotFound, "find a message in another mailbox's folder")
}

// newest returns the id of the newest entry of mb's Inbox.
func newest(tb testing.TB, s store.Store, mb int64) int64 {
	tb.Helper()
	es, err := s.FolderEntries(tb.Context(), mb, store.FolderInbox)
	noErr(tb, err, "list Inbox")
	return es[len(es)-1].ID
}
