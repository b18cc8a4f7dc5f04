package delivery_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"mailroom/internal/admin"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

// relayFixture: the fixture, and corp.test as a relay domain with the
// sending mailboxes alice@ and bob@ (their mail lives upstream).
func relayFixture(t *testing.T) func(*admin.Service) {
	return func(a *admin.Service) {
		fixture(a)
		ctx := context.Background()
		testkit.MustAdd(t, func() error { _, err := a.AddDomainWithRole(ctx, "corp.test", store.DomainRelay); return err }())
		for _, m := range []string{"alice@corp.test", "bob@corp.test"} {
			testkit.MustAdd(t, func() error { _, _, err := a.AddMailbox(ctx, admin.NewMailbox{Address: m, Password: pw}); return err }())
		}
	}
}

// TestRelayDomain_EveryRecipientGoesUpstream: in a relay domain, a
// colleague with no mailbox here is accepted at RCPT, and a colleague
// who has one gets nothing in a local Inbox: both reach the upstream.
func TestRelayDomain_EveryRecipientGoesUpstream(t *testing.T) {
	te := testkit.StartTokenEndpoint(t)
	cert := testkit.NewCert(t)
	up := testkit.StartUpstream(t, te, cert, testkit.MXOptions{})
	s := testkit.Start(t, relayFixture(t), gateway(t, te, up, cert, "corp.test"))
	c := testkit.Ready(t, s, "alice@corp.test", pw)
	c.MustCmd("MAIL FROM:<alice@corp.test>", 250, "2.0.0")
	c.MustCmd("RCPT TO:<colleague@corp.test>", 250, "2.0.0")
	c.MustCmd("RCPT TO:<bob@corp.test>", 250, "2.0.0")
	c.MustCmd("RCPT TO:<nobody@example.test>", 550, "5.1.1") // a hosted domain still knows its addresses
	c.Expect(c.SendData("From: alice@corp.test\nTo: colleague@corp.test, bob@corp.test\nSubject: via upstream\n\nx\n"), 250, "2.0.0")
	testkit.Eventually(t, "both recipients at the upstream", func() bool {
		var got []string
		for _, m := range up.Accepted() {
			got = append(got, m.Rcpts...)
		}
		slices.Sort(got)
		return slices.Equal(got, []string{"bob@corp.test", "colleague@corp.test"})
	})
	if inbox := s.Folder("bob@corp.test", store.FolderInbox); len(inbox) != 0 {
		t.Errorf("bob@corp.test's local Inbox has %d messages, want none (his mail lives upstream)", len(inbox))
	}
	if sent := s.Folder("alice@corp.test", store.FolderSent); len(sent) != 1 {
		t.Errorf("alice@corp.test's Sent Items has %d messages, want 1", len(sent))
	}
}

// TestRelayDomain_DSNGoesUpstream: a permanent upstream failure's DSN to
// a sender in a relay domain goes upstream, to the sender's real
// mailbox, not into a local Inbox.
func TestRelayDomain_DSNGoesUpstream(t *testing.T) {
	te := testkit.StartTokenEndpoint(t)
	cert := testkit.NewCert(t)
	up := testkit.StartUpstream(t, te, cert, testkit.MXOptions{Rcpt: reject(550, smtp.EnhancedCode{5, 1, 1}, "gone@corp.test")})
	s := testkit.Start(t, relayFixture(t), gateway(t, te, up, cert, "corp.test"))
	id := s.Send("alice@corp.test", pw, "alice@corp.test", []string{"gone@corp.test"}, "Subject: bounce\n\nx\n")
	waitState(t, s, id, map[string]string{"gone@corp.test": store.StateFailed})
	testkit.Eventually(t, "the DSN reaches the upstream", func() bool {
		for _, m := range up.Accepted() {
			if m.From == "" && slices.Equal(m.Rcpts, []string{"alice@corp.test"}) {
				return strings.Contains(string(m.Data), "gone@corp.test") && strings.Contains(string(m.Data), "5.1.1")
			}
		}
		return false
	})
	if inbox := s.Folder("alice@corp.test", store.FolderInbox); len(inbox) != 0 {
		t.Errorf("alice@corp.test's local Inbox has %d messages, want none (the DSN goes upstream)", len(inbox))
	}
}
