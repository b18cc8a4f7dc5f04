package storetest

import (
	"slices"
	"testing"
	"time"

	"mailroom/internal/store"
)

var aliasTests = []test{
	{"AddListRemove", testAliasAddListRemove},
	{"AddMissingMailboxNotFound", testAliasMissingMailbox},
	{"AddMailboxAddressConflict", testAliasIsMailboxConflict},
	{"AddDuplicateConflict", testAliasDuplicate},
	{"CreateMailboxOnAliasConflict", testMailboxOnAliasConflict},
	{"RemoveMissingNotFound", testAliasRemoveMissing},
	{"RemoveDropsGrantsOnIt", testAliasRemoveDropsGrants},
}

var grantTests = []test{
	{"AddListRemove", testGrantAddListRemove},
	{"AddMissingGranteeNotFound", testGrantMissingGrantee},
	{"AddDuplicateConflict", testGrantDuplicate},
	{"RemoveMissingNotFound", testGrantRemoveMissing},
	{"FullAccessBesideSending", testGrantFullAccess},
}

var appPasswordTests = []test{
	{"AddList", testAppPasswordAddList},
	{"AddMissingMailboxNotFound", testAppPasswordMissingMailbox},
	{"AddDuplicateLabelConflict", testAppPasswordDuplicate},
	{"Revoke", testAppPasswordRevoke},
	{"Touch", testAppPasswordTouch},
	{"SetNetworks", testAppPasswordSetNetworks},
}

func testDomainCreateDefaults(t *testing.T, s store.Store) {
	d := mustCreateDomain(t, s, "example.org")
	want := store.Domain{ID: d.ID, Name: "example.org", DisplayName: store.DisplayNameClient, Role: store.DomainHosted, CreatedAt: d.CreatedAt}
	equalDomain(t, d, want)
	ds, err := s.Domains(t.Context())
	noErr(t, err, "list domains")
	if len(ds) != 1 {
		t.Fatalf("listed %d domains, want 1", len(ds))
	}
	equalDomain(t, ds[0], want)

	// A relay domain is created relay, in one directory change.
	v, err := s.DirectoryVersion(t.Context())
	noErr(t, err, "directory version")
	r, err := s.CreateDomain(t.Context(), "relay.example", store.DomainRelay)
	noErr(t, err, "create relay domain")
	after, err := s.DirectoryVersion(t.Context())
	noErr(t, err, "directory version")
	if after != v+1 {
		t.Errorf("creating a relay domain made %d directory versions, want 1", after-v)
	}
	ds, err = s.Domains(t.Context())
	noErr(t, err, "list domains")
	if len(ds) != 2 || ds[1].Role != store.DomainRelay || r.Role != store.DomainRelay {
		t.Fatalf("domains %+v (created %+v), want relay.example relay", ds, r)
	}
	if _, err := s.CreateDomain(t.Context(), "odd.example", "mirror"); err == nil {
		t.Error("created a domain with the role \"mirror\"")
	}
}

func testDomainUpdate(t *testing.T, s store.Store) {
	a := mustCreateDomain(t, s, "a.example")
	b := mustCreateDomain(t, s, "b.example")
	upd := a
	upd.DisplayName = store.DisplayNameDirectory
	upd.Role = store.DomainRelay
	upd.Networks = []string{"192.0.2.0/24", "2001:db8::/32"}
	upd.Limits = store.Limits{Concurrent: 3, MessagesPerMinute: 60, RecipientsPerMessage: 100, RecipientsPerDay: 2000}
	noErr(t, s.UpdateDomain(t.Context(), upd), "update domain")
	ds, err := s.Domains(t.Context())
	noErr(t, err, "list domains")
	if len(ds) != 2 {
		t.Fatalf("listed %d domains, want 2", len(ds))
	}
	equalDomain(t, ds[0], upd)
	equalDomain(t, ds[1], b)

	// Back to the defaults.
	upd.DisplayName, upd.Role, upd.Networks, upd.Limits = store.DisplayNameClient, store.DomainHosted, nil, store.Limits{}
	noErr(t, s.UpdateDomain(t.Context(), upd), "reset domain")
	ds, err = s.Domains(t.Context())
	noErr(t, err, "list domains")
	equalDomain(t, ds[0], upd)
}

