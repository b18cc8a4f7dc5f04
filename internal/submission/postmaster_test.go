package submission_test

import (
	"context"
	"strings"
	"testing"

	"mailroom/internal/admin"
	"mailroom/internal/config"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

// postmasterFixture: example.test with app@ (created first) and admin@,
// and other.test with ops@; no address is named postmaster@.
func postmasterFixture(t *testing.T) func(a *admin.Service) {
	return func(a *admin.Service) {
		ctx := context.Background()
		for _, d := range []string{"example.test", "other.test"} {
			_, err := a.AddDomain(ctx, d)
			testkit.MustAdd(t, err)
		}
		for _, m := range []string{"app@example.test", "admin@example.test", "ops@other.test"} {
			_, _, err := a.AddMailbox(ctx, admin.NewMailbox{Address: m, Password: pw})
			testkit.MustAdd(t, err)
		}
	}
}

// TestPostmaster_Accepted: RCPT TO:<postmaster@served-domain> is accepted
// in any case (RFC 5321 §4.5.1) and the message lands in the Inbox of
// delivery.postmaster, for every served domain.
func TestPostmaster_Accepted(t *testing.T) {
	s := testkit.Start(t, postmasterFixture(t), func(c *config.Config) { c.Delivery.Postmaster = "admin@example.test" })
	c := testkit.Ready(t, s, "app@example.test", pw)
	defer c.Close()
	c.MustCmd("MAIL FROM:<app@example.test>", 250, "2.0.0")
	c.MustCmd("RCPT TO:<postmaster@example.test>", 250, "2.0.0")
	c.MustCmd("RCPT TO:<PostMaster@other.test>", 250, "2.0.0")
	c.MustCmd("RCPT TO:<postmistress@example.test>", 550, "5.1.1")
	c.Expect(c.SendData("From: app@example.test\nTo: postmaster@example.test\nSubject: abuse report\n\nreport\n"), 250, "2.0.0")

	inbox := s.Folder("admin@example.test", store.FolderInbox)
	if len(inbox) != 1 || !strings.Contains(inbox[0], "Subject: abuse report") {
		t.Fatalf("admin@'s Inbox holds %d messages, want the report once", len(inbox))
	}
	for _, m := range []string{"app@example.test", "ops@other.test"} {
		if got := s.Folder(m, store.FolderInbox); len(got) != 0 {
			t.Errorf("%s's Inbox holds %d messages, want none", m, len(got))
		}
	}
}

// TestPostmaster_Default: with delivery.postmaster unset, postmaster@ of
// a domain goes to that domain's oldest mailbox.
func TestPostmaster_Default(t *testing.T) {
	s := testkit.Start(t, postmasterFixture(t))
	c := testkit.Ready(t, s, "admin@example.test", pw)
	defer c.Close()
	c.MustCmd("MAIL FROM:<admin@example.test>", 250, "2.0.0")
	c.MustCmd("RCPT TO:<postmaster@example.test>", 250, "2.0.0")
	c.MustCmd("RCPT TO:<postmaster@other.test>", 250, "2.0.0")
	c.Expect(c.SendData("From: admin@example.test\nSubject: hello postmasters\n\nhi\n"), 250, "2.0.0")
	for _, m := range []string{"app@example.test", "ops@other.test"} {
		if got := s.Folder(m, store.FolderInbox); len(got) != 1 {
			t.Errorf("%s's Inbox holds %d messages, want 1", m, len(got))
		}
	}
}
