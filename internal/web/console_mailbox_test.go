package web_test

import (
	"context"
	"strings"
	"testing"

	"mailroom/internal/admin"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

// TestConsole_MailboxTraceLinks: a user mailbox's page links the trace of
// what it submitted (mailbox=, the logged-in mailbox); a shared mailbox's
// page, which nobody logs in as, links the trace of mail sent from its
// address (sender=: sent as it or on its behalf), as does a user
// mailbox's page when others may send as it. Each link finds what it
// says and nothing else.
func TestConsole_MailboxTraceLinks(t *testing.T) {
	s := startConsole(t, func(ctx context.Context, a *admin.Service) {
		_, _, err := a.AddMailbox(ctx, admin.NewMailbox{Address: "support@example.test", Shared: true})
		testkit.MustAdd(t, err)
		_, err = a.AddGrant(ctx, admin.GrantSpec{Kind: store.GrantSendAs, On: "support@example.test", To: "bob@example.test"})
		testkit.MustAdd(t, err)
	})
	s.Send("app@example.test", consolePW, "app@example.test", []string{"bob@example.test"},
		"From: app@example.test\r\nTo: bob@example.test\r\nSubject: Sent by app\r\n\r\nx\r\n")
	s.Send("bob@example.test", consolePW, "support@example.test", []string{"app@example.test"},
		"From: support@example.test\r\nTo: app@example.test\r\nSubject: Sent as support\r\n\r\nx\r\n")
	s.Daemon.FlushTrace()
	b := logIn(t, s, "root", consolePW)

	for _, c := range []struct {
		page, link, nolink string
	}{
		{"/mailboxes/app@example.test", `href="/trace?mailbox=app%40example.test"`, "/trace?sender="},
		{"/mailboxes/bob@example.test", `href="/trace?mailbox=bob%40example.test"`, "/trace?sender="},
		{"/mailboxes/support@example.test", `href="/trace?sender=support%40example.test"`, "/trace?mailbox="},
		{"/mailboxes/app@example.test/activity", `href="/trace?mailbox=app%40example.test"`, "/trace?sender="},
	} {
		_, body := b.get(c.page)
		if !strings.Contains(body, c.link) || strings.Contains(body, c.nolink) {
			t.Errorf("%s: want a link %s and none to %s:\n%s", c.page, c.link, c.nolink, body)
		}
	}
	for _, c := range []struct{ path, want, not string }{
		{"/trace?mailbox=app%40example.test", "Sent by app", "Sent as support"},
		{"/trace?mailbox=bob%40example.test", "Sent as support", "Sent by app"},
		{"/trace?sender=support%40example.test", "Sent as support", "Sent by app"},
	} {
		if _, body := b.get(c.path); !strings.Contains(body, c.want) || strings.Contains(body, c.not) {
			t.Errorf("%s: want %q, not %q", c.path, c.want, c.not)
		}
	}
}
