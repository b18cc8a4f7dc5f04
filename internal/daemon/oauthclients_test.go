package daemon_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"mailroom/internal/admin"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
	"mailroom/internal/trace"
)

// Issue 18, item 3: app-only OAuth clients act as the mailboxes an
// administrator gave them (mailroom oauth-client add), the SASL user
// picking which, as Exchange Online's SMTP.SendAsApp.

const (
	appAudience = "api://mailroom"
	appRole     = "SMTP.SendAsApp"
	appClient   = "6f1c2a4e-billing"
)

// startApp runs a daemon trusting a fresh IdP (requiring appRole), with
// alice, carol and bob, and appClient allowed to act as alice and carol.
func startApp(t *testing.T) (*testkit.Server, *testkit.IdP) {
	t.Helper()
	p := testkit.StartIdP(t)
	s := testkit.Start(t, func(a *admin.Service) {
		fixture(a)
		ctx := context.Background()
		if _, _, err := a.AddMailbox(ctx, admin.NewMailbox{Address: "bob@example.test", Password: pw}); err != nil {
			panic(err)
		}
		if _, err := a.AddOAuthClient(ctx, admin.OAuthClientSpec{Issuer: p.Issuer, ClientID: appClient,
			Mailboxes: []string{"alice@example.test", "Carol@Example.test"}}); err != nil {
			panic(err)
		}
	}, testkit.WithIssuer(p.Config(appAudience, appRole)))
	return s, p
}

// appToken is a client-credentials token of client, as Entra ID issues
// one: azp, client_id and appid name the client, roles carries the role,
// and there is no scp and no address claim.
func appToken(p *testkit.IdP, client string) (token, jti string) {
	c := p.Claims(appAudience)
	c["azp"], c["client_id"], c["appid"], c["idtyp"], c["roles"] = client, client, client, "app", []string{appRole}
	return p.Mint(c), c["jti"].(string)
}

func xoauth2(user, token string) string {
	return base64.StdEncoding.EncodeToString([]byte("user=" + user + "\x01auth=Bearer " + token + "\x01\x01"))
}

// appSession dials the STARTTLS port, says EHLO and upgrades.
func appSession(t *testing.T, s *testkit.Server) *testkit.Conn {
	t.Helper()
	c := testkit.Dial(t, s.Addr("submission"))
	c.MustCmd("EHLO client.example.test", 250, "")
	c.StartTLS(s.TLSConfig())
	return c
}

// refusedAppToken runs RFC 7628's failure: the 334 error challenge with
// status invalid_token, the client's empty answer, then 535 5.7.8.
func refusedAppToken(t *testing.T, c *testkit.Conn, user, token string) testkit.Reply {
	t.Helper()
	r := c.Expect(c.Cmd("AUTH XOAUTH2 "+xoauth2(user, token)), 334, "")
	b, err := base64.StdEncoding.DecodeString(r.Text)
	var e struct{ Status, Schemes, Scope string }
	if err != nil || json.Unmarshal(b, &e) != nil || e.Status != "invalid_token" || e.Schemes != "bearer" || e.Scope != appRole {
		t.Fatalf("error challenge %q (%s): want invalid_token, bearer, %s", r.Text, b, appRole)
	}
	return c.Expect(c.Cmd(""), 535, "5.7.8")
}

