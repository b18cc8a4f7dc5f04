package storetest

import (
	"slices"
	"testing"

	"mailroom/internal/store"
)

var oauthClientTests = []test{
	{"AddListRemove", testOAuthClientAddListRemove},
	{"AddMissingMailboxNotFound", testOAuthClientMissingMailbox},
	{"RemoveMissingNotFound", testOAuthClientRemoveMissing},
	{"MailboxDeletionRemovesPermission", testOAuthClientMailboxDeleted},
}

const issuer = "https://login.example.org/tenant/v2.0"

// testOAuthClientAddListRemove: adding creates the client or extends its
// mailboxes (one it has is kept), each write moves the directory version,
// and removing takes one permission or the whole client.
func testOAuthClientAddListRemove(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreateDomain(t, s, "example.org")
	for _, a := range []string{"alice@example.org", "bob@example.org", "carol@example.org"} {
		mustCreateMailbox(t, s, a, "example.org")
	}
	v0 := mustVersion(t, s)
	c, err := s.AddOAuthClient(ctx, issuer, "billing", []string{"bob@example.org", "alice@example.org"})
	noErr(t, err, "add client")
	if c.ID == 0 || c.Issuer != issuer || c.ClientID != "billing" || c.CreatedAt.IsZero() ||
		!slices.Equal(c.Mailboxes, []string{"alice@example.org", "bob@example.org"}) {
		t.Fatalf("added client = %+v", c)
	}
	c2, err := s.AddOAuthClient(ctx, issuer, "billing", []string{"bob@example.org", "carol@example.org"})
	noErr(t, err, "extend client")
	if c2.ID != c.ID || !c2.CreatedAt.Equal(c.CreatedAt) ||
		!slices.Equal(c2.Mailboxes, []string{"alice@example.org", "bob@example.org", "carol@example.org"}) {
		t.Fatalf("extended client = %+v, was %+v", c2, c)
	}
	// The same client id of another issuer is another client.
	_, err = s.AddOAuthClient(ctx, "https://other.example", "billing", []string{"carol@example.org"})
	noErr(t, err, "add client of another issuer")
	if v := mustVersion(t, s); v < v0+3 {
		t.Errorf("directory version %d after three adds from %d", v, v0)
	}
	cs, err := s.OAuthClients(ctx)
	noErr(t, err, "list clients")
	if len(cs) != 2 || cs[0].Issuer != issuer || cs[1].Issuer != "https://other.example" ||
		!slices.Equal(cs[0].Mailboxes, c2.Mailboxes) || !slices.Equal(cs[1].Mailboxes, []string{"carol@example.org"}) {
		t.Fatalf("clients = %+v", cs)
	}
	got, err := s.OAuthClient(ctx, issuer, "billing")
	noErr(t, err, "read client")
	if got.ID != c.ID || !slices.Equal(got.Mailboxes, c2.Mailboxes) {
		t.Fatalf("client = %+v", got)
	}

	v1 := mustVersion(t, s)
	noErr(t, s.RemoveOAuthClient(ctx, issuer, "billing", []string{"alice@example.org", "carol@example.org"}), "remove two mailboxes")
	got, err = s.OAuthClient(ctx, issuer, "billing")
	noErr(t, err, "read client")
	if !slices.Equal(got.Mailboxes, []string{"bob@example.org"}) {
		t.Fatalf("client after removing two mailboxes = %+v", got)
	}
	noErr(t, s.RemoveOAuthClient(ctx, issuer, "billing", []string{"bob@example.org"}), "remove the last mailbox")
	if got, err = s.OAuthClient(ctx, issuer, "billing"); err != nil || got.Mailboxes != nil {
		t.Fatalf("client without mailboxes = %+v, %v; want it kept, with none", got, err)
	}
	noErr(t, s.RemoveOAuthClient(ctx, issuer, "billing", nil), "remove client")
	_, err = s.OAuthClient(ctx, issuer, "billing")
	wantErr(t, err, store.ErrNotFound, "read removed client")
	if v := mustVersion(t, s); v < v1+3 {
		t.Errorf("directory version %d after three removals from %d", v, v1)
	}
	if cs, err := s.OAuthClients(ctx); err != nil || len(cs) != 1 || cs[0].Issuer != "https://other.example" {
		t.Fatalf("clients after removal = %+v, %v", cs, err)
	}
}