func testDomainUpdateMissing(t *testing.T, s store.Store) {
	mustCreateDomain(t, s, "example.org")
	err := s.UpdateDomain(t.Context(), store.Domain{Name: "nowhere.example", DisplayName: store.DisplayNameDirectory})
	wantErr(t, err, store.ErrNotFound, "update missing domain")
}

func testMailboxCreateAsGiven(t *testing.T, s store.Store) {
	mustCreateDomain(t, s, "example.org")
	// The store writes what it is given: a zero Mailbox keeps no Sent copy.
	m, err := s.CreateMailbox(t.Context(), store.Mailbox{Address: "bare@example.org", Domain: "example.org"})
	noErr(t, err, "create bare mailbox")
	read, err := s.Mailbox(t.Context(), m.Address)
	noErr(t, err, "read bare mailbox")
	equalMailbox(t, read, m)
	if read.SaveSent || read.CopySentAs || read.CopySentOnBehalf || read.SentRetention != 0 ||
		read.QuotaBytes != 0 || len(read.Networks) != 0 || read.Limits != (store.Limits{}) {
		t.Fatalf("mailbox created with zero settings reads back %+v", read)
	}
	login := mustCreateMailbox(t, s, "alice@example.org", "example.org")
	read, err = s.Mailbox(t.Context(), login.Address)
	noErr(t, err, "read login mailbox")
	if !read.SaveSent {
		t.Fatalf("mailbox created with SaveSent reads back %+v", read)
	}
}

func testMailboxDeleteCleansUp(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreateDomain(t, s, "example.org")
	alice := mustCreateMailbox(t, s, "alice@example.org", "example.org")
	mustCreateMailbox(t, s, "bob@example.org", "example.org")
	mustCreateMailbox(t, s, "carol@example.org", "example.org")
	noErr(t, s.AddAlias(ctx, "alice@example.org", "al@example.org"), "add alias")
	noErr(t, s.AddAlias(ctx, "alice@example.org", "a.l@example.org"), "add alias")
	noErr(t, s.AddAlias(ctx, "bob@example.org", "b@example.org"), "add alias")
	for _, g := range []store.Grant{
		{Kind: store.GrantSendAs, On: "support@example.org", Grantee: "alice@example.org"},     // held by alice
		{Kind: store.GrantSendAs, On: "alice@example.org", Grantee: "bob@example.org"},         // on alice
		{Kind: store.GrantSendOnBehalf, On: "alice@example.org", Grantee: "carol@example.org"}, // on alice
		{Kind: store.GrantSendOnBehalf, On: "@example.org", Grantee: "bob@example.org"},
		{Kind: store.GrantSendAs, On: "bob@example.org", Grantee: "carol@example.org"},
		{Kind: store.GrantSendAs, On: "al@example.org", Grantee: "carol@example.org"}, // on alice's alias
	} {
		mustAddGrant(t, s, g)
	}
	mustAddAppPassword(t, s, "alice@example.org", "phone")
	mustAddAppPassword(t, s, "alice@example.org", "laptop")
	mustAddAppPassword(t, s, "bob@example.org", "phone")

	noErr(t, s.DeleteMailbox(ctx, alice.Address), "delete mailbox")

	as, err := s.Aliases(ctx)
	noErr(t, err, "list aliases")
	if got, want := aliasStrings(as), []string{"b@example.org>bob@example.org"}; !slices.Equal(got, want) {
		t.Errorf("aliases after delete %v, want %v", got, want)
	}
	gs, err := s.Grants(ctx)
	noErr(t, err, "list grants")
	want := []string{
		"send-on-behalf @example.org bob@example.org",
		"send-as bob@example.org carol@example.org",
	}
	if got := grantStrings(gs); !slices.Equal(got, want) {
		t.Errorf("grants after delete %v, want %v", got, want)
	}
	ps, err := s.AppPasswords(ctx, "")
	noErr(t, err, "list app passwords")
	if got, want := appPasswordStrings(ps), []string{"bob@example.org phone"}; !slices.Equal(got, want) {
		t.Errorf("app passwords after delete %v, want %v", got, want)
	}

	// The addresses are free again, and a new alice inherits nothing.
	mustCreateMailbox(t, s, "al@example.org", "example.org")
	mustCreateMailbox(t, s, "alice@example.org", "example.org")
	ps, err = s.AppPasswords(ctx, "alice@example.org")
	noErr(t, err, "list new alice's app passwords")
	if len(ps) != 0 {
		t.Errorf("recreated mailbox has app passwords %v", appPasswordStrings(ps))
	}
	gs, err = s.Grants(ctx)
	noErr(t, err, "list grants")
	if got := grantStrings(gs); !slices.Equal(got, want) {
		t.Errorf("grants after recreate %v, want %v", got, want)
	}
}

