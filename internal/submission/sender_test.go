package submission_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"mailroom/internal/admin"
	"mailroom/internal/config"
	"mailroom/internal/retention"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

// senderFixture: example.test with a service mailbox app@, a user alice@
// (alias sales@), a shared support@ and a recipient carol@; a second
// domain notify.test served too.
func senderFixture(a *admin.Service) {
	ctx := context.Background()
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	for _, d := range []string{"example.test", "notify.test"} {
		_, err := a.AddDomain(ctx, d)
		must(err)
	}
	for _, m := range []admin.NewMailbox{
		{Address: "app@example.test", DisplayName: "Web App", Password: pw},
		{Address: "alice@example.test", DisplayName: "Alice Smith", Password: pw},
		{Address: "carol@example.test", Password: pw},
		{Address: "support@example.test", DisplayName: "Support Team", Shared: true},
	} {
		_, _, err := a.AddMailbox(ctx, m)
		must(err)
	}
	_, err := a.AddAlias(ctx, "alice@example.test", "sales@example.test")
	must(err)
}

func submit(t *testing.T, c *testkit.Conn, from, rcpt, msg string) testkit.Reply {
	t.Helper()
	c.MustCmd("MAIL FROM:<"+from+">", 250, "")
	c.MustCmd("RCPT TO:<"+rcpt+">", 250, "")
	return c.SendData(msg)
}

