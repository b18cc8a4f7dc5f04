package main

import (
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"mailroom/internal/admin"
	"mailroom/internal/testkit"
)

// serverConfig writes a config file for the CLI on the test server's data dir.
func serverConfig(t *testing.T, s *testkit.Server) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "mailroom.toml")
	if err := os.WriteFile(p, []byte("data_dir = \""+s.DataDir()+"\"\nhostname = \"mail.example.test\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCLI_Trace(t *testing.T) {
	const pw = "correct-horse-battery"
	s := testkit.Start(t, func(a *admin.Service) {
		ctx := context.Background()
		_, err := a.AddDomain(ctx, "example.test")
		testkit.MustAdd(t, err)
		_, _, err = a.AddMailbox(ctx, admin.NewMailbox{Address: "app@example.test", Password: pw})
		testkit.MustAdd(t, err)
		_, _, err = a.AddMailbox(ctx, admin.NewMailbox{Address: "carol@example.test", Password: pw})
		testkit.MustAdd(t, err)
	})
	c := testkit.Ready(t, s, "app@example.test", pw)
	c.MustCmd("MAIL FROM:<boss@example.test>", 550, "5.7.60")
	c.MustCmd("RSET", 250, "")
	c.MustCmd("MAIL FROM:<app@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.Expect(c.SendData("From: app@example.test\nMessage-ID: <cli-1@example.test>\nSubject: hi\n\nhello\n"), 250, "2.0.0")
	c.Close()
	old := testkit.DialFrom(t, s.Addr("submission"), "127.0.0.51")
	old.MustCmd("EHLO printer.example.test", 250, "")
	if err := old.TryStartTLS(&tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10}); err == nil {
		t.Fatal("TLS 1.0 accepted")
	}
	s.WaitTraceEvent("tls", "127.0.0.51")
	cfg := serverConfig(t, s)

	out := run(t, "", "trace", "--config", cfg, "--status", "tls_failed")
	if !regexp.MustCompile(`(?m)^\d+ +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+ +- +- +- +- +- +- +tls_failed +tls_version`).MatchString(out) {
		t.Errorf("trace --status tls_failed: no tls_failed row in:\n%s", out)
	}
	if strings.Contains(out, "boss@example.test") {
		t.Errorf("trace --status tls_failed lists other attempts:\n%s", out)
	}
	show := squash(run(t, "", "trace", "show", "--config", cfg, strings.Fields(strings.Split(out, "\n")[1])[0]))
	for _, want := range []string{"outcome: tls_failed", "reason: tls_version", "client offered TLS 1.0;", "--networks 127.0.0.51/32 --legacy-tls",
		"tls status=tls_failed remote=127.0.0.51:"} {
		if !strings.Contains(show, want) {
			t.Errorf("trace show (tls_failed): no %q in:\n%s", want, show)
		}
	}

	out = run(t, "", "trace", "--config", cfg, "--status", "refused", "--since", "1d")
	if !regexp.MustCompile(`app@example.test +boss@example.test +- +- +- +- +refused at MAIL +send_as_denied 550 5.7.60 SendAsDenied:`).MatchString(out) {
		t.Errorf("trace --status refused:\n%s", out)
	}
	out = run(t, "", "trace", "--config", cfg, "--message-id", "cli-1@example.test")
	if !regexp.MustCompile(`app@example.test +app@example.test +app@example.test +carol@example.test +hi +\d+ bytes +accepted \(1 delivered\)`).MatchString(out) {
		t.Errorf("trace --message-id:\n%s", out)
	}
	show = squash(run(t, "", "trace", "show", "--config", cfg, strings.Fields(strings.Split(out, "\n")[1])[0]))
	for _, want := range []string{"outcome: accepted", "subject: hi", "message-id: cli-1@example.test", "sent items of: app@example.test",
		"auth cmd=AUTH mailbox=app@example.test", "recipient carol@example.test: delivered", "status=delivered"} {
		if !strings.Contains(show, want) {
			t.Errorf("trace show (accepted): no %q in:\n%s", want, show)
		}
	}
	if strings.Contains(show, "boss@example.test") {
		t.Errorf("trace show (accepted) shows the session's earlier attempt:\n%s", show)
	}
	if out := run(t, "", "trace", "--config", cfg, "--sender", "nobody@example.test"); !strings.Contains(out, "no submission attempts match") {
		t.Errorf("trace with no match:\n%s", out)
	}
	if _, err := tryRun("", "trace", "show", "--config", cfg, "999999"); err == nil {
		t.Error("trace show 999999: no error")
	}
	if _, err := tryRun("", "trace", "--config", cfg, "--status", "lost"); err == nil {
		t.Error("trace --status lost: no error")
	}
}

func TestCLI_AdminToken(t *testing.T) {
	cfg := writeConfig(t)
	out := run(t, "", "admin", "token", "add", "deploy", "--config", cfg)
	tok := regexp.MustCompile(`mrt_[A-Za-z0-9_-]{43}`).FindString(out)
	if tok == "" {
		t.Fatalf("token add printed no token:\n%s", out)
	}
	if _, err := tryRun("", "admin", "token", "add", "deploy", "--config", cfg); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("duplicate label: %v", err)
	}
	if out := run(t, "", "admin", "token", "list", "--config", cfg); !strings.Contains(out, "deploy") || strings.Contains(out, tok) {
		t.Fatalf("token list:\n%s", out)
	}
	run(t, "", "admin", "token", "revoke", "deploy", "--config", cfg)
	if _, err := tryRun("", "admin", "token", "revoke", "deploy", "--config", cfg); err == nil {
		t.Fatal("revoking twice: no error")
	}
}

// squash turns every run of spaces into one, so assertions do not depend
// on column widths.
func squash(s string) string { return regexp.MustCompile(` +`).ReplaceAllString(s, " ") }
