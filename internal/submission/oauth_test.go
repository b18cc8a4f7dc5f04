package submission_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"mailroom/internal/admin"
	"mailroom/internal/config"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
	"mailroom/internal/trace"
)

// Issue 18: SMTP AUTH with OAuth 2.0 tokens of the organisation's
// identity provider (the loopback IdP of the test kit).

const audience = "api://mailroom"

// oauthFixture is fixture with an alias of alice's.
func oauthFixture(a *admin.Service) {
	fixture(a)
	if _, err := a.AddAlias(context.Background(), "alice@example.test", "alice.smith@example.test"); err != nil {
		panic(err)
	}
}

// startOAuth runs a daemon that trusts a fresh IdP, requiring SMTP.Send.
func startOAuth(t *testing.T, opts ...testkit.Option) (*testkit.Server, *testkit.IdP) {
	t.Helper()
	p := testkit.StartIdP(t)
	s := testkit.Start(t, oauthFixture, append([]testkit.Option{testkit.WithIssuer(p.Config(audience, "SMTP.Send")),
		limitsConfig(func(l *config.Limits) { l.LoginFailuresPerAddress = 1000 })}, opts...)...)
	return s, p
}

// person is the claims of alice's (or another person's) delegated token,
// issued to the client "web-app".
func person(p *testkit.IdP, email string) map[string]any {
	c := p.Claims(audience)
	c["email"], c["scp"], c["azp"] = email, "SMTP.Send openid", "web-app"
	return c
}

func xoauth2(user, token string) string {
	return base64.StdEncoding.EncodeToString([]byte("user=" + user + "\x01auth=Bearer " + token + "\x01\x01"))
}

func oauthBearer(user, token string) string {
	authz := ""
	if user != "" {
		authz = "a=" + user
	}
	return base64.StdEncoding.EncodeToString([]byte("n," + authz + ",\x01host=mail.example.test\x01port=587\x01auth=Bearer " + token + "\x01\x01"))
}

// tlsSession dials the STARTTLS port, says EHLO and upgrades.
func tlsSession(t *testing.T, s *testkit.Server) *testkit.Conn {
	t.Helper()
	c := testkit.Dial(t, s.Addr("submission"))
	c.MustCmd("EHLO client.example.test", 250, "")
	c.StartTLS(s.TLSConfig())
	return c
}

// refusedToken runs the RFC 7628 failure: the 334 error challenge, whose
// JSON status it checks, the client's answer, then 535 5.7.8.
func refusedToken(t *testing.T, c *testkit.Conn, mech, initial, status string) testkit.Reply {
	t.Helper()
	r := c.Expect(c.Cmd("AUTH "+mech+" "+initial), 334, "")
	b, err := base64.StdEncoding.DecodeString(r.Text)
	var e struct{ Status, Schemes, Scope string }
	if err != nil || json.Unmarshal(b, &e) != nil || e.Status != status || e.Schemes != "bearer" {
		t.Fatalf("%s error challenge %q (%s): want status %s", mech, r.Text, b, status)
	}
	answer := "" // XOAUTH2 clients answer with an empty line
	if mech == "OAUTHBEARER" {
		answer = "AQ==" // %x01 (RFC 7628 §3.2.3)
	}
	return c.Expect(c.Cmd(answer), 535, "5.7.8")
}

func TestOAuth_Advertised(t *testing.T) {
	s, _ := startOAuth(t)
	c := testkit.Dial(t, s.Addr("submission"))
	if r := c.MustCmd("EHLO client.example.test", 250, ""); strings.Contains(r.String(), "AUTH") {
		t.Errorf("AUTH before TLS:\n%s", r)
	}
	c.Expect(c.Cmd("AUTH XOAUTH2 "+xoauth2("alice@example.test", "x")), 538, "5.7.11")
	if r := c.StartTLS(s.TLSConfig()); !strings.Contains(r.String(), "AUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER") {
		t.Errorf("EHLO under TLS with an issuer:\n%s", r)
	}
	// Without an issuer neither mechanism is offered.
	plain := testkit.Start(t, fixture)
	c = tlsSession(t, plain)
	c.Expect(c.Cmd("AUTH XOAUTH2 "+xoauth2("alice@example.test", "x")), 504, "5.5.4")
	c.Expect(c.Cmd("AUTH OAUTHBEARER "+oauthBearer("alice@example.test", "x")), 504, "5.5.4")
}