func testAliasAddListRemove(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s)
	as, err := s.Aliases(ctx)
	noErr(t, err, "list aliases of a store without any")
	if len(as) != 0 {
		t.Fatalf("aliases %v, want none", as)
	}
	noErr(t, s.AddAlias(ctx, "alice@example.org", "zz@example.org"), "add alias")
	noErr(t, s.AddAlias(ctx, "bob@example.org", "aa@example.org"), "add alias")
	noErr(t, s.AddAlias(ctx, "alice@example.org", "mm@example.org"), "add alias")
	as, err = s.Aliases(ctx)
	noErr(t, err, "list aliases")
	want := []string{"aa@example.org>bob@example.org", "mm@example.org>alice@example.org", "zz@example.org>alice@example.org"}
	if got := aliasStrings(as); !slices.Equal(got, want) {
		t.Fatalf("aliases %v, want %v (by address)", got, want)
	}
	noErr(t, s.RemoveAlias(ctx, "mm@example.org"), "remove alias")
	wantErr(t, s.RemoveAlias(ctx, "mm@example.org"), store.ErrNotFound, "remove alias twice")
	as, err = s.Aliases(ctx)
	noErr(t, err, "list aliases")
	want = []string{"aa@example.org>bob@example.org", "zz@example.org>alice@example.org"}
	if got := aliasStrings(as); !slices.Equal(got, want) {
		t.Fatalf("aliases after remove %v, want %v", got, want)
	}
	// A removed alias can be given to another mailbox.
	noErr(t, s.AddAlias(ctx, "bob@example.org", "mm@example.org"), "re-add alias to another mailbox")
}

func testAliasMissingMailbox(t *testing.T, s store.Store) {
	setup(t, s)
	wantErr(t, s.AddAlias(t.Context(), "nobody@example.org", "x@example.org"), store.ErrNotFound, "alias of a missing mailbox")
	as, err := s.Aliases(t.Context())
	noErr(t, err, "list aliases")
	if len(as) != 0 {
		t.Fatalf("aliases after refused add %v", as)
	}
}

func testAliasIsMailboxConflict(t *testing.T, s store.Store) {
	setup(t, s)
	wantErr(t, s.AddAlias(t.Context(), "alice@example.org", "bob@example.org"), store.ErrConflict, "alias on another mailbox's address")
	wantErr(t, s.AddAlias(t.Context(), "alice@example.org", "alice@example.org"), store.ErrConflict, "alias on its own address")
	as, err := s.Aliases(t.Context())
	noErr(t, err, "list aliases")
	if len(as) != 0 {
		t.Fatalf("aliases after refused adds %v", as)
	}
}

func testAliasDuplicate(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s)
	noErr(t, s.AddAlias(ctx, "alice@example.org", "x@example.org"), "add alias")
	wantErr(t, s.AddAlias(ctx, "bob@example.org", "x@example.org"), store.ErrConflict, "alias of another mailbox")
	wantErr(t, s.AddAlias(ctx, "alice@example.org", "x@example.org"), store.ErrConflict, "same alias twice")
	as, err := s.Aliases(ctx)
	noErr(t, err, "list aliases")
	if got, want := aliasStrings(as), []string{"x@example.org>alice@example.org"}; !slices.Equal(got, want) {
		t.Fatalf("aliases after refused adds %v, want %v", got, want)
	}
}

func testMailboxOnAliasConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s)
	noErr(t, s.AddAlias(ctx, "alice@example.org", "help@example.org"), "add alias")
	_, err := s.CreateMailbox(ctx, store.Mailbox{Address: "help@example.org", Domain: "example.org"})
	wantErr(t, err, store.ErrConflict, "create mailbox on an alias")
	_, err = s.Mailbox(ctx, "help@example.org")
	wantErr(t, err, store.ErrNotFound, "read refused mailbox")
	noErr(t, s.RemoveAlias(ctx, "help@example.org"), "remove alias")
	mustCreateMailbox(t, s, "help@example.org", "example.org")
}

