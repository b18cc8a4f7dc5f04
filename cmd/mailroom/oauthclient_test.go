package main

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mailroom/internal/admin"
	"mailroom/internal/testkit"
)

// TestCLI_OAuthClient: oauth-client add, list and remove against the data
// directory of a running server, whose app-only logins follow each change.
func TestCLI_OAuthClient(t *testing.T) {
	p := testkit.StartIdP(t)
	s := testkit.Start(t, func(a *admin.Service) {
		ctx := context.Background()
		a.AddDomain(ctx, "example.test")
		for _, m := range []string{"alice@example.test", "bob@example.test"} {
			a.AddMailbox(ctx, admin.NewMailbox{Address: m, Password: "correct-horse-battery"})
		}
	}, testkit.WithIssuer(p.Config("api://mailroom", "SMTP.SendAsApp")))
	cfg := filepath.Join(t.TempDir(), "mailroom.toml")
	os.WriteFile(cfg, []byte("data_dir = \""+s.DataDir()+"\"\n[[oauth.issuers]]\nissuer = \""+p.Issuer+"\"\naudience = \"api://mailroom\"\n"), 0o600)

	claims := p.Claims("api://mailroom")
	claims["azp"], claims["roles"] = "billing", []string{"SMTP.SendAsApp"}
	token := p.Mint(claims)
	// login logs in as user with the token: 235 2.0.0 when ok, else
	// the RFC 7628 error challenge, answered, then 535 5.7.8.
	login := func(user string, ok bool) testkit.Reply {
		c := testkit.Dial(t, s.Addr("submission"))
		defer c.Close()
		c.MustCmd("EHLO client.example.test", 250, "")
		c.StartTLS(s.TLSConfig())
		auth := "AUTH XOAUTH2 " + base64.StdEncoding.EncodeToString([]byte("user="+user+"\x01auth=Bearer "+token+"\x01\x01"))
		if ok {
			return c.MustCmd(auth, 235, "2.0.0")
		}
		c.MustCmd(auth, 334, "")
		return c.MustCmd("", 535, "5.7.8")
	}

	if _, err := tryRun("", "oauth-client", "add", "billing", "--issuer", "https://evil.example", "--mailbox", "alice@example.test", "--config", cfg); err == nil ||
		!strings.Contains(err.Error(), "is not one of the [[oauth.issuers]]") {
		t.Fatalf("unknown issuer: %v", err)
	}
	if _, err := tryRun("", "oauth-client", "add", "billing", "--config", cfg); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Fatalf("add without --mailbox: %v", err)
	}
	// --issuer left out: the one configured.
	out := run(t, "", "oauth-client", "add", "billing", "--mailbox", "alice@example.test,Bob@example.test", "--config", cfg)
	if !strings.Contains(out, "OAuth client billing of "+p.Issuer+" may act as alice@example.test, bob@example.test") {
		t.Errorf("add:\n%s", out)
	}
	out = run(t, "", "oauth-client", "list", "--config", cfg)
	if !strings.Contains(out, "ISSUER") || !strings.Contains(out, p.Issuer+"  billing  alice@example.test, bob@example.test") {
		t.Errorf("list:\n%s", out)
	}
	s.SyncDirectory()
	login("bob@example.test", true)

	run(t, "", "oauth-client", "remove", "billing", "--mailbox", "bob@example.test", "--config", cfg)
	s.SyncDirectory()
	if r := login("bob@example.test", false); !strings.Contains(r.Text, "may not act as bob@example.test; it may act as alice@example.test") {
		t.Errorf("after removing bob: %s", r)
	}
	login("alice@example.test", true)

	out = run(t, "", "oauth-client", "remove", "billing", "--issuer", p.Issuer, "--config", cfg)
	if !strings.Contains(out, "OAuth client billing of "+p.Issuer+" removed") {
		t.Errorf("remove:\n%s", out)
	}
	if _, err := tryRun("", "oauth-client", "remove", "billing", "--config", cfg); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("removing twice: %v", err)
	}
	s.SyncDirectory()
	if r := login("alice@example.test", false); !strings.Contains(r.Text, "may act as no mailbox here") {
		t.Errorf("after removing the client: %s", r)
	}
}
