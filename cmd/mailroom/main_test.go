package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"mailroom/internal/testkit"
)

// writeConfig writes a config file with loopback ports chosen by the OS.
func writeConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "mailroom.toml")
	cfg := `data_dir = "data"
hostname = "mail.example.test"
[submission]
listen = "127.0.0.1:0"
listen_tls = "127.0.0.1:0"
[imap]
listen = "127.0.0.1:0"
listen_tls = "127.0.0.1:0"
[http]
listen = ""
[log]
level = "warn"
`
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// Admin commands never create the data directory (serve does).
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o750); err != nil {
		t.Fatal(err)
	}
	return p
}

// run executes a command line and returns stdout; it fails the test on error.
func run(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := tryRun(stdin, args...)
	if err != nil {
		t.Fatalf("mailroom %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func tryRun(stdin string, args ...string) (string, error) {
	var out, errb bytes.Buffer
	err := Run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return out.String() + errb.String(), err
}

func TestCLI_DomainAndMailbox(t *testing.T) {
	cfg := writeConfig(t)
	run(t, "", "domain", "add", "Example.TEST", "--config", cfg)
	if _, err := tryRun("", "domain", "add", "example.test", "--config", cfg); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("duplicate domain: %v", err)
	}
	if out := run(t, "", "domain", "list", "--config", cfg); !strings.Contains(out, "example.test") {
		t.Fatalf("domain list:\n%s", out)
	}
	if _, err := tryRun("", "mailbox", "add", "a@nowhere.test", "--config", cfg); err == nil || !strings.Contains(err.Error(), "mailroom domain add nowhere.test") {
		t.Fatalf("mailbox in unknown domain: %v", err)
	}
	out := run(t, "", "mailbox", "add", "alice@example.test", "--display-name", "Alice Smith", "--config", cfg)
	gen := regexp.MustCompile(`generated password \(shown once\): (\S+)`).FindStringSubmatch(out)
	if gen == nil {
		t.Fatalf("no generated password printed:\n%s", out)
	}
	run(t, "s3cret-from-stdin\n", "mailbox", "add", "bob@example.test", "--password-stdin", "--config", cfg)
	run(t, "", "mailbox", "add", "info@example.test", "--shared", "--config", cfg)
	if _, err := tryRun("short\n", "mailbox", "add", "x@example.test", "--password-stdin", "--config", cfg); err == nil {
		t.Fatal("a 5-character password was accepted")
	}
	out = run(t, "", "mailbox", "list", "--config", cfg)
	for _, want := range []string{"alice@example.test", "Alice Smith", "bob@example.test", "info@example.test", "shared"} {
		if !strings.Contains(out, want) {
			t.Errorf("mailbox list lacks %q:\n%s", want, out)
		}
	}
	out = run(t, "", "mailbox", "set", "alice@example.test", "--smtp-auth=off", "--config", cfg)
	if !regexp.MustCompile(`smtp auth:\s+off`).MatchString(out) {
		t.Errorf("set --smtp-auth=off:\n%s", out)
	}
	if out := run(t, "", "mailbox", "show", "alice@example.test", "--config", cfg); !regexp.MustCompile(`smtp auth:\s+off`).MatchString(out) {
		t.Errorf("show after set:\n%s", out)
	}
	if _, err := tryRun("", "mailbox", "set", "info@example.test", "--smtp-auth=on", "--config", cfg); err == nil {
		t.Error("SMTP AUTH switched on for a shared mailbox")
	}
	if out := run(t, "", "mailbox", "passwd", "bob@example.test", "--config", cfg); !strings.Contains(out, "generated password") {
		t.Errorf("passwd:\n%s", out)
	}
	if _, err := tryRun("", "domain", "remove", "example.test", "--config", cfg); err == nil || !strings.Contains(err.Error(), "still has mailboxes") {
		t.Fatalf("remove non-empty domain: %v", err)
	}
	for _, m := range []string{"alice@example.test", "bob@example.test", "info@example.test"} {
		run(t, "", "mailbox", "remove", m, "--config", cfg)
	}
	run(t, "", "domain", "remove", "example.test", "--config", cfg)
	if out := run(t, "", "domain", "list", "--config", cfg); strings.Contains(out, "example.test") {
		t.Fatalf("domain still listed:\n%s", out)
	}
}

func TestCLI_Usage(t *testing.T) {
	var u usageError
	for _, args := range [][]string{{}, {"frobnicate"}, {"domain"}, {"mailbox", "add"}, {"mailbox", "set", "a@example.test", "--bogus"}} {
		if _, err := tryRun("", args...); !errors.As(err, &u) {
			t.Errorf("mailroom %q: err %v, want a usage error", args, err)
		}
	}
	out, err := tryRun("", "mailbox", "add", "--help")
	if err != nil || !strings.Contains(out, "--password-stdin") {
		t.Errorf("--help: %v\n%s", err, out)
	}
	if _, err := tryRun("", "serve", "--config", "/nonexistent/mailroom.toml"); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing config file: %v", err)
	}
}