func testAliasRemoveDropsGrants(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreateDomain(t, s, "example.org")
	mustCreateMailbox(t, s, "alice@example.org", "example.org")
	mustCreateMailbox(t, s, "bob@example.org", "example.org")
	noErr(t, s.AddAlias(ctx, "alice@example.org", "sales@example.org"), "add alias")
	mustAddGrant(t, s, store.Grant{Kind: store.GrantSendAs, On: "sales@example.org", Grantee: "bob@example.org"})
	mustAddGrant(t, s, store.Grant{Kind: store.GrantSendAs, On: "alice@example.org", Grantee: "bob@example.org"})
	noErr(t, s.RemoveAlias(ctx, "sales@example.org"), "remove alias")
	gs, err := s.Grants(ctx)
	noErr(t, err, "list grants")
	if got, want := grantStrings(gs), []string{"send-as alice@example.org bob@example.org"}; !slices.Equal(got, want) {
		t.Errorf("grants after removing the alias %v, want %v", got, want)
	}
}

func testAliasRemoveMissing(t *testing.T, s store.Store) {
	setup(t, s)
	wantErr(t, s.RemoveAlias(t.Context(), "nothing@example.org"), store.ErrNotFound, "remove missing alias")
	wantErr(t, s.RemoveAlias(t.Context(), "alice@example.org"), store.ErrNotFound, "remove a mailbox address as alias")
}

func testGrantAddListRemove(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s)
	mustCreateMailbox(t, s, "app@example.org", "example.org")
	gs, err := s.Grants(ctx)
	noErr(t, err, "list grants of a store without any")
	if len(gs) != 0 {
		t.Fatalf("grants %v, want none", grantStrings(gs))
	}
	in := []store.Grant{
		{Kind: store.GrantSendOnBehalf, On: "support@example.org", Grantee: "bob@example.org"},
		{Kind: store.GrantSendAs, On: "support@example.org", Grantee: "bob@example.org"},
		{Kind: store.GrantSendAs, On: "support@example.org", Grantee: "alice@example.org"},
		{Kind: store.GrantSendAs, On: "@notify.example", Grantee: "app@example.org"},
		{Kind: store.GrantSendAs, On: "alice@example.org", Grantee: "app@example.org"},
	}
	ids := map[int64]bool{}
	for _, g := range in {
		got := mustAddGrant(t, s, g)
		if got.ID == 0 || ids[got.ID] || got.CreatedAt.IsZero() {
			t.Fatalf("add grant returned %+v, want a new ID and CreatedAt", got)
		}
		ids[got.ID] = true
		if got.Kind != g.Kind || got.On != g.On || got.Grantee != g.Grantee {
			t.Fatalf("add grant returned %+v, want %+v", got, g)
		}
	}
	gs, err = s.Grants(ctx)
	noErr(t, err, "list grants")
	want := []string{
		"send-as @notify.example app@example.org",
		"send-as alice@example.org app@example.org",
		"send-as support@example.org alice@example.org",
		"send-as support@example.org bob@example.org",
		"send-on-behalf support@example.org bob@example.org",
	}
	if got := grantStrings(gs); !slices.Equal(got, want) {
		t.Fatalf("grants %v, want %v (by On, Grantee, Kind)", got, want)
	}
	for _, g := range gs {
		if !ids[g.ID] || g.CreatedAt.IsZero() {
			t.Errorf("listed grant %+v: ID not one returned by AddGrant, or no CreatedAt", g)
		}
	}

	// RemoveGrant matches Kind, On and Grantee, whatever the ID.
	noErr(t, s.RemoveGrant(ctx, store.Grant{Kind: store.GrantSendAs, On: "support@example.org", Grantee: "bob@example.org"}), "remove grant")
	wantErr(t, s.RemoveGrant(ctx, store.Grant{Kind: store.GrantSendAs, On: "support@example.org", Grantee: "bob@example.org"}),
		store.ErrNotFound, "remove grant twice")
	gs, err = s.Grants(ctx)
	noErr(t, err, "list grants")
	want = slices.Delete(want, 3, 4)
	if got := grantStrings(gs); !slices.Equal(got, want) {
		t.Fatalf("grants after remove %v, want %v", got, want)
	}
}

