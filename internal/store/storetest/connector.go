package storetest

import (
	"reflect"
	"testing"

	"mailroom/internal/store"
)

var connectorTests = []test{
	{"AddUpdateListRemove", testConnectorLifecycle},
	{"AddMissingMailboxNotFound", testConnectorMissingMailbox},
	{"AddDuplicateNameConflict", testConnectorDuplicate},
	{"UpdateRemoveMissingNotFound", testConnectorMissing},
	{"GoesWithItsMailbox", testConnectorGoesWithMailbox},
}

func testConnectorLifecycle(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreateDomain(t, s, "example.org")
	mustCreateMailbox(t, s, "printer@example.org", "example.org")
	mustCreateMailbox(t, s, "scanner@example.org", "example.org")
	v0 := mustVersion(t, s)
	c, err := s.AddConnector(ctx, store.Connector{Name: "floor-2", Mailbox: "printer@example.org", Networks: []string{"10.1.2.0/24", "2001:db8::/64"}, LegacyTLS: true})
	noErr(t, err, "add connector")
	if c.ID == 0 || c.CreatedAt.IsZero() {
		t.Fatalf("added connector without id or time: %+v", c)
	}
	_, err = s.AddConnector(ctx, store.Connector{Name: "a-scanner", Mailbox: "scanner@example.org", Fingerprints: []string{"ab12", "cd34"}})
	noErr(t, err, "add certificate connector")
	if v := mustVersion(t, s); v <= v0 {
		t.Errorf("directory version %d after adding connectors, was %d", v, v0)
	}
	cs, err := s.Connectors(ctx)
	noErr(t, err, "list connectors")
	if len(cs) != 2 || cs[0].Name != "a-scanner" || !reflect.DeepEqual(cs[0].Fingerprints, []string{"ab12", "cd34"}) || cs[0].Networks != nil || cs[0].LegacyTLS ||
		cs[1].Name != "floor-2" || cs[1].Mailbox != "printer@example.org" || !reflect.DeepEqual(cs[1].Networks, []string{"10.1.2.0/24", "2001:db8::/64"}) ||
		cs[1].Fingerprints != nil || !cs[1].LegacyTLS || cs[1].ID != c.ID || !cs[1].CreatedAt.Equal(c.CreatedAt) {
		t.Fatalf("connectors: %+v", cs)
	}
	v1 := mustVersion(t, s)
	noErr(t, s.UpdateConnector(ctx, store.Connector{Name: "floor-2", Mailbox: "scanner@example.org", Fingerprints: []string{"ef56"}}), "update connector")
	if v := mustVersion(t, s); v <= v1 {
		t.Errorf("directory version %d after an update, was %d", v, v1)
	}
	cs, err = s.Connectors(ctx)
	noErr(t, err, "list connectors")
	if got := cs[1]; got.Mailbox != "scanner@example.org" || got.Networks != nil || !reflect.DeepEqual(got.Fingerprints, []string{"ef56"}) || got.LegacyTLS {
		t.Fatalf("updated connector: %+v", got)
	}
	noErr(t, s.RemoveConnector(ctx, "floor-2"), "remove connector")
	if cs, _ := s.Connectors(ctx); len(cs) != 1 || cs[0].Name != "a-scanner" {
		t.Fatalf("after remove: %+v", cs)
	}
}

func testConnectorMissingMailbox(t *testing.T, s store.Store) {
	mustCreateDomain(t, s, "example.org")
	_, err := s.AddConnector(t.Context(), store.Connector{Name: "x", Mailbox: "nobody@example.org", Networks: []string{"10.0.0.0/8"}})
	wantErr(t, err, store.ErrNotFound, "connector for a missing mailbox")
}

func testConnectorDuplicate(t *testing.T, s store.Store) {
	mustCreateDomain(t, s, "example.org")
	mustCreateMailbox(t, s, "printer@example.org", "example.org")
	c := store.Connector{Name: "x", Mailbox: "printer@example.org", Networks: []string{"10.0.0.0/8"}}
	_, err := s.AddConnector(t.Context(), c)
	noErr(t, err, "add connector")
	_, err = s.AddConnector(t.Context(), c)
	wantErr(t, err, store.ErrConflict, "second connector with the name")
}

func testConnectorMissing(t *testing.T, s store.Store) {
	mustCreateDomain(t, s, "example.org")
	mustCreateMailbox(t, s, "printer@example.org", "example.org")
	wantErr(t, s.UpdateConnector(t.Context(), store.Connector{Name: "x", Mailbox: "printer@example.org"}), store.ErrNotFound, "update a missing connector")
	_, err := s.AddConnector(t.Context(), store.Connector{Name: "x", Mailbox: "printer@example.org"})
	noErr(t, err, "add connector")
	wantErr(t, s.UpdateConnector(t.Context(), store.Connector{Name: "x", Mailbox: "nobody@example.org"}), store.ErrNotFound, "update to a missing mailbox")
	wantErr(t, s.RemoveConnector(t.Context(), "y"), store.ErrNotFound, "remove a missing connector")
}

func testConnectorGoesWithMailbox(t *testing.T, s store.Store) {
	mustCreateDomain(t, s, "example.org")
	mustCreateMailbox(t, s, "printer@example.org", "example.org")
	_, err := s.AddConnector(t.Context(), store.Connector{Name: "x", Mailbox: "printer@example.org", Networks: []string{"10.0.0.0/8"}})
	noErr(t, err, "add connector")
	noErr(t, s.DeleteMailbox(t.Context(), "printer@example.org"), "delete mailbox")
	if cs, err := s.Connectors(t.Context()); err != nil || len(cs) != 0 {
		t.Fatalf("connectors after their mailbox went: %v %+v", err, cs)
	}
}
