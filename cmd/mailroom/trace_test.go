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
	for _, want := range []string{"[tls_failed]", "tls      status=tls_failed remote=127.0.0.51:", "reason=tls_version", "client offered TLS 1.0;", "--networks 127.0.0.51/32 --legacy-tls"} {
		if !strings.Contains(out, want) {
			t.Errorf("trace --status tls_failed: no %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "boss@example.test") {
		t.Errorf("trace --status tls_failed lists other sessions:\n%s", out)
	}

	out = run(t, "", "trace", "--config", cfg, "--status", "refused")
	for _, want := range []string{"== session ", "refused", "cmd=MAIL", "from=boss@example.test", "reason=send_as_denied", "reply: 550 5.7.60 SendAsDenied:", "auth     cmd=AUTH mailbox=app@example.test"} {
		if !strings.Contains(out, want) {
			t.Errorf("trace --status refused: no %q in:\n%s", want, out)
		}
	}
	out = run(t, "", "trace", "--config", cfg, "--message-id", "cli-1@example.test")
	if !regexp.MustCompile(`accepted .*queue_id=\w+ from=app@example.test to=carol@example.test msgid=cli-1@example.test size=\d+`).MatchString(out) ||
		!strings.Contains(out, "reply: 250 2.0.0 OK queued as") || !strings.Contains(out, "status=delivered") {
		t.Errorf("trace --message-id:\n%s", out)
	}
	if out := run(t, "", "trace", "--config", cfg, "--sender", "nobody@example.test"); !strings.Contains(out, "no trace events match") {
		t.Errorf("trace with no match:\n%s", out)
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