// TestOAuth_DelegatedSubmission: alice's token logs in with each
// mechanism, with or without the SASL user (her address or her alias),
// with RS256, ES256 and EdDSA keys, and submits.
func TestOAuth_DelegatedSubmission(t *testing.T) {
	s, p := startOAuth(t)
	p.Publish(p.NewKey(jose.ES256)) // published before the first fetch
	es := p.NewKey(jose.ES256)
	ed := p.NewKey(jose.EdDSA)
	p.Publish(es)
	p.Publish(ed)
	for i, tc := range []struct{ name, mech, initial string }{
		{"XOAUTH2", "XOAUTH2", xoauth2("alice@example.test", p.Mint(person(p, "alice@example.test")))},
		{"XOAUTH2, user is an alias", "XOAUTH2", xoauth2("Alice.Smith@example.test", es.Sign(t, person(p, "alice@example.test")))},
		{"XOAUTH2, claim is an alias", "XOAUTH2", xoauth2("alice@example.test", ed.Sign(t, person(p, "alice.smith@example.test")))},
		{"OAUTHBEARER", "OAUTHBEARER", oauthBearer("alice@example.test", ed.Sign(t, person(p, "alice@example.test")))},
		{"OAUTHBEARER, no authzid", "OAUTHBEARER", oauthBearer("", es.Sign(t, person(p, "alice@example.test")))},
	} {
		c := tlsSession(t, s)
		c.Expect(c.Cmd("AUTH "+tc.mech+" "+tc.initial), 235, "2.0.0")
		msg := "From: alice@example.test\nTo: carol@example.test\nSubject: token " + tc.name + "\n\nhello\n"
		c.Expect(submit(t, c, "alice@example.test", "carol@example.test", msg), 250, "2.0.0")
		c.Cmd("QUIT")
		if n := len(readFolder(t, s, "carol@example.test", store.FolderInbox)); n != i+1 {
			t.Fatalf("%s: carol's inbox has %d messages, want %d", tc.name, n, i+1)
		}
	}
	// Without an initial response: an empty 334, then the message.
	c := tlsSession(t, s)
	c.Expect(c.Cmd("AUTH XOAUTH2"), 334, "")
	c.Expect(c.Cmd(xoauth2("alice@example.test", p.Mint(person(p, "alice@example.test")))), 235, "2.0.0")
	if n := p.JWKSFetches(); n != 1 {
		t.Errorf("keys fetched %d times, want 1", n)
	}
}

