package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"mailroom/internal/store"
)

var domainTests = []test{
	{"CreateListDelete", testDomainCreateListDelete},
	{"CreateDefaults", testDomainCreateDefaults},
	{"Update", testDomainUpdate},
	{"UpdateMissingNotFound", testDomainUpdateMissing},
	{"CreateDuplicateConflict", testDomainCreateDuplicate},
	{"DeleteMissingNotFound", testDomainDeleteMissing},
	{"DeleteWithMailboxesConflict", testDomainDeleteWithMailboxes},
}

var mailboxTests = []test{
	{"CreateAndGet", testMailboxCreateAndGet},
	{"CreateWritesFieldsAsGiven", testMailboxCreateAsGiven},
	{"CreateMissingDomainNotFound", testMailboxCreateMissingDomain},
	{"CreateDuplicateConflict", testMailboxCreateDuplicate},
	{"GetMissingNotFound", testMailboxGetMissing},
	{"Update", testMailboxUpdate},
	{"UpdateMissingNotFound", testMailboxUpdateMissing},
	{"ListByDomainAndAll", testMailboxList},
	{"Delete", testMailboxDelete},
	{"DeleteRemovesFolderEntries", testMailboxDeleteRemovesEntries},
	{"DeleteRemovesAliasesGrantsAppPasswords", testMailboxDeleteCleansUp},
}

var versionTests = []test{
	{"IncreasesOnEveryWrite", testVersionIncreases},
	{"UnchangedByReadsAndFailedWrites", testVersionUnchanged},
	{"IncreasesOnSenderWrites", testVersionSenderWrites},
	{"UnchangedByTouchReadsAndFailedSenderWrites", testVersionSenderUnchanged},
	{"UnchangedByInvalidSettings", testVersionInvalidSettings},
}

// testVersionInvalidSettings: settings out of range are refused (with an
// error other than conflict or not found) and do not move the version;
// an empty display-name policy and an empty role are the defaults.
func testVersionInvalidSettings(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreateDomain(t, s, "example.org")
	m := mustCreateMailbox(t, s, "alice@example.org", "example.org")
	v0 := mustVersion(t, s)
	noErr(t, s.UpdateDomain(ctx, store.Domain{Name: "example.org"}), "update domain with empty policy")
	if ds, err := s.Domains(ctx); err != nil || ds[0].DisplayName != store.DisplayNameClient || ds[0].Role != store.DomainHosted {
		t.Fatalf("domain after empty policy: %+v, %v", ds, err)
	}
	v1 := mustVersion(t, s)
	_, grantErr := s.AddGrant(ctx, store.Grant{Kind: "send-for", On: "x@example.org", Grantee: m.Address})
	_, createErr := s.CreateMailbox(ctx, store.Mailbox{Address: "bob@example.org", Limits: store.Limits{Concurrent: -2}})
	for what, err := range map[string]error{
		"unknown policy":   s.UpdateDomain(ctx, store.Domain{Name: "example.org", DisplayName: "server"}),
		"unknown role":     s.UpdateDomain(ctx, store.Domain{Name: "example.org", Role: "mx"}),
		"negative limit":   s.UpdateDomain(ctx, store.Domain{Name: "example.org", Limits: store.Limits{RecipientsPerDay: -1}}),
		"negative quota":   s.UpdateMailbox(ctx, store.Mailbox{Address: m.Address, QuotaBytes: -1}),
		"negative keep":    s.UpdateMailbox(ctx, store.Mailbox{Address: m.Address, SentRetention: -time.Hour}),
		"unknown grant":    grantErr,
		"negative concurr": createErr,
	} {
		if err == nil {
			t.Errorf("%s accepted", what)
		} else if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: got %v, want an error other than conflict or not found", what, err)
		}
	}
	if v := mustVersion(t, s); v != v1 || v1 <= v0 {
		t.Errorf("directory version %d → %d → %d; want one step for the valid update only", v0, v1, v)
	}
}

func testDomainCreateListDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	ds, err := s.Domains(ctx)
	noErr(t, err, "list domains of empty store")
	if len(ds) != 0 {
		t.Fatalf("empty store lists domains %v", ds)
	}
	for _, name := range []string{"b.example", "c.example", "a.example"} {
		d := mustCreateDomain(t, s, name)
		if d.ID == 0 || d.Name != name || d.CreatedAt.IsZero() {
			t.Fatalf("create domain %s returned %+v, want ID, name and CreatedAt set", name, d)
		}
	}
	ds, err = s.Domains(ctx)
	noErr(t, err, "list domains")
	if got := domainNames(ds); !slices.Equal(got, []string{"a.example", "b.example", "c.example"}) {
		t.Fatalf("domains listed %v, want them by name", got)
	}
	noErr(t, s.DeleteDomain(ctx, "b.example"), "delete domain")
	ds, err = s.Domains(ctx)
	noErr(t, err, "list domains after delete")
	if got := domainNames(ds); !slices.Equal(got, []string{"a.example", "c.example"}) {
		t.Fatalf("domains after delete %v, want a.example and c.example", got)
	}
}

func testDomainCreateDuplicate(t *testing.T, s store.Store) {
	first := mustCreateDomain(t, s, "example.org")
	_, err := s.CreateDomain(t.Context(), "example.org", "")
	wantErr(t, err, store.ErrConflict, "create domain twice")
	ds, err := s.Domains(t.Context())
	noErr(t, err, "list domains")
	if len(ds) != 1 || ds[0].ID != first.ID {
		t.Fatalf("domains after duplicate create %+v, want only %+v", ds, first)
	}
}

func testDomainDeleteMissing(t *testing.T, s store.Store) {
	wantErr(t, s.DeleteDomain(t.Context(), "nowhere.example"), store.ErrNotFound, "delete missing domain")
}

func testDomainDeleteWithMailboxes(t *testing.T, s store.Store) {
	mustCreateDomain(t, s, "example.org")
	mustCreateMailbox(t, s, "alice@example.org", "example.org")
	wantErr(t, s.DeleteDomain(t.Context(), "example.org"), store.ErrConflict, "delete domain with a mailbox")
	if _, err := s.Mailbox(t.Context(), "alice@example.org"); err != nil {
		t.Fatalf("mailbox after refused domain delete: %v", err)
	}
	noErr(t, s.DeleteMailbox(t.Context(), "alice@example.org"), "delete mailbox")
	noErr(t, s.DeleteDomain(t.Context(), "example.org"), "delete emptied domain")
}

func testMailboxCreateAndGet(t *testing.T, s store.Store) {
	mustCreateDomain(t, s, "example.org")
	want := store.Mailbox{
		Address:          "shared@example.org",
		Domain:           "example.org",
		DisplayName:      "Shared Box",
		PasswordHash:     "",
		SMTPAuth:         false,
		Shared:           true,
		IMAP:             true,
		SaveSent:         false,
		CopySentAs:       true,
		CopySentOnBehalf: true,
		SentRetention:    30 * 24 * time.Hour,
		QuotaBytes:       5 << 30,
		Networks:         []string{"192.0.2.0/24", "2001:db8::/32"},
		Limits:           store.Limits{Concurrent: 2, MessagesPerMinute: 30, RecipientsPerMessage: 50, RecipientsPerDay: 1000},
	}
	got, err := s.CreateMailbox(t.Context(), want)
	noErr(t, err, "create mailbox")
	if got.ID == 0 || got.CreatedAt.IsZero() || !got.UpdatedAt.Equal(got.CreatedAt) {
		t.Fatalf("create returned %+v, want ID set and UpdatedAt == CreatedAt", got)
	}
	want.ID, want.CreatedAt, want.UpdatedAt = got.ID, got.CreatedAt, got.UpdatedAt
	equalMailbox(t, got, want)
	read, err := s.Mailbox(t.Context(), want.Address)
	noErr(t, err, "read mailbox")
	equalMailbox(t, read, want)

	login := mustCreateMailbox(t, s, "alice@example.org", "example.org")
	read, err = s.Mailbox(t.Context(), login.Address)
	noErr(t, err, "read login mailbox")
	equalMailbox(t, read, login)
	if login.ID == got.ID {
		t.Fatalf("two mailboxes share ID %d", login.ID)
	}
}