// TestQuickstart runs quickstart, reads the printed settings and sends a
// message with them.
func TestQuickstart(t *testing.T) {
	cfg := writeConfig(t)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"quickstart", "--config", cfg}, strings.NewReader(""), pw, io.Discard)
		pw.Close()
	}()
	settings := map[string]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && strings.HasPrefix(k, "MAIL_") {
			settings[k] = v
		}
		if strings.HasPrefix(sc.Text(), "Try it:") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	for _, k := range []string{"MAIL_MAILER", "MAIL_HOST", "MAIL_PORT", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_ENCRYPTION", "MAIL_FROM_ADDRESS"} {
		if settings[k] == "" {
			t.Fatalf("quickstart did not print %s: %v", k, settings)
		}
	}
	c := testkit.Dial(t, "127.0.0.1:"+settings["MAIL_PORT"])
	c.MustCmd("EHLO client.example.test", 250, "")
	c.MustCmd("STARTTLS", 220, "")
	// The self-signed certificate is not in any trust store; quickstart
	// says so, and this client skips verification as told.
	c2 := testkit.Upgrade(t, c)
	c2.Expect(c2.AuthPlain(settings["MAIL_USERNAME"], settings["MAIL_PASSWORD"]), 235, "2.0.0")
	c2.MustCmd("MAIL FROM:<"+settings["MAIL_FROM_ADDRESS"]+">", 250, "")
	c2.MustCmd("RCPT TO:<"+settings["MAIL_FROM_ADDRESS"]+">", 250, "")
	c2.Expect(c2.SendData("Subject: quickstart\n\nit works\n"), 250, "2.0.0")
	stopQuickstart(t, cancel, done)
}

func TestCLI_GrantsAliasesAndSettings(t *testing.T) {
	cfg := writeConfig(t)
	run(t, "", "domain", "add", "example.test", "--config", cfg)
	run(t, "", "mailbox", "add", "app@example.test", "--config", cfg)
	run(t, "", "mailbox", "add", "support@example.test", "--shared", "--config", cfg)

	out := run(t, "", "grant", "send-as", "--on", "support@example.test", "--to", "app@example.test", "--config", cfg)
	if !strings.Contains(out, "app@example.test may send as support@example.test") {
		t.Errorf("grant send-as:\n%s", out)
	}
	run(t, "", "grant", "send-on-behalf", "--on", "@example.test", "--to", "app@example.test", "--config", cfg)
	if _, err := tryRun("", "grant", "send-as", "--on", "nobody@example.test", "--to", "app@example.test", "--config", cfg); err == nil || !strings.Contains(err.Error(), "--on @example.test") {
		t.Errorf("grant on a missing address: %v", err)
	}
	if _, err := tryRun("", "grant", "send-as", "--on", "app@example.test", "--to", "support@example.test", "--config", cfg); err == nil || !strings.Contains(err.Error(), "shared mailbox") {
		t.Errorf("grant to a shared mailbox: %v", err)
	}
	out = run(t, "", "grant", "list", "--on", "support@example.test", "--config", cfg)
	for _, want := range []string{"support@example.test  send-as", "@example.test", "any address of example.test"} {
		if !strings.Contains(out, want) {
			t.Errorf("grant list --on lacks %q (domain grants apply to the address too):\n%s", want, out)
		}
	}
	run(t, "", "grant", "revoke", "send-as", "--on", "support@example.test", "--to", "app@example.test", "--config", cfg)
	if out := run(t, "", "grant", "list", "--config", cfg); strings.Contains(out, "support@example.test") {
		t.Errorf("revoked grant still listed:\n%s", out)
	}

	run(t, "", "mailbox", "alias", "add", "app@example.test", "noreply@example.test", "--config", cfg)
	if _, err := tryRun("", "mailbox", "alias", "add", "app@example.test", "support@example.test", "--config", cfg); err == nil {
		t.Error("an alias equal to a mailbox address was accepted")
	}
	out = run(t, "", "mailbox", "set", "support@example.test", "--copy-sent-as=on", "--copy-sent-on-behalf=on", "--sent-retention", "30d", "--quota", "1G", "--config", cfg)
	for _, want := range []string{`copy sent as:\s+on`, `copy sent on behalf:\s+on`, `sent retention:\s+30 days`, `of 1 GiB`, `sent on behalf of by:\s+app@example.test`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("mailbox set/show lacks %q:\n%s", want, out)
		}
	}
	if out := run(t, "", "mailbox", "show", "app@example.test", "--config", cfg); !strings.Contains(out, "noreply@example.test") || !strings.Contains(out, "may send on behalf of:") {
		t.Errorf("mailbox show app@:\n%s", out)
	}
	run(t, "", "mailbox", "alias", "remove", "app@example.test", "noreply@example.test", "--config", cfg)
	if _, err := tryRun("", "mailbox", "set", "app@example.test", "--quota", "lots", "--config", cfg); err == nil {
		t.Error("--quota lots was accepted")
	}
	out = run(t, "", "domain", "set", "example.test", "--display-name", "directory", "--config", cfg)
	if !strings.Contains(out, "display names: directory") {
		t.Errorf("domain set:\n%s", out)
	}
	if _, err := tryRun("", "domain", "set", "example.test", "--display-name", "sometimes", "--config", cfg); err == nil {
		t.Error("a bad display-name policy was accepted")
	}
}