// TestOAuth_RefusedTokens: every token that must not log in gets the
// RFC 7628 error challenge and 535 5.7.8 naming why; the trace has the
// reason and never the token.
func TestOAuth_RefusedTokens(t *testing.T) {
	s, p := startOAuth(t)
	with := func(k string, v any) map[string]any {
		c := person(p, "alice@example.test")
		c[k] = v
		return c
	}
	now := time.Now()
	c := tlsSession(t, s) // the first token fetches the keys
	c.Expect(c.Cmd("AUTH XOAUTH2 "+xoauth2("alice@example.test", p.Mint(person(p, "alice@example.test")))), 235, "2.0.0")
	stray := p.NewKey(jose.RS256)
	for _, tc := range []struct {
		name, mech, user, token, status, text string
	}{
		{"expired", "XOAUTH2", "alice@example.test", p.Mint(with("exp", now.Add(-10*time.Minute).Unix())), "invalid_token", "the token expired at"},
		{"not yet valid", "OAUTHBEARER", "alice@example.test", p.Mint(with("nbf", now.Add(10*time.Minute).Unix())), "invalid_token", "not valid before"},
		{"wrong audience", "XOAUTH2", "alice@example.test", p.Mint(with("aud", "api://other")), "invalid_token", "audience api://other is not api://mailroom"},
		{"wrong issuer", "OAUTHBEARER", "alice@example.test", p.Mint(with("iss", "https://login.evil.example")), "invalid_token", "is not one this server trusts"},
		{"missing scope", "XOAUTH2", "alice@example.test", p.Mint(with("scp", "openid")), "insufficient_scope", "lacks the scope SMTP.Send"},
		{"bad signature", "XOAUTH2", "alice@example.test", p.Forge(person(p, "alice@example.test")), "invalid_token", "signature does not verify"},
		{"alg none", "OAUTHBEARER", "alice@example.test", testkit.Unsigned(person(p, "alice@example.test")), "invalid_token", "not a JWT signed with RS256, ES256 or EdDSA"},
		{"unknown kid within the minute", "XOAUTH2", "alice@example.test", stray.Sign(t, person(p, "alice@example.test")), "invalid_token", "does not publish"},
		{"user is another mailbox", "XOAUTH2", "carol@example.test", p.Mint(person(p, "alice@example.test")), "invalid_token", "logs in only as its own mailbox, not as carol@example.test"},
		{"claim names no mailbox", "OAUTHBEARER", "", p.Mint(person(p, "nobody@example.test")), "invalid_token", "email claim nobody@example.test names no mailbox"},
		{"shared mailbox as user", "XOAUTH2", "info@example.test", p.Mint(person(p, "alice@example.test")), "invalid_token", "not as info@example.test"},
		{"opaque token", "XOAUTH2", "alice@example.test", "ya29.a0AfH6SMB-opaque", "invalid_token", "not a JWT"},
	} {
		c := tlsSession(t, s)
		initial := xoauth2(tc.user, tc.token)
		if tc.mech == "OAUTHBEARER" {
			initial = oauthBearer(tc.user, tc.token)
		}
		r := refusedToken(t, c, tc.mech, initial, tc.status)
		if !strings.HasPrefix(r.Text, "Authentication credentials invalid: ") || !strings.Contains(r.Text, tc.text) {
			t.Errorf("%s: 535 text %q, want %q", tc.name, r.Text, tc.text)
		}
		c.Close()
	}
	if n := p.JWKSFetches(); n != 1 {
		t.Errorf("keys fetched %d times, want 1: an unknown key id within a minute of the last fetch costs no request", n)
	}

	s.Daemon.FlushTrace()
	refused, err := s.Admin.TraceAttempts(context.Background(), admin.TraceQuery{Status: trace.StatusRefused, Since: time.Hour, Limit: 100}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]int{}
	for _, a := range refused.Attempts {
		if a.Command != "AUTH" {
			continue
		}
		reasons[a.Reason]++
		if !strings.HasPrefix(a.Reply, "535 5.7.8 ") || !strings.HasPrefix(a.Detail, "method=") {
			t.Errorf("refused AUTH %+v", a)
		}
		if strings.Contains(a.Detail+a.Reply, "eyJ") {
			t.Errorf("the trace holds a token: %+v", a)
		}
	}
	if reasons["invalid_token"] != 11 || reasons["insufficient_scope"] != 1 {
		t.Errorf("trace reasons %v, want 11 invalid_token and 1 insufficient_scope", reasons)
	}
}