func testMailboxCreateMissingDomain(t *testing.T, s store.Store) {
	_, err := s.CreateMailbox(t.Context(), store.Mailbox{Address: "bob@nowhere.example", Domain: "nowhere.example"})
	wantErr(t, err, store.ErrNotFound, "create mailbox in missing domain")
	ms, err := s.Mailboxes(t.Context(), "")
	noErr(t, err, "list mailboxes")
	if len(ms) != 0 {
		t.Fatalf("mailboxes after refused create: %+v", ms)
	}
}

func testMailboxCreateDuplicate(t *testing.T, s store.Store) {
	mustCreateDomain(t, s, "example.org")
	first := mustCreateMailbox(t, s, "alice@example.org", "example.org")
	_, err := s.CreateMailbox(t.Context(), store.Mailbox{Address: "alice@example.org", Domain: "example.org", DisplayName: "Other"})
	wantErr(t, err, store.ErrConflict, "create mailbox twice")
	read, err := s.Mailbox(t.Context(), first.Address)
	noErr(t, err, "read mailbox")
	equalMailbox(t, read, first)
}

func testMailboxGetMissing(t *testing.T, s store.Store) {
	mustCreateDomain(t, s, "example.org")
	_, err := s.Mailbox(t.Context(), "nobody@example.org")
	wantErr(t, err, store.ErrNotFound, "read missing mailbox")
}

func testMailboxUpdate(t *testing.T, s store.Store) {
	mustCreateDomain(t, s, "example.org")
	m := mustCreateMailbox(t, s, "alice@example.org", "example.org")
	other := mustCreateMailbox(t, s, "bob@example.org", "example.org")
	upd := m
	upd.DisplayName = "Alice Liddell"
	upd.PasswordHash = "$argon2id$v=19$m=65536,t=3,p=4$bmV3$bmV3"
	upd.SMTPAuth = false
	upd.Shared = true
	upd.IMAP = !m.IMAP
	upd.SaveSent = false
	upd.CopySentAs = true
	upd.CopySentOnBehalf = true
	upd.SentRetention = 90 * 24 * time.Hour
	upd.QuotaBytes = 1 << 20
	upd.Networks = []string{"198.51.100.7/32"}
	upd.Limits = store.Limits{Concurrent: 1, MessagesPerMinute: 2, RecipientsPerMessage: 3, RecipientsPerDay: 4}
	noErr(t, s.UpdateMailbox(t.Context(), upd), "update mailbox")
	got, err := s.Mailbox(t.Context(), m.Address)
	noErr(t, err, "read updated mailbox")
	if got.UpdatedAt.Before(m.UpdatedAt) {
		t.Errorf("UpdatedAt went back from %v to %v", m.UpdatedAt, got.UpdatedAt)
	}
	upd.UpdatedAt = got.UpdatedAt
	equalMailbox(t, got, upd)
	gotOther, err := s.Mailbox(t.Context(), other.Address)
	noErr(t, err, "read other mailbox")
	equalMailbox(t, gotOther, other)

	// Clearing writes the zero values back.
	clr := got
	clr.CopySentAs, clr.CopySentOnBehalf, clr.SaveSent = false, false, true
	clr.SentRetention, clr.QuotaBytes, clr.Networks, clr.Limits = 0, 0, nil, store.Limits{}
	noErr(t, s.UpdateMailbox(t.Context(), clr), "clear mailbox settings")
	got, err = s.Mailbox(t.Context(), m.Address)
	noErr(t, err, "read cleared mailbox")
	clr.UpdatedAt = got.UpdatedAt
	equalMailbox(t, got, clr)
	ms, err := s.Mailboxes(t.Context(), "example.org")
	noErr(t, err, "list mailboxes")
	if len(ms) != 2 {
		t.Fatalf("listed %d mailboxes, want 2", len(ms))
	}
	equalMailbox(t, ms[0], clr)
}

func testMailboxUpdateMissing(t *testing.T, s store.Store) {
	mustCreateDomain(t, s, "example.org")
	err := s.UpdateMailbox(t.Context(), store.Mailbox{Address: "nobody@example.org", DisplayName: "x"})
	wantErr(t, err, store.ErrNotFound, "update missing mailbox")
}