func testGrantMissingGrantee(t *testing.T, s store.Store) {
	setup(t, s)
	_, err := s.AddGrant(t.Context(), store.Grant{Kind: store.GrantSendAs, On: "alice@example.org", Grantee: "nobody@example.org"})
	wantErr(t, err, store.ErrNotFound, "grant to a missing mailbox")
	gs, err := s.Grants(t.Context())
	noErr(t, err, "list grants")
	if len(gs) != 0 {
		t.Fatalf("grants after refused add %v", grantStrings(gs))
	}
}

func testGrantDuplicate(t *testing.T, s store.Store) {
	setup(t, s)
	g := store.Grant{Kind: store.GrantSendAs, On: "alice@example.org", Grantee: "bob@example.org"}
	first := mustAddGrant(t, s, g)
	_, err := s.AddGrant(t.Context(), g)
	wantErr(t, err, store.ErrConflict, "same grant twice")
	// The other kind is another grant.
	g.Kind = store.GrantSendOnBehalf
	mustAddGrant(t, s, g)
	gs, err := s.Grants(t.Context())
	noErr(t, err, "list grants")
	if len(gs) != 2 || gs[0].ID != first.ID {
		t.Fatalf("grants after duplicate add %v, want the first send-as and the send-on-behalf", grantStrings(gs))
	}
}

func testGrantRemoveMissing(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s)
	mustAddGrant(t, s, store.Grant{Kind: store.GrantSendAs, On: "alice@example.org", Grantee: "bob@example.org"})
	for _, g := range []store.Grant{
		{Kind: store.GrantSendOnBehalf, On: "alice@example.org", Grantee: "bob@example.org"},
		{Kind: store.GrantSendAs, On: "bob@example.org", Grantee: "bob@example.org"},
		{Kind: store.GrantSendAs, On: "alice@example.org", Grantee: "alice@example.org"},
		{Kind: store.GrantSendAs, On: "alice@example.org", Grantee: "nobody@example.org"},
	} {
		wantErr(t, s.RemoveGrant(ctx, g), store.ErrNotFound, "remove missing grant "+grantString(g))
	}
	gs, err := s.Grants(ctx)
	noErr(t, err, "list grants")
	if len(gs) != 1 {
		t.Fatalf("grants after refused removes %v, want the one", grantStrings(gs))
	}
}

func testAppPasswordAddList(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s)
	ps, err := s.AppPasswords(ctx, "")
	noErr(t, err, "list app passwords of a store without any")
	if len(ps) != 0 {
		t.Fatalf("app passwords %v, want none", appPasswordStrings(ps))
	}
	in := store.AppPassword{
		Mailbox:      "alice@example.org",
		Label:        "printer-3f",
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$YXBw$cHJpbnRlcg",
		Networks:     []string{"192.0.2.10/32", "2001:db8::/64"},
	}
	got, err := s.AddAppPassword(ctx, in)
	noErr(t, err, "add app password")
	if got.ID == 0 || got.CreatedAt.IsZero() || !got.LastUsedAt.IsZero() || got.LastUsedFrom != "" {
		t.Fatalf("add app password returned %+v, want ID and CreatedAt set, never used", got)
	}
	in.ID, in.CreatedAt = got.ID, got.CreatedAt
	equalAppPassword(t, got, in)
	mustAddAppPassword(t, s, "bob@example.org", "laptop")
	mustAddAppPassword(t, s, "alice@example.org", "car")
	mustAddAppPassword(t, s, "bob@example.org", "a-phone")

	ps, err = s.AppPasswords(ctx, "")
	noErr(t, err, "list all app passwords")
	want := []string{"alice@example.org car", "alice@example.org printer-3f", "bob@example.org a-phone", "bob@example.org laptop"}
	if got := appPasswordStrings(ps); !slices.Equal(got, want) {
		t.Fatalf("all app passwords %v, want %v (by mailbox, then label)", got, want)
	}
	equalAppPassword(t, ps[1], in)
	ps, err = s.AppPasswords(ctx, "alice@example.org")
	noErr(t, err, "list alice's app passwords")
	if got := appPasswordStrings(ps); !slices.Equal(got, want[:2]) {
		t.Fatalf("alice's app passwords %v, want %v", got, want[:2])
	}
	equalAppPassword(t, ps[1], in)
	ps, err = s.AppPasswords(ctx, "nobody@example.org")
	noErr(t, err, "list a missing mailbox's app passwords")
	if len(ps) != 0 {
		t.Fatalf("missing mailbox has app passwords %v", appPasswordStrings(ps))
	}
}