// TestSendAs_TheExchangeCase is the story that started mailroom: an app
// logs in as app@ and sends From: support@. Refused with the command that
// fixes it; after the grant, accepted; with send-on-behalf instead,
// recipients see Sender: app@.
func TestSendAs_TheExchangeCase(t *testing.T) {
	s := testkit.Start(t, senderFixture)
	ctx := context.Background()
	msg := "From: Support <support@example.test>\nTo: carol@example.test\nSubject: your ticket\n\nhello\n"

	c := testkit.Ready(t, s, "app@example.test", pw)
	r := c.MustCmd("MAIL FROM:<support@example.test>", 550, "5.7.60")
	if !strings.Contains(r.Text, "mailroom grant send-as --on support@example.test --to app@example.test") {
		t.Fatalf("550 does not say how to grant it: %q", r.Text)
	}
	r = c.Expect(submit(t, c, "app@example.test", "carol@example.test", msg), 554, "5.7.60")
	for _, want := range []string{"SendAsDenied", "app@example.test", "support@example.test", "mailroom grant send-as --on support@example.test --to app@example.test"} {
		if !strings.Contains(r.Text, want) {
			t.Errorf("554 text %q lacks %q", r.Text, want)
		}
	}

	if _, err := s.Admin.AddGrant(ctx, admin.GrantSpec{Kind: store.GrantSendAs, On: "support@example.test", To: "app@example.test"}); err != nil {
		t.Fatal(err)
	}
	s.SyncDirectory()
	c.Expect(submit(t, c, "support@example.test", "carol@example.test", msg), 250, "2.0.0")
	inbox := readFolder(t, s, "carol@example.test", store.FolderInbox)
	if len(inbox) != 1 || strings.Contains(inbox[0], "Sender:") || strings.Contains(inbox[0], "app@example.test") {
		t.Fatalf("send-as copy shows the delegate:\n%s", inbox[0])
	}

	if err := s.Admin.RevokeGrant(ctx, admin.GrantSpec{Kind: store.GrantSendAs, On: "support@example.test", To: "app@example.test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Admin.AddGrant(ctx, admin.GrantSpec{Kind: store.GrantSendOnBehalf, On: "support@example.test", To: "app@example.test"}); err != nil {
		t.Fatal(err)
	}
	s.SyncDirectory()
	c.Expect(submit(t, c, "app@example.test", "carol@example.test", msg), 250, "2.0.0")
	inbox = readFolder(t, s, "carol@example.test", store.FolderInbox)
	if len(inbox) != 2 || !strings.Contains(inbox[1], "Sender: \"Web App\" <app@example.test>\r\n") {
		t.Fatalf("send-on-behalf copy lacks Sender: app@:\n%s", inbox[1])
	}
	// A Sender: naming someone else is refused.
	c.Expect(submit(t, c, "app@example.test", "carol@example.test", "From: support@example.test\nSender: alice@example.test\n\nx\n"), 554, "5.7.60")
}

func TestSendAs_DomainGrant(t *testing.T) {
	s := testkit.Start(t, func(a *admin.Service) {
		senderFixture(a)
		if _, err := a.AddGrant(context.Background(), admin.GrantSpec{Kind: store.GrantSendAs, On: "@notify.test", To: "app@example.test"}); err != nil {
			panic(err)
		}
	})
	c := testkit.Ready(t, s, "app@example.test", pw)
	c.Expect(submit(t, c, "alerts@notify.test", "carol@example.test", "From: Alerts <alerts@notify.test>\n\nx\n"), 250, "2.0.0")
	c.MustCmd("MAIL FROM:<alerts@example.test>", 550, "5.7.60")
}

func TestSendAs_AliasesAndPlusAddresses(t *testing.T) {
	s := testkit.Start(t, senderFixture)
	c := testkit.Ready(t, s, "alice@example.test", pw)
	c.Expect(submit(t, c, "sales@example.test", "carol@example.test", "From: Sales <sales@example.test>\n\nx\n"), 250, "2.0.0")
	c.Expect(submit(t, c, "alice+news@example.test", "carol@example.test", "From: alice+news@example.test\n\nx\n"), 250, "2.0.0")
	c.Expect(submit(t, c, "sales+q4@example.test", "carol@example.test", "From: sales+q4@example.test\n\nx\n"), 250, "2.0.0")
	// Mail to an alias or a plus-address lands in the owner's Inbox, once per message.
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<sales@example.test>", 250, "")
	c.MustCmd("RCPT TO:<Alice+Tag@example.test>", 250, "")
	c.Expect(c.SendData("Subject: to myself\n\nx\n"), 250, "2.0.0")
	if n := len(readFolder(t, s, "alice@example.test", store.FolderInbox)); n != 1 {
		t.Fatalf("alice's inbox has %d messages, want 1", n)
	}
	if n := len(readFolder(t, s, "alice@example.test", store.FolderSent)); n != 4 {
		t.Fatalf("alice's Sent Items has %d messages, want 4", n)
	}
}

func TestSendAs_PlusAddressingOff(t *testing.T) {
	s := testkit.Start(t, senderFixture, func(c *config.Config) { c.Addresses.PlusSeparator = "" })
	c := testkit.Ready(t, s, "alice@example.test", pw)
	c.MustCmd("MAIL FROM:<alice+news@example.test>", 550, "5.7.60")
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol+x@example.test>", 550, "5.1.1")
}

func TestSendAs_BadHeaders(t *testing.T) {
	s := testkit.Start(t, senderFixture)
	c := testkit.Ready(t, s, "alice@example.test", pw)
	for _, tc := range []struct {
		name, msg, enh string
	}{
		{"duplicate From", "From: alice@example.test\nFrom: alice@example.test\n\nx\n", "5.6.0"},
		{"two Froms without Sender", "From: alice@example.test, sales@example.test\n\nx\n", "5.6.0"},
		{"fold hides a second address", "From: alice@example.test\n carol@example.test\n\nx\n", "5.6.0"},
		{"encoded name, foreign address", "From: =?utf-8?q?Alice?= <carol@example.test>\n\nx\n", "5.7.60"},
		{"duplicate Sender", "From: alice@example.test\nSender: alice@example.test\nSender: alice@example.test\n\nx\n", "5.6.0"},
		{"group From", "From: undisclosed:;\n\nx\n", "5.6.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.Expect(submit(t, c, "alice@example.test", "carol@example.test", tc.msg), 554, tc.enh)
		})
	}
	c.Expect(submit(t, c, "alice@example.test", "carol@example.test", "From: alice@example.test, sales@example.test\nSender: alice@example.test\n\nx\n"), 250, "2.0.0")
	c.Expect(submit(t, c, "alice@example.test", "carol@example.test", "From: =?utf-8?q?J=C3=B6rg?= <alice@example.test>\n\nx\n"), 250, "2.0.0")
}