func testMailboxList(t *testing.T, s store.Store) {
	mustCreateDomain(t, s, "a.example")
	mustCreateDomain(t, s, "b.example")
	mustCreateDomain(t, s, "empty.example")
	for _, addr := range []string{"zed@a.example", "bob@b.example", "amy@a.example", "al@b.example"} {
		dom := addr[len(addr)-len("a.example"):]
		mustCreateMailbox(t, s, addr, dom)
	}
	for _, tc := range []struct {
		domain string
		want   []string
	}{
		{"", []string{"al@b.example", "amy@a.example", "bob@b.example", "zed@a.example"}},
		{"a.example", []string{"amy@a.example", "zed@a.example"}},
		{"b.example", []string{"al@b.example", "bob@b.example"}},
		{"empty.example", nil},
		{"missing.example", nil},
	} {
		ms, err := s.Mailboxes(t.Context(), tc.domain)
		noErr(t, err, "list mailboxes of "+tc.domain)
		var got []string
		for _, m := range ms {
			got = append(got, m.Address)
			if tc.domain != "" && m.Domain != tc.domain {
				t.Errorf("mailbox %s listed for %q has Domain %q", m.Address, tc.domain, m.Domain)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("mailboxes of %q: got %v, want %v", tc.domain, got, tc.want)
		}
	}
}

func testMailboxDelete(t *testing.T, s store.Store) {
	mustCreateDomain(t, s, "example.org")
	mustCreateMailbox(t, s, "alice@example.org", "example.org")
	keep := mustCreateMailbox(t, s, "bob@example.org", "example.org")
	noErr(t, s.DeleteMailbox(t.Context(), "alice@example.org"), "delete mailbox")
	_, err := s.Mailbox(t.Context(), "alice@example.org")
	wantErr(t, err, store.ErrNotFound, "read deleted mailbox")
	wantErr(t, s.DeleteMailbox(t.Context(), "alice@example.org"), store.ErrNotFound, "delete mailbox twice")
	ms, err := s.Mailboxes(t.Context(), "")
	noErr(t, err, "list mailboxes")
	if len(ms) != 1 || ms[0].ID != keep.ID {
		t.Fatalf("mailboxes after delete %+v, want only %s", ms, keep.Address)
	}
}

func testMailboxDeleteRemovesEntries(t *testing.T, s store.Store) {
	mustCreateDomain(t, s, "example.org")
	alice := mustCreateMailbox(t, s, "alice@example.org", "example.org")
	bob := mustCreateMailbox(t, s, "bob@example.org", "example.org")
	a := acceptance("Q1", alice, base, "bob@example.org")
	a.Delivered["bob@example.org"] = true
	a.Entries = append(a.Entries, store.FolderEntry{
		MailboxID: bob.ID, Folder: store.FolderInbox, MessageID: "Q1", Blob: "blob/Q1.delivery", Size: 1200, CreatedAt: base,
	})
	mustAccept(t, s, a)

	noErr(t, s.DeleteMailbox(t.Context(), alice.Address), "delete sender mailbox")
	es, err := s.FolderEntries(t.Context(), alice.ID, store.FolderSent)
	noErr(t, err, "list deleted mailbox's Sent Items")
	if len(es) != 0 {
		t.Fatalf("deleted mailbox still has Sent Items entries %+v", es)
	}
	es, err = s.FolderEntries(t.Context(), bob.ID, store.FolderInbox)
	noErr(t, err, "list recipient's Inbox")
	if len(es) != 1 {
		t.Fatalf("recipient's Inbox has %d entries after sender delete, want 1", len(es))
	}
	if _, err := s.Message(t.Context(), "Q1"); err != nil {
		t.Fatalf("message after its sender was deleted: %v", err)
	}
	rows, err := s.QueueRows(t.Context(), "Q1")
	noErr(t, err, "queue rows after sender delete")
	if len(rows) != 1 {
		t.Fatalf("queue rows after sender delete: %d, want 1", len(rows))
	}
}

func testVersionIncreases(t *testing.T, s store.Store) {
	ctx := t.Context()
	last := mustVersion(t, s)
	step := func(what string, err error) {
		t.Helper()
		noErr(t, err, what)
		v := mustVersion(t, s)
		if v <= last {
			t.Fatalf("directory version after %s is %d, was %d: want it to increase", what, v, last)
		}
		last = v
	}
	_, err := s.CreateDomain(ctx, "example.org", "")
	step("create domain", err)
	_, err = s.CreateDomain(ctx, "other.example", "")
	step("create second domain", err)
	m, err := s.CreateMailbox(ctx, store.Mailbox{Address: "alice@example.org", Domain: "example.org"})
	step("create mailbox", err)
	m.DisplayName = "Alice"
	step("update mailbox", s.UpdateMailbox(ctx, m))
	step("update mailbox unchanged", s.UpdateMailbox(ctx, m))
	step("delete mailbox", s.DeleteMailbox(ctx, m.Address))
	step("delete domain", s.DeleteDomain(ctx, "other.example"))
}

func testVersionUnchanged(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreateDomain(t, s, "example.org")
	alice := mustCreateMailbox(t, s, "alice@example.org", "example.org")
	before := mustVersion(t, s)

	_, _ = s.Domains(ctx)
	_, _ = s.Mailbox(ctx, alice.Address)
	_, _ = s.Mailboxes(ctx, "")
	_, _ = s.Mailboxes(ctx, "example.org")
	_, _ = s.DirectoryVersion(ctx)
	if _, err := s.CreateDomain(ctx, "example.org", ""); err == nil {
		t.Fatal("duplicate domain created")
	}
	if _, err := s.CreateMailbox(ctx, store.Mailbox{Address: "alice@example.org", Domain: "example.org"}); err == nil {
		t.Fatal("duplicate mailbox created")
	}
	if _, err := s.CreateMailbox(ctx, store.Mailbox{Address: "x@nowhere.example", Domain: "nowhere.example"}); err == nil {
		t.Fatal("mailbox created in missing domain")
	}
	if err := s.DeleteDomain(ctx, "example.org"); err == nil {
		t.Fatal("domain with mailbox deleted")
	}
	if err := s.UpdateMailbox(ctx, store.Mailbox{Address: "nobody@example.org"}); err == nil {
		t.Fatal("missing mailbox updated")
	}
	mustAccept(t, s, acceptance("Q1", alice, base, "rcpt@remote.example"))
	_, _ = s.Message(ctx, "Q1")
	_, _ = s.QueueRows(ctx, "")
	_, _ = s.FolderEntries(ctx, alice.ID, store.FolderSent)

	if after := mustVersion(t, s); after != before {
		t.Fatalf("directory version moved from %d to %d on reads, failed writes and Accept", before, after)
	}
}

// domainNames returns the names of ds in order.
func domainNames(ds []store.Domain) []string {
	var names []string
	for _, d := range ds {
		names = append(names, d.Name)
	}
	return names
}

// equalMailbox fails tb unless got and want are the same mailbox, comparing
// times as instants and an empty Networks equal to a nil one.
func equalMailbox(tb testing.TB, got, want store.Mailbox) {
	tb.Helper()
	same := got.ID == want.ID && got.Address == want.Address && got.Domain == want.Domain &&
		got.DisplayName == want.DisplayName && got.PasswordHash == want.PasswordHash &&
		got.SMTPAuth == want.SMTPAuth && got.Shared == want.Shared && got.IMAP == want.IMAP &&
		got.SaveSent == want.SaveSent && got.CopySentAs == want.CopySentAs &&
		got.CopySentOnBehalf == want.CopySentOnBehalf && got.SentRetention == want.SentRetention &&
		got.QuotaBytes == want.QuotaBytes && slices.Equal(got.Networks, want.Networks) &&
		got.Limits == want.Limits &&
		got.CreatedAt.Equal(want.CreatedAt) && got.UpdatedAt.Equal(want.UpdatedAt)
	if !same {
		tb.Fatalf("mailbox\n got %+v\nwant %+v", got, want)
	}
}
