package web_test

import (
	"context"
	"net/http"
	"net/url"
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

// TestConsole_AppPasswordNetworks: an app password's networks are changed
// from its row on the mailbox page without reissuing it: bound to
// 192.0.2.0/24 it cannot log in from 127.0.0.1 (535 5.7.139); after the
// form binds it to 127.0.0.0/8 the same password logs in, and after the
// form empties it it logs in wherever the mailbox may. The form needs the
// CSRF token; a bad network and an unknown label are refused on the page.
func TestConsole_AppPasswordNetworks(t *testing.T) {
	var secret string
	s := startConsole(t, func(ctx context.Context, a *admin.Service) {
		var err error
		_, secret, err = a.AddAppPassword(ctx, admin.NewAppPassword{Mailbox: "app@example.test", Label: "printer", Networks: []string{"192.0.2.0/24"}})
		testkit.MustAdd(t, err)
	})
	login := func() testkit.Reply {
		t.Helper()
		c := testkit.Dial(t, s.Addr("submission"))
		defer c.Close()
		c.MustCmd("EHLO client.example.test", 250, "")
		c.StartTLS(s.TLSConfig())
		return c.AuthPlain("app@example.test", secret)
	}
	if r := login(); r.Code != 535 || r.Enhanced != "5.7.139" {
		t.Fatalf("login from 127.0.0.1 with an app password bound to 192.0.2.0/24: %q", r.String())
	}

	b := logIn(t, s, "root", consolePW)
	const page = "/mailboxes/app@example.test"
	_, body := b.get(page)
	form := rowOf(t, body, "<td>printer</td>")
	for _, want := range []string{`action="/mailboxes/app@example.test/app-passwords/networks"`, `name="label" value="printer"`, `name="networks" value="192.0.2.0/24"`, `name="csrf"`} {
		if !strings.Contains(form, want) {
			t.Errorf("app password row: no %q in\n%s", want, form)
		}
	}
	tok := csrfField.FindStringSubmatch(body)[1]
	set := func(v url.Values) (int, string) {
		t.Helper()
		resp, body := b.post(page+"/app-passwords/networks", v)
		return resp.StatusCode, body
	}
	if code, _ := set(url.Values{"label": {"printer"}, "networks": {"127.0.0.0/8"}}); code != http.StatusForbidden {
		t.Errorf("without the CSRF token: %d", code)
	}
	if code, body := set(url.Values{"csrf": {tok}, "label": {"printer"}, "networks": {"not-a-net"}}); code != http.StatusBadRequest || !strings.Contains(body, "not-a-net") {
		t.Errorf("a bad network: %d\n%s", code, body)
	}
	if code, body := set(url.Values{"csrf": {tok}, "label": {"scanner"}, "networks": {"127.0.0.0/8"}}); code != http.StatusNotFound || !strings.Contains(body, "no app password labelled scanner") {
		t.Errorf("an unknown label: %d\n%s", code, body)
	}
	s.SyncDirectory()
	if r := login(); r.Code != 535 {
		t.Fatalf("refused changes let the app password in: %q", r.String())
	}

	code, body := set(url.Values{"csrf": {tok}, "label": {"printer"}, "networks": {"127.0.0.0/8"}})
	if code != http.StatusOK || !strings.Contains(body, "App password printer may now log in from 127.0.0.0/8") || !strings.Contains(body, "<td>printer</td><td>127.0.0.0/8</td>") {
		t.Fatalf("set networks: %d\n%s", code, body)
	}
	s.SyncDirectory()
	if r := login(); r.Code != 235 || r.Enhanced != "2.0.0" {
		t.Fatalf("login with the same app password after the change: %q", r.String())
	}
	if code, body := set(url.Values{"csrf": {tok}, "label": {"printer"}, "networks": {""}}); code != http.StatusOK || !strings.Contains(body, "wherever the mailbox may log in") {
		t.Fatalf("clear networks: %d\n%s", code, body)
	}
}