func testAppPasswordMissingMailbox(t *testing.T, s store.Store) {
	setup(t, s)
	_, err := s.AddAppPassword(t.Context(), store.AppPassword{Mailbox: "nobody@example.org", Label: "x", PasswordHash: "h"})
	wantErr(t, err, store.ErrNotFound, "app password of a missing mailbox")
}

func testAppPasswordDuplicate(t *testing.T, s store.Store) {
	setup(t, s)
	first := mustAddAppPassword(t, s, "alice@example.org", "phone")
	_, err := s.AddAppPassword(t.Context(), store.AppPassword{Mailbox: "alice@example.org", Label: "phone", PasswordHash: "other"})
	wantErr(t, err, store.ErrConflict, "same label twice")
	mustAddAppPassword(t, s, "bob@example.org", "phone") // labels are per mailbox
	ps, err := s.AppPasswords(t.Context(), "alice@example.org")
	noErr(t, err, "list app passwords")
	if len(ps) != 1 {
		t.Fatalf("alice has %d app passwords, want 1", len(ps))
	}
	equalAppPassword(t, ps[0], first)
}

func testAppPasswordRevoke(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s)
	mustAddAppPassword(t, s, "alice@example.org", "phone")
	mustAddAppPassword(t, s, "alice@example.org", "car")
	mustAddAppPassword(t, s, "bob@example.org", "phone")
	noErr(t, s.RevokeAppPassword(ctx, "alice@example.org", "phone"), "revoke")
	wantErr(t, s.RevokeAppPassword(ctx, "alice@example.org", "phone"), store.ErrNotFound, "revoke twice")
	wantErr(t, s.RevokeAppPassword(ctx, "nobody@example.org", "phone"), store.ErrNotFound, "revoke of a missing mailbox")
	ps, err := s.AppPasswords(ctx, "")
	noErr(t, err, "list app passwords")
	if got, want := appPasswordStrings(ps), []string{"alice@example.org car", "bob@example.org phone"}; !slices.Equal(got, want) {
		t.Fatalf("app passwords after revoke %v, want %v", got, want)
	}
}

func testAppPasswordTouch(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s)
	p := mustAddAppPassword(t, s, "alice@example.org", "phone")
	other := mustAddAppPassword(t, s, "alice@example.org", "car")
	for _, use := range []struct {
		at   time.Time
		from string
	}{{base, "192.0.2.10"}, {base.Add(time.Hour), "2001:db8::1"}} {
		noErr(t, s.TouchAppPassword(ctx, p.ID, use.at, use.from), "touch app password")
		ps, err := s.AppPasswords(ctx, "alice@example.org")
		noErr(t, err, "list app passwords")
		want := p
		want.LastUsedAt, want.LastUsedFrom = use.at, use.from
		equalAppPassword(t, ps[1], want)
		equalAppPassword(t, ps[0], other)
	}
	wantErr(t, s.TouchAppPassword(ctx, p.ID+other.ID+100, base, "192.0.2.10"), store.ErrNotFound, "touch missing app password")
}

func testVersionSenderWrites(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s)
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
	step("update domain", s.UpdateDomain(ctx, store.Domain{Name: "example.org", DisplayName: store.DisplayNameDirectory}))
	step("update domain unchanged", s.UpdateDomain(ctx, store.Domain{Name: "example.org", DisplayName: store.DisplayNameDirectory}))
	step("add alias", s.AddAlias(ctx, "alice@example.org", "al@example.org"))
	step("remove alias", s.RemoveAlias(ctx, "al@example.org"))
	g := store.Grant{Kind: store.GrantSendAs, On: "alice@example.org", Grantee: "bob@example.org"}
	_, err := s.AddGrant(ctx, g)
	step("add grant", err)
	step("remove grant", s.RemoveGrant(ctx, g))
	_, err = s.AddAppPassword(ctx, store.AppPassword{Mailbox: "alice@example.org", Label: "phone", PasswordHash: "h"})
	step("add app password", err)
	step("set app password networks", s.SetAppPasswordNetworks(ctx, "alice@example.org", "phone", []string{"192.0.2.0/24"}))
	step("revoke app password", s.RevokeAppPassword(ctx, "alice@example.org", "phone"))
}

