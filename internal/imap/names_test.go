package imap

import (
	"errors"
	"strings"
	"testing"

	"mailroom/internal/store"
)

func TestResolveName(t *testing.T) {
	own := &store.Mailbox{ID: 1, Address: "alice@example.com"}
	support := &store.Mailbox{ID: 2, Address: "support@example.com", Shared: true}
	shared := []*store.Mailbox{support}
	for _, tc := range []struct {
		name    string
		mailbox *store.Mailbox
		folder  store.Folder
		err     error
	}{
		{"INBOX", own, store.FolderInbox, nil},
		{"inbox", own, store.FolderInbox, nil},
		{"Sent Items", own, store.FolderSent, nil},
		{"Work/2025", own, "Work/2025", nil},
		{"Shared/support@example.com/INBOX", support, store.FolderInbox, nil},
		{"shared/SUPPORT@example.com/Sent Items", support, store.FolderSent, nil},
		{"Shared/support@example.com/a/b", support, "a/b", nil},
		{"Shared/bob@example.com/INBOX", nil, "", errNoSuchShared},
		{"Shared/support@example.com", nil, "", errNoSuchShared},
		{"Shared", nil, "", errReservedName},
		{"", nil, "", errBadName},
		{"a//b", nil, "", errBadName},
		{"/a", nil, "", errBadName},
		{"a/", nil, "", errBadName},
		{"a\x00b", nil, "", errBadName},
		{"a*", nil, "", errBadName},
		{"\xff", nil, "", errBadName},
		{string(make([]byte, maxNameBytes+1)), nil, "", errBadName},
		{"a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q", nil, "", errBadName},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := resolveName(tc.name, own, shared)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err == nil && (got.Mailbox != tc.mailbox || got.Folder != tc.folder) {
				t.Errorf("= %s %q, want %s %q", got.Mailbox.Address, got.Folder, tc.mailbox.Address, tc.folder)
			}
			if err == nil {
				if back := clientName(got.Mailbox, got.Folder, own); !strings.EqualFold(back, tc.name) {
					t.Errorf("clientName = %q, want %q", back, tc.name)
				}
			}
		})
	}
}