// TestOAuthClient_ActsAsItsMailboxes: the client's app-only token logs
// in as each of its two mailboxes (user= picks which) and submits; the
// message is delivered and the trace names the client, not the token.
func TestOAuthClient_ActsAsItsMailboxes(t *testing.T) {
	s, p := startApp(t)
	for i, mb := range []string{"alice@example.test", "carol@example.test"} {
		token, jti := appToken(p, appClient)
		c := appSession(t, s)
		c.Expect(c.Cmd("AUTH XOAUTH2 "+xoauth2(mb, token)), 235, "2.0.0")
		c.MustCmd("MAIL FROM:<"+mb+">", 250, "2.0.0")
		c.MustCmd("RCPT TO:<bob@example.test>", 250, "2.0.0")
		r := c.SendData("From: " + mb + "\r\nTo: bob@example.test\r\nSubject: invoice\r\n\r\nattached\r\n")
		c.Expect(r, 250, "2.0.0")
		if st := s.QueueStates(testkit.QueueID(r)); st["bob@example.test"] != store.StateDelivered {
			t.Errorf("as %s: queue states %v, want bob delivered", mb, st)
		}
		if in := s.Folder("bob@example.test", store.FolderInbox); len(in) != i+1 || !strings.Contains(in[i], "From: "+mb) {
			t.Fatalf("as %s: bob's Inbox %q", mb, in)
		}
		if sent := s.Folder(mb, store.FolderSent); len(sent) != 1 {
			t.Errorf("%s's Sent Items hold %d messages, want 1", mb, len(sent))
		}
		c.Close()

		s.Daemon.FlushTrace()
		ts, err := s.Admin.Trace(context.Background(), admin.TraceQuery{Sender: mb, Since: time.Hour}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		want := "method=xoauth2 issuer=" + p.Issuer + " client=" + appClient + " jti=" + jti
		if e, ok := authEvent(ts); !ok || e.Detail != want || e.Mailbox != mb {
			t.Errorf("as %s: auth event %+v, want detail %q", mb, e, want)
		}
	}
	if strings.Contains(s.Log(), "eyJ") {
		t.Error("the log holds a token")
	}
}

// authEvent is the first AUTH event of the timelines.
func authEvent(ts []admin.Timeline) (store.TraceEvent, bool) {
	for _, tl := range ts {
		for _, e := range tl.Events {
			if e.Kind == trace.KindAuth {
				return e, true
			}
		}
	}
	return store.TraceEvent{}, false
}

// TestOAuthClient_Refused: a mailbox not given to the client, a client
// never added, and a client removed afterwards get the error challenge
// and 535 5.7.8 naming why; a mailbox given to the client with SMTP AUTH
// off gets 535 5.7.139, as a password would.
func TestOAuthClient_Refused(t *testing.T) {
	s, p := startApp(t)
	ctx := context.Background()
	token, _ := appToken(p, appClient)

	c := appSession(t, s)
	r := refusedAppToken(t, c, "bob@example.test", token)
	if !strings.Contains(r.Text, "client "+appClient+" (issuer "+p.Issuer+") may not act as bob@example.test; it may act as alice@example.test, carol@example.test") {
		t.Errorf("mailbox not listed: %q", r.Text)
	}
	other, _ := appToken(p, "someone-else")
	r = refusedAppToken(t, c, "alice@example.test", other)
	if !strings.Contains(r.Text, "mailroom oauth-client add someone-else --issuer "+p.Issuer) {
		t.Errorf("unknown client: %q", r.Text)
	}

	off := false
	if _, err := s.Admin.SetMailbox(ctx, "carol@example.test", admin.MailboxChange{SMTPAuth: &off}); err != nil {
		t.Fatal(err)
	}
	s.SyncDirectory()
	r = c.Expect(c.Cmd("AUTH XOAUTH2 "+xoauth2("carol@example.test", token)), 535, "5.7.139")
	if !strings.Contains(r.Text, "SMTP AUTH is disabled for carol@example.test") {
		t.Errorf("SMTP AUTH off: %q", r.Text)
	}

	if err := s.Admin.RemoveOAuthClient(ctx, admin.OAuthClientSpec{Issuer: p.Issuer, ClientID: appClient}); err != nil {
		t.Fatal(err)
	}
	s.SyncDirectory()
	r = refusedAppToken(t, c, "alice@example.test", token)
	if !strings.Contains(r.Text, "may act as no mailbox here") {
		t.Errorf("removed client: %q", r.Text)
	}
}
