package delivery_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"mailroom/internal/admin"
	"mailroom/internal/config"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

// gateway is a route for domains to up, logging in with XOAUTH2 and
// tokens of te (the client secret in a file, as an administrator keeps
// it); retries after 20 ms.
func gateway(t *testing.T, te *testkit.TokenEndpoint, up *testkit.Upstream, cert testkit.Cert, domains ...string) testkit.Option {
	secret := filepath.Join(t.TempDir(), "client-secret")
	if err := os.WriteFile(secret, []byte(te.ClientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return func(c *config.Config) {
		c.Delivery.RetrySchedule = []config.Duration{config.Duration(20 * time.Millisecond)}
		c.Delivery.TLSCAFile = cert.CAFile
		c.Delivery.Routes = append(c.Delivery.Routes, config.Route{
			Domains: domains, Host: up.Addr, TLS: config.TLSStartTLS, Auth: config.AuthXOAUTH2,
			OAuthTokenURL: te.URL, OAuthClientID: te.ClientID, OAuthClientSecretFile: secret, OAuthScope: te.Scope,
		})
	}
}

// TestRoute_XOAUTH2AsTheSender: mail to a route's domain reaches the
// upstream over verified TLS, logged in with user= the sender; one token
// serves every message and sender.
func TestRoute_XOAUTH2AsTheSender(t *testing.T) {
	te := testkit.StartTokenEndpoint(t)
	cert := testkit.NewCert(t)
	up := testkit.StartUpstream(t, te, cert, testkit.MXOptions{})
	s := testkit.Start(t, fixture, gateway(t, te, up, cert, "corp.test"))
	var ids []string
	for i := range 3 {
		ids = append(ids, s.Send("alice@example.test", pw, "alice@example.test", []string{"bob@corp.test"}, "Subject: report "+string(rune('1'+i))+"\n\nx\n"))
	}
	ids = append(ids, s.Send("carol@example.test", pw, "carol@example.test", []string{"dave@corp.test", "erin@corp.test"}, "Subject: hi\n\nx\n"))
	testkit.Eventually(t, "the upstream has the 4 messages", func() bool { return len(up.Accepted()) == 4 })
	got := up.Accepted()
	for _, m := range got {
		if m.User != m.From || !m.TLS {
			t.Errorf("upstream got %+v: want user= the envelope sender, over TLS", m)
		}
	}
	if n := te.Requests(); n != 1 {
		t.Errorf("%d token requests for 4 messages from 2 senders, want 1", n)
	}
	if r := row(t, s, ids[0], "bob@corp.test"); !strings.HasPrefix(r.LastReply, "250") {
		t.Errorf("last reply %q, want the upstream's 250", r.LastReply)
	}
}

// TestRoute_RefusedTokenRefreshedOnce: a token the upstream refuses
// before its expiry (revoked) is replaced once, and the message goes.
func TestRoute_RefusedTokenRefreshedOnce(t *testing.T) {
	te := testkit.StartTokenEndpoint(t)
	cert := testkit.NewCert(t)
	up := testkit.StartUpstream(t, te, cert, testkit.MXOptions{})
	s := testkit.Start(t, fixture, gateway(t, te, up, cert, "corp.test"))
	id := s.Send("alice@example.test", pw, "alice@example.test", []string{"bob@corp.test"}, "Subject: one\n\nx\n")
	waitState(t, s, id, map[string]string{"bob@corp.test": store.StateDelivered})
	te.RevokeAll()
	// Another sender: a new session, which logs in with the cached token.
	id = s.Send("carol@example.test", pw, "carol@example.test", []string{"bob@corp.test"}, "Subject: two\n\nx\n")
	waitState(t, s, id, map[string]string{"bob@corp.test": store.StateDelivered})
	if r := row(t, s, id, "bob@corp.test"); r.Attempts != 1 {
		t.Errorf("delivered after %d attempts, want 1 (the refresh is inside the attempt)", r.Attempts)
	}
	if te.Requests() != 2 || up.Refusals() != 1 {
		t.Errorf("%d token requests, %d refusals; want 2 and 1", te.Requests(), up.Refusals())
	}
}

// TestRoute_RefusedTwiceWaits: when the fresh token is refused too, the
// attempt is transient (a configuration to fix, not mail to bounce), with
// the upstream's reply in the row and the trace.
func TestRoute_RefusedTwiceWaits(t *testing.T) {
	te := testkit.StartTokenEndpoint(t)
	other := testkit.StartTokenEndpoint(t) // tokens the upstream does not know
	cert := testkit.NewCert(t)
	up := testkit.StartUpstream(t, te, cert, testkit.MXOptions{})
	s := testkit.Start(t, fixture, gateway(t, other, up, cert, "corp.test"), withDelivery(func(d *config.Delivery) {
		d.RetrySchedule = []config.Duration{config.Duration(20 * time.Millisecond), config.Duration(time.Hour)}
	}))
	id := s.Send("alice@example.test", pw, "alice@example.test", []string{"bob@corp.test"}, "Subject: refused\n\nx\n")
	testkit.Eventually(t, "two attempts", func() bool { return row(t, s, id, "bob@corp.test").Attempts == 2 })
	r := row(t, s, id, "bob@corp.test")
	if r.State != store.StateQueued || !strings.HasPrefix(r.LastReply, "454 4.7.0") || !strings.Contains(r.LastReply, "535 5.7.3 Authentication unsuccessful") || !strings.Contains(r.LastReply, "alice@example.test") {
		t.Fatalf("row %+v, want queued with 454 4.7.0 naming the upstream's 535 5.7.3 and the user", r)
	}
	// Each attempt: the cached token, refused; one fresh token, refused.
	if n, refused := other.Requests(), up.Refusals(); n != 3 || refused != 4 {
		t.Errorf("%d token requests, %d refusals over 2 attempts; want 3 and 4", n, refused)
	}
	if len(up.Messages()) != 0 {
		t.Error("a message went upstream without a login")
	}
	ds := s.TraceDetails(admin.TraceQuery{QueueID: id})
	if len(ds) != 1 || len(ds[0].ByRecipient) != 1 || len(ds[0].ByRecipient[0].Events) == 0 {
		t.Fatalf("trace of %s: %+v", id, ds)
	}
	if evs := ds[0].ByRecipient[0].Events; !strings.Contains(admin.FormatEvent(evs[len(evs)-1]), "535 5.7.3") {
		t.Errorf("deliveries %+v: want the last to carry the upstream's 535", evs)
	}
}

// TestRoute_FailureNoticeToPostmaster: a recipient the upstream refuses
// fails; the sender's DSN lands in the Inbox here and a copy goes to
// delivery.postmaster, which lives upstream: through the route, logged
// in as the postmaster (a DSN has no sender).
func TestRoute_FailureNoticeToPostmaster(t *testing.T) {
	te := testkit.StartTokenEndpoint(t)
	cert := testkit.NewCert(t)
	up := testkit.StartUpstream(t, te, cert, testkit.MXOptions{Rcpt: reject(550, smtp.EnhancedCode{5, 1, 1}, "gone@corp.test")})
	s := testkit.Start(t, fixture, gateway(t, te, up, cert, "corp.test"), func(c *config.Config) { c.Delivery.Postmaster = "IT@corp.test" })
	id := s.Send("alice@example.test", pw, "alice@example.test", []string{"gone@corp.test", "bob@corp.test"}, "Subject: partly\n\nx\n")
	waitState(t, s, id, map[string]string{"gone@corp.test": store.StateFailed, "bob@corp.test": store.StateDelivered})
	testkit.Eventually(t, "the postmaster's copy reaches the upstream", func() bool {
		for _, m := range up.Accepted() {
			if m.From == "" && len(m.Rcpts) == 1 && m.Rcpts[0] == "it@corp.test" {
				return true
			}
		}
		return false
	})
	inbox := s.Folder("alice@example.test", store.FolderInbox)
	if len(inbox) != 1 || !strings.Contains(inbox[0], "gone@corp.test") || !strings.Contains(inbox[0], "5.1.1") {
		t.Fatalf("alice's Inbox %q, want one DSN naming gone@corp.test and 5.1.1", inbox)
	}
	for _, m := range up.Accepted() {
		if m.From == "" && (m.User != "it@corp.test" || !strings.Contains(string(m.Data), "gone@corp.test")) {
			t.Errorf("postmaster copy %+v: want the DSN, logged in as it@corp.test", m)
		}
	}
}

// TestRoute_SendAsStillCheckedHere: the seed's case behind a gateway: an
// app logged in as app@ sending as a shared address without a grant is
// refused here, with the grant to make, before anything goes upstream.
func TestRoute_SendAsStillCheckedHere(t *testing.T) {
	te := testkit.StartTokenEndpoint(t)
	cert := testkit.NewCert(t)
	up := testkit.StartUpstream(t, te, cert, testkit.MXOptions{})
	setup := func(a *admin.Service) {
		fixture(a)
		ctx := context.Background()
		testkit.MustAdd(t, func() error {
			_, _, err := a.AddMailbox(ctx, admin.NewMailbox{Address: "app@example.test", Password: pw})
			return err
		}())
		testkit.MustAdd(t, func() error {
			_, _, err := a.AddMailbox(ctx, admin.NewMailbox{Address: "support@example.test", Shared: true})
			return err
		}())
	}
	s := testkit.Start(t, setup, gateway(t, te, up, cert, "corp.test"))
	c := testkit.Ready(t, s, "app@example.test", pw)
	r := c.MustCmd("MAIL FROM:<support@example.test>", 550, "5.7.60")
	if !strings.Contains(r.Text, "mailroom grant send-as --on support@example.test --to app@example.test") {
		t.Fatalf("550 does not name the grant: %q", r.Text)
	}
	c.MustCmd("MAIL FROM:<app@example.test>", 250, "2.0.0")
	c.MustCmd("RCPT TO:<bob@corp.test>", 250, "2.0.0")
	c.Expect(c.SendData("From: Support <support@example.test>\nTo: bob@corp.test\nSubject: ticket\n\nx\n"), 554, "5.7.60")
	if te.Requests() != 0 || up.Connections() != 0 {
		t.Errorf("%d token requests, %d upstream connections; want none for refused mail", te.Requests(), up.Connections())
	}
}
