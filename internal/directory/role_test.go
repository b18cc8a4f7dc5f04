package directory

import (
	"context"
	"testing"

	"mailroom/internal/store"
)

func TestHosted(t *testing.T) {
	for _, tc := range []struct {
		d    *store.Domain
		want bool
	}{
		{nil, false},
		{&store.Domain{Role: store.DomainHosted}, true},
		{&store.Domain{}, true}, // a role not read: today's behaviour
		{&store.Domain{Role: store.DomainRelay}, false},
	} {
		if got := hosted(tc.d); got != tc.want {
			t.Errorf("hosted(%+v) = %v, want %v", tc.d, got, tc.want)
		}
	}
}

// TestSnapshot_RelayDomainHasNoInboxes: in a relay domain no address has
// a local Inbox, a mailbox's own included; Resolve still finds the
// mailbox (it sends, with its grants).
func TestSnapshot_RelayDomainHasNoInboxes(t *testing.T) {
	d := openAddresses(t, Options{PlusSeparator: "+"}, []string{"alice@example.com", "bob@example.org"}, nil)
	if err := d.st.UpdateDomain(context.Background(), store.Domain{Name: "example.org", Role: store.DomainRelay}); err != nil {
		t.Fatal(err)
	}
	if err := d.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	snap := d.Snapshot()
	if !snap.Hosts("example.com") || snap.Hosts("example.org") || snap.Hosts("example.net") {
		t.Errorf("Hosts: example.com %v, example.org %v, example.net %v; want true, false, false",
			snap.Hosts("example.com"), snap.Hosts("example.org"), snap.Hosts("example.net"))
	}
	for addr, want := range map[string]string{
		"alice@example.com":     "alice@example.com",
		"alice+x@example.com":   "alice@example.com",
		"bob@example.org":       "",
		"colleague@example.org": "",
		"someone@example.net":   "",
	} {
		m, ok := snap.Inbox(addr)
		if got := ""; ok {
			got = m.Address
			if got != want {
				t.Errorf("Inbox(%s) = %s, want %q", addr, got, want)
			}
		} else if want != "" {
			t.Errorf("Inbox(%s): none, want %s", addr, want)
		}
	}
	if m, ok := snap.Resolve("bob@example.org"); !ok || m.Address != "bob@example.org" {
		t.Errorf("Resolve(bob@example.org) = %v, %v", m, ok)
	}
}
