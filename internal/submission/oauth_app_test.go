package submission_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"mailroom/internal/admin"
	"mailroom/internal/config"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
	"mailroom/internal/trace"
)

// Issue 18, item 3: app-only OAuth clients act as the mailboxes an
// administrator gave them (mailroom oauth-client add), the SASL user
// picking which, as Exchange Online's SMTP.SendAsApp.

const (
	appRole   = "SMTP.SendAsApp"
	appClient = "6f1c2a4e-billing"
)

// startApp runs a daemon trusting a fresh IdP (delegated tokens need
// SMTP.Send, app-only ones appRole), with appClient allowed to act as
// alice and carol.
func startApp(t *testing.T) (*testkit.Server, *testkit.IdP) {
	t.Helper()
	p := testkit.StartIdP(t)
	is := config.OAuthIssuer{Issuer: p.Issuer, Audience: audience, UsernameClaim: "email",
		RequiredScopes: []string{"SMTP.Send"}, RequiredRoles: []string{appRole}}
	s := testkit.Start(t, func(a *admin.Service) {
		fixture(a)
		if _, err := a.AddOAuthClient(context.Background(), admin.OAuthClientSpec{Issuer: p.Issuer, ClientID: appClient,
			Mailboxes: []string{"alice@example.test", "Carol@Example.test"}}); err != nil {
			panic(err)
		}
	}, testkit.WithIssuer(is))
	return s, p
}

// appToken is a client-credentials token of client as Entra ID issues
// one: azp, client_id and appid name the client, roles carries appRole,
// and there is no scp and no address claim.
func appToken(p *testkit.IdP, client string) (token, jti string) {
	c := p.Claims(audience)
	c["azp"], c["client_id"], c["appid"], c["idtyp"], c["roles"] = client, client, client, "app", []string{appRole}
	return p.Mint(c), c["jti"].(string)
}

// TestOAuthApp_ActsAsItsMailboxes: the client's app-only token logs in as
// each of its two mailboxes (user= picks which) and submits; the message
// is delivered and the trace names the client, never the token.
func TestOAuthApp_ActsAsItsMailboxes(t *testing.T) {
	s, p := startApp(t)
	for i, mb := range []string{"alice@example.test", "carol@example.test"} {
		token, jti := appToken(p, appClient)
		c := tlsSession(t, s)
		c.Expect(c.Cmd("AUTH XOAUTH2 "+xoauth2(mb, token)), 235, "2.0.0")
		r := c.Expect(submit(t, c, mb, "bob@example.test", "From: "+mb+"\nTo: bob@example.test\nSubject: invoice\n\nattached\n"), 250, "2.0.0")
		if st := s.QueueStates(testkit.QueueID(r)); st["bob@example.test"] != store.StateDelivered {
			t.Errorf("as %s: queue states %v, want bob delivered", mb, st)
		}
		if in := readFolder(t, s, "bob@example.test", store.FolderInbox); len(in) != i+1 || !strings.Contains(in[i], "From: "+mb) {
			t.Fatalf("as %s: bob's Inbox %q", mb, in)
		}
		c.Close()

		ts := s.TraceDetails(admin.TraceQuery{Sender: mb, Since: time.Hour})
		want := "method=xoauth2 issuer=" + p.Issuer + " client=" + appClient + " jti=" + jti
		if e, ok := findEvent(ts, trace.KindAuth, "AUTH"); !ok || e.Detail != want || e.Mailbox != mb {
			t.Errorf("as %s: auth event %+v, want detail %q", mb, e, want)
		}
		if strings.Contains(s.Log(), token) {
			t.Error("the log holds the token")
		}
	}
}

// TestOAuthApp_Refused: a mailbox not given to the client, a client never
// added, and a client removed afterwards get the error challenge and
// 535 5.7.8 naming why; a mailbox given to the client with SMTP AUTH off
// gets 535 5.7.139, as a password would.
func TestOAuthApp_Refused(t *testing.T) {
	s, p := startApp(t)
	ctx := context.Background()
	token, _ := appToken(p, appClient)
	c := tlsSession(t, s)
	for _, tc := range []struct{ name, user, token, text string }{
		{"mailbox not given", "bob@example.test", token,
			"client " + appClient + " (issuer " + p.Issuer + ") may not act as bob@example.test; it may act as alice@example.test, carol@example.test"},
		{"no SASL user", "", token, "needs the mailbox to act as in the SASL user"},
		{"client never added", "alice@example.test", func() string { t, _ := appToken(p, "someone-else"); return t }(),
			"mailroom oauth-client add someone-else --issuer " + p.Issuer},
	} {
		if r := refusedToken(t, c, "XOAUTH2", xoauth2(tc.user, tc.token), "invalid_token"); !strings.Contains(r.Text, tc.text) {
			t.Errorf("%s: %q, want %q", tc.name, r.Text, tc.text)
		}
	}

	off := false
	if _, err := s.Admin.SetMailbox(ctx, "carol@example.test", admin.MailboxChange{SMTPAuth: &off}); err != nil {
		t.Fatal(err)
	}
	s.SyncDirectory()
	r := c.Expect(c.Cmd("AUTH XOAUTH2 "+xoauth2("carol@example.test", token)), 535, "5.7.139")
	if !strings.Contains(r.Text, "SMTP AUTH is disabled for carol@example.test") {
		t.Errorf("SMTP AUTH off: %q", r.Text)
	}

	if err := s.Admin.RemoveOAuthClient(ctx, admin.OAuthClientSpec{Issuer: p.Issuer, ClientID: appClient}); err != nil {
		t.Fatal(err)
	}
	s.SyncDirectory()
	if r := refusedToken(t, c, "OAUTHBEARER", oauthBearer("alice@example.test", token), "invalid_token"); !strings.Contains(r.Text, "may act as no mailbox here") {
		t.Errorf("removed client: %q", r.Text)
	}
}
