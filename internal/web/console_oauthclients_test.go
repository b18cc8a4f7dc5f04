package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestConsole_OAuthClientThroughForm: the Permissions page adds an
// app-only OAuth client, lists it one row per mailbox, shows admin's
// reason for a refusal, and removes a mailbox, then the client.
func TestConsole_OAuthClientThroughForm(t *testing.T) {
	const iss = "https://login.example.com/realms/acme"
	srv, a := consoleServer(t)
	c := newConsoleClient(t, srv)
	c.login("root", "correct-horse-battery")
	if _, _, body := c.do("GET", "/permissions", nil); !strings.Contains(body, "No <code>[[oauth.issuers]]</code> is configured") {
		t.Fatalf("permissions page without an issuer:\n%s", body)
	}
	a.OAuthIssuers = []string{iss}
	tok := c.csrf("/permissions")
	form := url.Values{"csrf": {tok}, "issuer": {iss}, "client_id": {"billing"}, "mailboxes": {"App@example.test"}}
	status, loc, _ := c.do("POST", "/permissions/oauth-client", form)
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/permissions?flash=") {
		t.Fatalf("add: %d %q", status, loc)
	}
	cl, err := a.OAuthClients(context.Background())
	if err != nil || len(cl) != 1 || cl[0].ClientID != "billing" || !slices.Equal(cl[0].Mailboxes, []string{"app@example.test"}) {
		t.Fatalf("admin.OAuthClients after the form: %+v, %v", cl, err)
	}
	_, _, body := c.do("GET", loc, nil)
	if !strings.Contains(body, "OAuth client billing may act as app@example.test.") ||
		!strings.Contains(body, "<td>"+iss+`</td><td>billing</td><td><a href="/mailboxes/app@example.test">app@example.test</a></td>`) {
		t.Fatalf("permissions page after the add:\n%s", body)
	}

	form.Set("mailboxes", "support@example.test")
	if status, _, body := c.do("POST", "/permissions/oauth-client", form); status != http.StatusBadRequest || !strings.Contains(body, "shared mailbox") {
		t.Fatalf("add a shared mailbox: %d\n%s", status, body)
	}

	form.Set("mailboxes", "app@example.test")
	if status, _, _ := c.do("POST", "/permissions/oauth-client/remove", form); status != http.StatusSeeOther {
		t.Fatalf("remove mailbox: %d", status)
	}
	if _, _, body := c.do("GET", "/permissions", nil); !strings.Contains(body, "<td>billing</td><td>no mailbox</td>") {
		t.Fatalf("permissions page after removing the mailbox:\n%s", body)
	}
	form.Set("mailboxes", "")
	if status, _, _ := c.do("POST", "/permissions/oauth-client/remove", form); status != http.StatusSeeOther {
		t.Fatalf("remove client: %d", status)
	}
	if cl, _ := a.OAuthClients(context.Background()); len(cl) != 0 {
		t.Fatalf("clients after removal: %+v", cl)
	}
}