// testOAuthClientMissingMailbox: a mailbox that does not exist is not
// found, and nothing is written, not even the new client.
func testOAuthClientMissingMailbox(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreateDomain(t, s, "example.org")
	mustCreateMailbox(t, s, "alice@example.org", "example.org")
	v := mustVersion(t, s)
	_, err := s.AddOAuthClient(ctx, issuer, "billing", []string{"alice@example.org", "nobody@example.org"})
	wantErr(t, err, store.ErrNotFound, "add client with an unknown mailbox")
	_, err = s.OAuthClient(ctx, issuer, "billing")
	wantErr(t, err, store.ErrNotFound, "read client whose add failed")
	if got := mustVersion(t, s); got != v {
		t.Errorf("directory version moved from %d to %d on a failed add", v, got)
	}
}

// testOAuthClientRemoveMissing: removing an unknown client, or a mailbox
// the client does not have, is not found and changes nothing.
func testOAuthClientRemoveMissing(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustAddOAuthClient(t, s, "alice@example.org")
	v := mustVersion(t, s)
	wantErr(t, s.RemoveOAuthClient(ctx, issuer, "other", nil), store.ErrNotFound, "remove unknown client")
	wantErr(t, s.RemoveOAuthClient(ctx, "https://other.example", "billing", nil), store.ErrNotFound, "remove client of another issuer")
	wantErr(t, s.RemoveOAuthClient(ctx, issuer, "other", []string{"alice@example.org"}), store.ErrNotFound, "remove mailbox of unknown client")
	err := s.RemoveOAuthClient(ctx, issuer, "billing", []string{"alice@example.org", "bob@example.org"})
	wantErr(t, err, store.ErrNotFound, "remove a mailbox the client does not have")
	if c, err := s.OAuthClient(ctx, issuer, "billing"); err != nil || !slices.Equal(c.Mailboxes, []string{"alice@example.org"}) {
		t.Fatalf("client after failed removals = %+v, %v; want alice kept", c, err)
	}
	if got := mustVersion(t, s); got != v {
		t.Errorf("directory version moved from %d to %d on failed removals", v, got)
	}
}

// testOAuthClientMailboxDeleted: deleting a mailbox removes every
// client's permission to act as it, and a new mailbox of the same address
// does not inherit it.
func testOAuthClientMailboxDeleted(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustAddOAuthClient(t, s, "alice@example.org", "bob@example.org")
	noErr(t, s.DeleteMailbox(ctx, "alice@example.org"), "delete mailbox")
	mustCreateMailbox(t, s, "alice@example.org", "example.org")
	c, err := s.OAuthClient(ctx, issuer, "billing")
	noErr(t, err, "read client")
	if !slices.Equal(c.Mailboxes, []string{"bob@example.org"}) {
		t.Fatalf("client after alice's mailbox went = %+v, want bob only", c)
	}
}

// mustAddOAuthClient creates example.org with alice and bob and the client
// "billing" of issuer acting as mailboxes.
func mustAddOAuthClient(tb testing.TB, s store.Store, mailboxes ...string) {
	tb.Helper()
	mustCreateDomain(tb, s, "example.org")
	mustCreateMailbox(tb, s, "alice@example.org", "example.org")
	mustCreateMailbox(tb, s, "bob@example.org", "example.org")
	_, err := s.AddOAuthClient(tb.Context(), issuer, "billing", mailboxes)
	noErr(tb, err, "add client")
}
