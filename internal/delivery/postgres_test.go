package delivery_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

// The whole path on the PostgreSQL store: acceptance with local delivery
// and Sent Items, a remote recipient claimed (FOR UPDATE SKIP LOCKED) and
// delivered once, a permanent failure with its DSN in the sender's Inbox.
// Skipped without a test database (README "PostgreSQL").
func TestDeliver_OnPostgres(t *testing.T) {
	pg := testkit.WithPostgres(t)
	r := testkit.NewRemote(t)
	mx := r.MX(t, "remote.test", testkit.MXOptions{Rcpt: reject(550, smtp.EnhancedCode{5, 1, 1}, "nobody@remote.test")})
	s := testkit.Start(t, fixture, pg, testkit.WithRemote(r))

	id := s.Send("alice@example.test", pw, "alice@example.test", []string{"bob@remote.test", "nobody@remote.test", "carol@example.test"},
		"From: alice@example.test\nTo: bob@remote.test\nBcc: carol@example.test\nSubject: quarterly\n\nx\n")
	waitState(t, s, id, map[string]string{
		"bob@remote.test": store.StateDelivered, "nobody@remote.test": store.StateFailed, "carol@example.test": store.StateDelivered,
	})
	if m := mx.Accepted(); len(m) != 1 || !slices.Equal(m[0].Rcpts, []string{"bob@remote.test"}) {
		t.Fatalf("MX accepted %+v, want one message to bob", m)
	}
	if inbox := s.Folder("carol@example.test", store.FolderInbox); len(inbox) != 1 || strings.Contains(inbox[0], "Bcc:") {
		t.Fatalf("carol's Inbox %q, want the copy without Bcc:", inbox)
	}
	if sent := s.Folder("alice@example.test", store.FolderSent); len(sent) != 1 || !strings.Contains(sent[0], "Bcc: carol@example.test") {
		t.Fatalf("alice's Sent Items %q, want the copy as submitted", sent)
	}
	var inbox []string
	testkit.Eventually(t, "the DSN is in alice's Inbox", func() bool {
		inbox = s.Folder("alice@example.test", store.FolderInbox)
		return len(inbox) > 0
	})
	if len(inbox) != 1 || !strings.Contains(inbox[0], "Final-Recipient: rfc822; nobody@remote.test") {
		t.Fatalf("alice's Inbox %q, want one DSN for nobody@remote.test", inbox)
	}
}