func testVersionSenderUnchanged(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, _ := setup(t, s)
	noErr(t, s.AddAlias(ctx, "alice@example.org", "al@example.org"), "add alias")
	g := mustAddGrant(t, s, store.Grant{Kind: store.GrantSendAs, On: "x@example.org", Grantee: "bob@example.org"})
	p := mustAddAppPassword(t, s, "alice@example.org", "phone")
	mustAccept(t, s, acceptance("Q1", alice, base, "rcpt@remote.example"))
	before := mustVersion(t, s)

	noErr(t, s.TouchAppPassword(ctx, p.ID, base, "192.0.2.1"), "touch app password")
	_, _ = s.Aliases(ctx)
	_, _ = s.Grants(ctx)
	_, _ = s.AppPasswords(ctx, "")
	_, _ = s.AppPasswords(ctx, "alice@example.org")
	fail := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s succeeded", what)
		}
	}
	fail("update missing domain", s.UpdateDomain(ctx, store.Domain{Name: "nowhere.example"}))
	fail("alias of missing mailbox", s.AddAlias(ctx, "nobody@example.org", "n@example.org"))
	fail("alias on a mailbox", s.AddAlias(ctx, "alice@example.org", "bob@example.org"))
	fail("duplicate alias", s.AddAlias(ctx, "bob@example.org", "al@example.org"))
	_, err := s.CreateMailbox(ctx, store.Mailbox{Address: "al@example.org", Domain: "example.org"})
	fail("mailbox on an alias", err)
	fail("remove missing alias", s.RemoveAlias(ctx, "none@example.org"))
	_, err = s.AddGrant(ctx, g)
	fail("duplicate grant", err)
	_, err = s.AddGrant(ctx, store.Grant{Kind: store.GrantSendAs, On: "x@example.org", Grantee: "nobody@example.org"})
	fail("grant to missing mailbox", err)
	fail("remove missing grant", s.RemoveGrant(ctx, store.Grant{Kind: store.GrantSendOnBehalf, On: g.On, Grantee: g.Grantee}))
	_, err = s.AddAppPassword(ctx, store.AppPassword{Mailbox: "alice@example.org", Label: "phone", PasswordHash: "h"})
	fail("duplicate app password", err)
	_, err = s.AddAppPassword(ctx, store.AppPassword{Mailbox: "nobody@example.org", Label: "phone", PasswordHash: "h"})
	fail("app password of missing mailbox", err)
	fail("revoke missing app password", s.RevokeAppPassword(ctx, "alice@example.org", "car"))
	fail("set networks of a missing app password", s.SetAppPasswordNetworks(ctx, "alice@example.org", "car", nil))
	fail("touch missing app password", s.TouchAppPassword(ctx, p.ID+100, base, "192.0.2.1"))

	// Message-side writes are not directory changes either.
	_, err = s.MailboxUsage(ctx, alice.ID)
	noErr(t, err, "mailbox usage")
	_, err = s.ExpireFolderEntries(ctx, alice.ID, store.FolderSent, base.Add(time.Hour))
	noErr(t, err, "expire folder entries")
	_, err = s.DeleteUnreferenced(ctx, 10)
	noErr(t, err, "delete unreferenced")
	_, err = s.SubmissionLog(ctx, base)
	noErr(t, err, "submission log")
	noErr(t, s.PruneSubmissionLog(ctx, base.Add(time.Hour)), "prune submission log")

	if after := mustVersion(t, s); after != before {
		t.Fatalf("directory version moved from %d to %d on a touch, reads, failed writes and message writes", before, after)
	}
}

// mustAddGrant adds g.
func mustAddGrant(tb testing.TB, s store.Store, g store.Grant) store.Grant {
	tb.Helper()
	out, err := s.AddGrant(tb.Context(), g)
	noErr(tb, err, "add grant "+grantString(g))
	return out
}

// mustAddAppPassword adds an app password labelled label to mailbox.
func mustAddAppPassword(tb testing.TB, s store.Store, mailbox, label string) store.AppPassword {
	tb.Helper()
	p, err := s.AddAppPassword(tb.Context(), store.AppPassword{
		Mailbox:      mailbox,
		Label:        label,
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$" + label,
	})
	noErr(tb, err, "add app password "+mailbox+" "+label)
	return p
}

// aliasStrings returns "address>mailbox" of each alias, in order.
func aliasStrings(as []store.Alias) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Address+">"+a.Mailbox)
	}
	return out
}

// grantString returns "kind on grantee".
func grantString(g store.Grant) string { return g.Kind + " " + g.On + " " + g.Grantee }

