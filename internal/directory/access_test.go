package directory

import (
	"context"
	"testing"

	"mailroom/internal/policy"
	"mailroom/internal/store"
)

// TestSnapshot_FullAccess: a full-access grant lets its holder open the
// target mailbox and nothing else: it is no sending grant.
func TestSnapshot_FullAccess(t *testing.T) {
	d := openAddresses(t, Options{PlusSeparator: "+"}, []string{"alice@example.com", "support@example.com", "sales@example.com"}, nil)
	ctx := context.Background()
	for _, g := range []store.Grant{
		{Kind: store.GrantFullAccess, On: "support@example.com", Grantee: "alice@example.com"},
		{Kind: store.GrantFullAccess, On: "sales@example.com", Grantee: "alice@example.com"},
		{Kind: store.GrantSendAs, On: "sales@example.com", Grantee: "alice@example.com"},
	} {
		if _, err := d.st.AddGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	s := d.Snapshot()
	alice, _ := s.Mailbox("alice@example.com")
	support, _ := s.Mailbox("support@example.com")
	var opens []string
	for _, m := range s.FullAccess(alice.ID) {
		opens = append(opens, m.Address)
	}
	if len(opens) != 2 || opens[0] != "sales@example.com" || opens[1] != "support@example.com" {
		t.Errorf("alice opens %v, want sales@ and support@", opens)
	}
	if got := s.FullAccess(support.ID); len(got) != 0 {
		t.Errorf("support opens %d mailboxes, want none", len(got))
	}
	sender := s.Sender(alice)
	if v, _ := sender.Via("support@example.com"); v != policy.ViaNone {
		t.Errorf("full access lets alice send as support@: %v", v)
	}
	if v, _ := sender.Via("sales@example.com"); v != policy.ViaSendAs {
		t.Errorf("alice's send-as on sales@ = %v", v)
	}
	if len(sender.Grants) != 1 {
		t.Errorf("sending grants %v, want the send-as alone", sender.Grants)
	}
}