func TestDisplayNamePolicy(t *testing.T) {
	s := testkit.Start(t, func(a *admin.Service) {
		senderFixture(a)
		dir := store.DisplayNameDirectory
		if _, err := a.SetDomain(context.Background(), "example.test", admin.DomainChange{DisplayName: &dir}); err != nil {
			panic(err)
		}
	})
	c := testkit.Ready(t, s, "alice@example.test", pw)
	c.Expect(submit(t, c, "alice@example.test", "carol@example.test", "From: The CEO <alice@example.test>\n\nx\n"), 250, "2.0.0")
	inbox := readFolder(t, s, "carol@example.test", store.FolderInbox)
	if !strings.Contains(inbox[0], "From: \"Alice Smith\" <alice@example.test>\r\n") {
		t.Fatalf("display name not replaced:\n%s", inbox[0])
	}
	// The client policy (other domains) keeps what the client wrote.
	client := store.DisplayNameClient
	s.Admin.SetDomain(context.Background(), "example.test", admin.DomainChange{DisplayName: &client})
	s.SyncDirectory()
	c.Expect(submit(t, c, "alice@example.test", "carol@example.test", "From: Ally <alice@example.test>\n\nx\n"), 250, "2.0.0")
	inbox = readFolder(t, s, "carol@example.test", store.FolderInbox)
	if !strings.Contains(inbox[1], "From: Ally <alice@example.test>\r\n") {
		t.Fatalf("client display name changed:\n%s", inbox[1])
	}
}

func TestSentItemsCopies(t *testing.T) {
	on, off := true, false
	s := testkit.Start(t, func(a *admin.Service) {
		senderFixture(a)
		ctx := context.Background()
		a.AddGrant(ctx, admin.GrantSpec{Kind: store.GrantSendAs, On: "support@example.test", To: "app@example.test"})
		a.SetMailbox(ctx, "support@example.test", admin.MailboxChange{CopySentAs: &on})
		a.SetMailbox(ctx, "app@example.test", admin.MailboxChange{SaveSent: &off})
	})
	c := testkit.Ready(t, s, "app@example.test", pw)
	c.Expect(submit(t, c, "support@example.test", "carol@example.test", "From: support@example.test\nTo: carol@example.test\nBcc: boss@remote.example\n\nx\n"), 250, "2.0.0")
	c.Expect(submit(t, c, "app@example.test", "carol@example.test", "From: app@example.test\n\nx\n"), 250, "2.0.0")
	if n := len(readFolder(t, s, "app@example.test", store.FolderSent)); n != 0 {
		t.Errorf("app@ has --save-sent=off but %d Sent Items", n)
	}
	sent := readFolder(t, s, "support@example.test", store.FolderSent)
	if len(sent) != 1 || !strings.Contains(sent[0], "Bcc: boss@remote.example") {
		t.Fatalf("support@ Sent Items (copy-sent-as): %q", sent)
	}
	if inbox := readFolder(t, s, "carol@example.test", store.FolderInbox); strings.Contains(inbox[0], "Bcc:") {
		t.Errorf("recipient copy keeps Bcc:\n%s", inbox[0])
	}
}

func TestQuota(t *testing.T) {
	quota := int64(2000)
	s := testkit.Start(t, func(a *admin.Service) {
		senderFixture(a)
		a.SetMailbox(context.Background(), "alice@example.test", admin.MailboxChange{QuotaBytes: &quota})
	})
	c := testkit.Ready(t, s, "alice@example.test", pw)
	c.Expect(submit(t, c, "alice@example.test", "carol@example.test", "Subject: small\n\n"+strings.Repeat("x", 500)+"\n"), 250, "2.0.0")
	r := c.Expect(submit(t, c, "alice@example.test", "carol@example.test", "Subject: big\n\n"+strings.Repeat("x", 1800)+"\n"), 554, "5.2.2")
	for _, want := range []string{"alice@example.test", "of its 2 KiB storage quota", "mailroom mailbox set alice@example.test --quota"} {
		if !strings.Contains(r.Text, want) {
			t.Errorf("554 5.2.2 text %q lacks %q", r.Text, want)
		}
	}
	c.Expect(submit(t, c, "alice@example.test", "carol@example.test", "Subject: fits\n\n"+strings.Repeat("x", 500)+"\n"), 250, "2.0.0")
	// At or over quota: refused already at MAIL.
	lower := int64(1000)
	if _, err := s.Admin.SetMailbox(context.Background(), "alice@example.test", admin.MailboxChange{QuotaBytes: &lower}); err != nil {
		t.Fatal(err)
	}
	s.SyncDirectory()
	c.MustCmd("MAIL FROM:<alice@example.test>", 554, "5.2.2")
}