// grantStrings returns grantString of each grant, in order.
func grantStrings(gs []store.Grant) []string {
	var out []string
	for _, g := range gs {
		out = append(out, grantString(g))
	}
	return out
}

// appPasswordStrings returns "mailbox label" of each app password, in order.
func appPasswordStrings(ps []store.AppPassword) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Mailbox+" "+p.Label)
	}
	return out
}

// equalDomain fails tb unless got and want are the same domain.
func equalDomain(tb testing.TB, got, want store.Domain) {
	tb.Helper()
	same := got.ID == want.ID && got.Name == want.Name && got.DisplayName == want.DisplayName &&
		got.Role == want.Role && slices.Equal(got.Networks, want.Networks) && got.Limits == want.Limits &&
		got.CreatedAt.Equal(want.CreatedAt)
	if !same {
		tb.Fatalf("domain\n got %+v\nwant %+v", got, want)
	}
}

// equalAppPassword fails tb unless got and want are the same app password.
func equalAppPassword(tb testing.TB, got, want store.AppPassword) {
	tb.Helper()
	same := got.ID == want.ID && got.Mailbox == want.Mailbox && got.Label == want.Label &&
		got.PasswordHash == want.PasswordHash && slices.Equal(got.Networks, want.Networks) &&
		got.CreatedAt.Equal(want.CreatedAt) && got.LastUsedAt.Equal(want.LastUsedAt) &&
		got.LastUsedFrom == want.LastUsedFrom
	if !same {
		tb.Fatalf("app password\n got %+v\nwant %+v", got, want)
	}
}

// testAppPasswordSetNetworks: the networks of one app password change
// (and clear) in place; its hash, id and the other app passwords stay.
func testAppPasswordSetNetworks(t *testing.T, s store.Store) {
	ctx := t.Context()
	setup(t, s)
	p := mustAddAppPassword(t, s, "alice@example.org", "phone")
	other := mustAddAppPassword(t, s, "alice@example.org", "car")
	bobs := mustAddAppPassword(t, s, "bob@example.org", "phone")
	for _, nets := range [][]string{{"192.0.2.0/24", "2001:db8::/32"}, nil} {
		noErr(t, s.SetAppPasswordNetworks(ctx, "alice@example.org", "phone", nets), "set networks")
		ps, err := s.AppPasswords(ctx, "")
		noErr(t, err, "list app passwords")
		want := p
		want.Networks = nets
		if len(ps) != 3 {
			t.Fatalf("%d app passwords, want 3", len(ps))
		}
		equalAppPassword(t, ps[0], other)
		equalAppPassword(t, ps[1], want)
		equalAppPassword(t, ps[2], bobs)
	}
	wantErr(t, s.SetAppPasswordNetworks(ctx, "alice@example.org", "laptop", nil), store.ErrNotFound, "set networks of a missing label")
	wantErr(t, s.SetAppPasswordNetworks(ctx, "nobody@example.org", "phone", nil), store.ErrNotFound, "set networks of a missing mailbox")
}

// testGrantFullAccess: a full-access grant is a third kind beside the
// sending ones on the same target and grantee, listed and removed alone.
func testGrantFullAccess(t *testing.T, s store.Store) {
	setup(t, s)
	ctx := t.Context()
	full := store.Grant{Kind: store.GrantFullAccess, On: "alice@example.org", Grantee: "bob@example.org"}
	mustAddGrant(t, s, store.Grant{Kind: store.GrantSendAs, On: "alice@example.org", Grantee: "bob@example.org"})
	mustAddGrant(t, s, full)
	_, err := s.AddGrant(ctx, full)
	wantErr(t, err, store.ErrConflict, "same full-access grant twice")
	gs, err := s.Grants(ctx)
	noErr(t, err, "list grants")
	if len(gs) != 2 || gs[0].Kind != store.GrantFullAccess || gs[1].Kind != store.GrantSendAs {
		t.Fatalf("grants %v, want full-access and send-as on alice@", grantStrings(gs))
	}
	noErr(t, s.RemoveGrant(ctx, full), "remove full access")
	gs, err = s.Grants(ctx)
	noErr(t, err, "list grants")
	if len(gs) != 1 || gs[0].Kind != store.GrantSendAs {
		t.Fatalf("grants after removing full access %v, want the send-as alone", grantStrings(gs))
	}
}