// TestOAuth_SamePolicyAsPassword: a valid token for a mailbox with SMTP
// AUTH off gets 535 5.7.139 at once (no error challenge: the token is
// good); a mailbox restricted to other networks, the same; failures count
// in the login guard, which then holds back a valid token too.
func TestOAuth_SamePolicyAsPassword(t *testing.T) {
	p := testkit.StartIdP(t)
	s := testkit.Start(t, func(a *admin.Service) {
		oauthFixture(a)
		nets := []string{"192.0.2.0/24"}
		if _, err := a.SetMailbox(context.Background(), "carol@example.test", admin.MailboxChange{Networks: &nets}); err != nil {
			panic(err)
		}
	}, testkit.WithIssuer(p.Config(audience, "SMTP.Send")), limitsConfig(func(l *config.Limits) { l.LoginFailuresPerAddress = 3 }))

	c := tlsSession(t, s)
	r := c.Expect(c.Cmd("AUTH XOAUTH2 "+xoauth2("bob@example.test", p.Mint(person(p, "bob@example.test")))), 535, "5.7.139")
	if !strings.Contains(r.Text, "SMTP AUTH is disabled for bob@example.test") || !strings.Contains(r.Text, "--smtp-auth=on") {
		t.Errorf("SMTP AUTH off: %q", r.Text)
	}
	r = c.Expect(c.Cmd("AUTH OAUTHBEARER "+oauthBearer("carol@example.test", p.Mint(person(p, "carol@example.test")))), 535, "5.7.139")
	if !strings.Contains(r.Text, "network not allowed") {
		t.Errorf("network: %q", r.Text)
	}
	// Two bad tokens, then the third failure locks the address: 421, and
	// the connection closes; a good token is then held back too.
	for range 2 {
		refusedToken(t, c, "XOAUTH2", xoauth2("alice@example.test", p.Mint(person(p, "alice@example.test"))+"x"), "invalid_token")
	}
	c.Expect(c.Cmd("AUTH XOAUTH2 "+xoauth2("alice@example.test", p.Forge(person(p, "alice@example.test")))), 421, "4.7.0")
	c = tlsSession(t, s)
	c.Expect(c.Cmd("AUTH XOAUTH2 "+xoauth2("alice@example.test", p.Mint(person(p, "alice@example.test")))), 421, "4.7.0")
}

// TestOAuth_TraceRecordsTheToken: a token login's trace names the method,
// the issuer, the client and the jti, never the token.
func TestOAuth_TraceRecordsTheToken(t *testing.T) {
	s, p := startOAuth(t)
	claims := person(p, "alice@example.test")
	token := p.Mint(claims)
	c := tlsSession(t, s)
	c.Expect(c.Cmd("AUTH OAUTHBEARER "+oauthBearer("alice@example.test", token)), 235, "2.0.0")
	c.Expect(submit(t, c, "alice@example.test", "carol@example.test", "From: alice@example.test\nTo: carol@example.test\nSubject: t\n\nhi\n"), 250, "2.0.0")
	ts := s.TraceDetails(admin.TraceQuery{Sender: "alice@example.test", Since: time.Hour})
	e, ok := findEvent(ts, trace.KindAuth, "AUTH")
	want := "method=oauthbearer issuer=" + p.Issuer + " client=web-app jti=" + claims["jti"].(string)
	if !ok || e.Detail != want || e.Mailbox != "alice@example.test" {
		t.Fatalf("auth event %+v, want detail %q", e, want)
	}
	if strings.Contains(s.Log(), token) || strings.Contains(s.Log(), strings.Split(token, ".")[2]) {
		t.Error("the log holds the token")
	}
}

// TestOAuth_ProviderUnavailable: keys that cannot be fetched are a
// temporary failure (454 4.7.0), not the client's fault.
func TestOAuth_ProviderUnavailable(t *testing.T) {
	p := testkit.StartIdP(t)
	down := config.OAuthIssuer{Issuer: "http://127.0.0.1:1/realms/down", Audience: audience}
	s := testkit.Start(t, oauthFixture, testkit.WithIssuer(down))
	claims := person(p, "alice@example.test")
	claims["iss"] = down.Issuer
	c := tlsSession(t, s)
	r := c.Expect(c.Cmd("AUTH XOAUTH2 "+xoauth2("alice@example.test", p.Mint(claims))), 454, "4.7.0")
	if !strings.Contains(r.Text, "identity provider") {
		t.Errorf("text %q", r.Text)
	}
}