// TestRetention_SweepFreesBodies expires Sent Items past retention and
// frees the bodies nothing references any more, keeping the others.
func TestRetention_SweepFreesBodies(t *testing.T) {
	day := 24 * time.Hour
	s := testkit.Start(t, func(a *admin.Service) {
		senderFixture(a)
		a.SetMailbox(context.Background(), "alice@example.test", admin.MailboxChange{SentRetention: &day})
	})
	c := testkit.Ready(t, s, "alice@example.test", pw)
	remote := submit(t, c, "alice@example.test", "someone@remote.example", "Subject: to remote\n\nx\n")
	c.Expect(remote, 250, "2.0.0")
	local := submit(t, c, "alice@example.test", "carol@example.test", "Subject: to carol\n\nx\n")
	c.Expect(local, 250, "2.0.0")

	blobs := countBlobs(t, s)
	sw := &retention.Sweeper{Store: s.Store, Blobs: s.Blobs, Now: func() time.Time { return time.Now().Add(2 * day) }}
	res, err := sw.Sweep(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Expired != 2 || res.Freed != 0 {
		// The remote message is still queued; carol keeps hers in the Inbox.
		t.Fatalf("sweep = %+v, want 2 expired, 0 freed", res)
	}
	if n := len(readFolder(t, s, "alice@example.test", store.FolderSent)); n != 0 {
		t.Fatalf("alice's Sent Items keeps %d entries past retention", n)
	}
	if countBlobs(t, s) != blobs {
		t.Fatal("a referenced body was freed")
	}
	// Carol deletes nothing, but her mailbox goes: the local message's body is freed.
	if err := s.Admin.RemoveMailbox(context.Background(), "carol@example.test"); err != nil {
		t.Fatal(err)
	}
	res, err = sw.Sweep(context.Background())
	if err != nil || res.Freed != 1 || countBlobs(t, s) != blobs-1 {
		t.Fatalf("second sweep = %+v, %v; blobs %d → %d", res, err, blobs, countBlobs(t, s))
	}
}

// TestRetention_DaemonSweeps checks the daemon runs the sweeper on its own.
func TestRetention_DaemonSweeps(t *testing.T) {
	tiny := time.Millisecond
	s := testkit.Start(t, func(a *admin.Service) {
		senderFixture(a)
		a.SetMailbox(context.Background(), "alice@example.test", admin.MailboxChange{SentRetention: &tiny})
	}, func(c *config.Config) { c.Retention.SweepInterval = config.Duration(time.Second) })
	c := testkit.Ready(t, s, "alice@example.test", pw)
	c.Expect(submit(t, c, "alice@example.test", "carol@example.test", "Subject: x\n\nx\n"), 250, "2.0.0")
	waitFor(t, func() bool { return len(readFolder(t, s, "alice@example.test", store.FolderSent)) == 0 })
}

// TestRetention_SweepOrphans removes a body whose message row never
// committed (a crash between the body's fsync and the commit) and keeps
// the bodies of stored messages and of files newer than the cutoff.
func TestRetention_SweepOrphans(t *testing.T) {
	s := testkit.Start(t, senderFixture)
	c := testkit.Ready(t, s, "alice@example.test", pw)
	c.Expect(submit(t, c, "alice@example.test", "carol@example.test", "Subject: kept\n\nx\n"), 250, "2.0.0")
	blobs := s.Blobs
	now := time.Now()
	w, _ := blobs.Create()
	w.Write([]byte("Subject: never acknowledged\r\n\r\nx\r\n"))
	orphan := fmt.Sprintf("%011x%s", now.UnixMilli(), "deadbeef0000") + ".eml"
	if err := w.Commit(orphan); err != nil {
		t.Fatal(err)
	}
	before := countBlobs(t, s)
	sw := &retention.Sweeper{Store: s.Store, Blobs: blobs}
	if n, err := sw.SweepOrphans(context.Background(), now.Add(-time.Hour), now.Add(-time.Minute)); err != nil || n != 0 {
		t.Fatalf("files newer than the cutoff: removed %d, %v", n, err)
	}
	n, err := sw.SweepOrphans(context.Background(), now.Add(-time.Hour), time.Now().Add(time.Second))
	if err != nil || n != 1 || countBlobs(t, s) != before-1 {
		t.Fatalf("removed %d (%v); blobs %d → %d", n, err, before, countBlobs(t, s))
	}
	if len(readFolder(t, s, "carol@example.test", store.FolderInbox)) != 1 {
		t.Fatal("a stored message lost its body")
	}
}
