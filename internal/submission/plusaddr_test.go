package submission_test

import (
	"context"
	"strings"
	"testing"

	"mailroom/internal/admin"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

// plusFixture: example.test with alice@, and a mailbox alice+bot@ as a
// database written before admin refused the separator in names holds it
// (made here with the check off, through the same store).
func plusFixture(t *testing.T) func(a *admin.Service) {
	return func(a *admin.Service) {
		ctx := context.Background()
		_, err := a.AddDomain(ctx, "example.test")
		testkit.MustAdd(t, err)
		_, _, err = a.AddMailbox(ctx, admin.NewMailbox{Address: "alice@example.test", Password: pw})
		testkit.MustAdd(t, err)
		_, _, err = a.AddMailbox(ctx, admin.NewMailbox{Address: "bob@example.test", Password: pw})
		testkit.MustAdd(t, err)
		if _, _, err := a.AddMailbox(ctx, admin.NewMailbox{Address: "alice+bot@example.test", Password: pw}); err == nil {
			t.Fatal("admin made a mailbox named with the plus separator")
		}
		sep := a.PlusSeparator
		a.PlusSeparator = ""
		_, _, err = a.AddMailbox(ctx, admin.NewMailbox{Address: "alice+bot@example.test", Password: pw})
		a.PlusSeparator = sep
		testkit.MustAdd(t, err)
	}
}

// TestPlusAddressing_NoSendingAsTheBase is issue 13's attack: a mailbox
// named alice+bot@ logs in and tries alice@ in MAIL FROM and in From:.
// Both are refused with 5.7.60, as is any other tag of alice@; alice+bot@
// keeps its own address.
func TestPlusAddressing_NoSendingAsTheBase(t *testing.T) {
	s := testkit.Start(t, plusFixture(t))

	c := testkit.Ready(t, s, "alice+bot@example.test", pw)
	defer c.Close()
	r := c.MustCmd("MAIL FROM:<alice@example.test>", 550, "5.7.60")
	if !strings.Contains(r.Text, "SendAsDenied") || !strings.Contains(r.Text, "alice+bot@example.test") {
		t.Errorf("refusal %q: want SendAsDenied naming the mailbox", r.Text)
	}
	c.MustCmd("MAIL FROM:<alice+news@example.test>", 550, "5.7.60")
	c.MustCmd("MAIL FROM:<Alice@Example.TEST>", 550, "5.7.60")

	// Its own address passes MAIL; a From: of the base is refused after DATA.
	c.MustCmd("MAIL FROM:<alice+bot@example.test>", 250, "2.0.0")
	c.MustCmd("RCPT TO:<bob@example.test>", 250, "2.0.0")
	c.Expect(c.SendData("From: Alice <alice@example.test>\nTo: bob@example.test\nSubject: from the boss\n\nwire the money\n"), 554, "5.7.60")

	// Nothing reached bob.
	if got := s.Folder("bob@example.test", store.FolderInbox); len(got) != 0 {
		t.Fatalf("bob's Inbox holds %d messages after the refusals", len(got))
	}

	// As itself, it sends.
	c.MustCmd("RSET", 250, "2.0.0")
	c.MustCmd("MAIL FROM:<alice+bot@example.test>", 250, "2.0.0")
	c.MustCmd("RCPT TO:<bob@example.test>", 250, "2.0.0")
	c.Expect(c.SendData("From: alice+bot@example.test\nTo: bob@example.test\nSubject: build done\n\nok\n"), 250, "2.0.0")
}

// TestPlusAddressing_OwnTaggedForms: alice@ sends as alice+news@ (MAIL
// FROM and From:), but not as the mailbox alice+bot@, which is not a tag
// of hers; mail to each lands in its own Inbox.
func TestPlusAddressing_OwnTaggedForms(t *testing.T) {
	s := testkit.Start(t, plusFixture(t))

	c := testkit.Ready(t, s, "alice@example.test", pw)
	defer c.Close()
	c.MustCmd("MAIL FROM:<alice+bot@example.test>", 550, "5.7.60")
	c.MustCmd("MAIL FROM:<alice+news@example.test>", 250, "2.0.0")
	c.MustCmd("RCPT TO:<alice+bot@example.test>", 250, "2.0.0")
	c.MustCmd("RCPT TO:<alice+inbox@example.test>", 250, "2.0.0")
	c.Expect(c.SendData("From: Alice <alice+news@example.test>\nTo: alice+bot@example.test\nSubject: newsletter\n\nnews\n"), 250, "2.0.0")

	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "2.0.0")
	c.MustCmd("RCPT TO:<bob@example.test>", 250, "2.0.0")
	c.Expect(c.SendData("From: alice+bot@example.test\nTo: bob@example.test\nSubject: x\n\nx\n"), 554, "5.7.60")

	for addr, want := range map[string]int{"alice+bot@example.test": 1, "alice@example.test": 1, "bob@example.test": 0} {
		if got := s.Folder(addr, store.FolderInbox); len(got) != want {
			t.Errorf("%s's Inbox holds %d messages, want %d", addr, len(got), want)
		}
	}
}