// TestCLI_AppPasswordsAndLiveUsage runs the CLI against the data directory
// of a running server: an app password added by the CLI logs in, and
// mailbox show prints the live transactions in flight.
func TestCLI_AppPasswordsAndLiveUsage(t *testing.T) {
	s, cfg := serverWithAlice(t, "[limits]\nconcurrent = 4\n")

	out := run(t, "", "app-password", "add", "alice@example.test", "--label", "printer-3f", "--networks", "127.0.0.0/8", "--config", cfg)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	secret := lines[len(lines)-1]
	if len(secret) < 20 {
		t.Fatalf("no app password printed:\n%s", out)
	}
	if _, err := tryRun("", "app-password", "add", "alice@example.test", "--label", "x", "--networks", "not-a-net", "--config", cfg); err == nil {
		t.Error("a bad network was accepted")
	}
	s.SyncDirectory()
	c := testkit.Ready(t, s, "alice@example.test", secret)
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")

	// The server publishes in-flight counts every second.
	var show string
	deadline := time.Now().Add(10 * time.Second)
	for !regexp.MustCompile(`in flight:\s+1 of 4`).MatchString(show) {
		if time.Now().After(deadline) {
			t.Fatalf("mailbox show never printed the live transaction:\n%s", show)
		}
		time.Sleep(100 * time.Millisecond)
		show = run(t, "", "mailbox", "show", "alice@example.test", "--config", cfg)
	}
	for _, want := range []string{`recipients last 24h:\s+0 of 10000`, `messages this minute:\s+0 of 30`, `app password:\s+printer-3f \(last used \d{4}-`} {
		if !regexp.MustCompile(want).MatchString(show) {
			t.Errorf("mailbox show lacks %s:\n%s", want, show)
		}
	}
	out = run(t, "", "app-password", "list", "--config", cfg)
	if !strings.Contains(out, "printer-3f") || !strings.Contains(out, "from 127.0.0.1") {
		t.Errorf("app-password list:\n%s", out)
	}
	run(t, "", "mailbox", "set", "alice@example.test", "--concurrent", "1", "--recipients-per-day", "50", "--config", cfg)
	show = run(t, "", "mailbox", "show", "alice@example.test", "--config", cfg)
	if !regexp.MustCompile(`limit overrides:\s+concurrent 1, messages/minute -, recipients/message -, recipients/day 50`).MatchString(show) {
		t.Errorf("overrides not shown:\n%s", show)
	}
	run(t, "", "app-password", "revoke", "alice@example.test", "printer-3f", "--config", cfg)
	if _, err := tryRun("", "app-password", "revoke", "alice@example.test", "printer-3f", "--config", cfg); err == nil {
		t.Error("revoking twice succeeded")
	}
}
