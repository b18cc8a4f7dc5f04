package submission_test

import (
	"context"
	"net"
	"net/smtp"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gosasl "github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"mailroom/internal/admin"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

// TestInterop_GoSMTPClient submits with go-smtp's client over STARTTLS.
func TestInterop_GoSMTPClient(t *testing.T) {
	s := testkit.Start(t, fixture)
	c, err := gosmtp.DialStartTLS(s.Addr("submission"), s.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(gosasl.NewPlainClient("", "alice@example.test", pw)); err != nil {
		t.Fatal(err)
	}
	msg := "From: alice@example.test\r\nTo: carol@example.test\r\nSubject: go-smtp\r\n\r\nhello\r\n"
	if err := c.SendMail("alice@example.test", []string{"carol@example.test"}, strings.NewReader(msg)); err != nil {
		t.Fatal(err)
	}
	// A refusal surfaces as *SMTPError with the contract's codes.
	err = c.SendMail("carol@example.test", []string{"alice@example.test"}, strings.NewReader(msg))
	se, ok := err.(*gosmtp.SMTPError)
	if !ok || se.Code != 550 || se.EnhancedCode != (gosmtp.EnhancedCode{5, 7, 60}) {
		t.Fatalf("send as carol: %v", err)
	}
	if n := len(readFolder(t, s, "carol@example.test", store.FolderInbox)); n != 1 {
		t.Fatalf("carol's inbox has %d messages", n)
	}
}

// TestInterop_NetSMTP submits with the standard library's net/smtp, which
// insists on TLS before PLAIN for non-localhost names.
func TestInterop_NetSMTP(t *testing.T) {
	s := testkit.Start(t, fixture)
	c, err := smtp.Dial(s.Addr("submission"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("netsmtp.example.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.StartTLS(s.TLSConfig()); err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(smtp.PlainAuth("", "alice@example.test", pw, "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("alice@example.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("carol@example.test"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("From: alice@example.test\r\nSubject: net/smtp\r\n\r\nhi\r\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
	if n := len(readFolder(t, s, "carol@example.test", store.FolderInbox)); n != 1 {
		t.Fatalf("carol's inbox has %d messages", n)
	}
}

// TestInterop_PythonSmtplib submits with Python's smtplib, a client nobody
// here wrote, on both ports, and checks the refusal codes it sees.
func TestInterop_PythonSmtplib(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed: skipping the smtplib interoperability test")
	}
	s := testkit.Start(t, fixture)
	cafile := filepath.Join(s.DataDir(), "tls", "cert.pem")
	_, port, _ := net.SplitHostPort(s.Addr("submission"))
	_, tlsPort, _ := net.SplitHostPort(s.Addr("submission_tls"))
	script := `
import smtplib, ssl, sys
from email.message import EmailMessage
port, tls_port, cafile, pw = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=cafile)
m = EmailMessage()
m["From"] = "Alice <alice@example.test>"
m["To"] = "carol@example.test"
m["Subject"] = "smtplib"
m.set_content("hello from python")
with smtplib.SMTP("localhost", port) as s:
    try:
        s.login("alice@example.test", pw)
        print("login before TLS succeeded"); sys.exit(1)
    except smtplib.SMTPNotSupportedError:
        pass  # AUTH not advertised before TLS
    s.starttls(context=ctx)
    s.login("alice@example.test", pw)
    s.send_message(m)
    try:
        s.sendmail("carol@example.test", ["alice@example.test"], m.as_bytes())
        print("send as carol succeeded"); sys.exit(1)
    except smtplib.SMTPSenderRefused as e:
        print("refused", e.smtp_code, e.smtp_error.decode().split()[0])
with smtplib.SMTP_SSL("localhost", tls_port, context=ctx) as s:
    try:
        s.login("alice@example.test", "wrong-password")
    except smtplib.SMTPAuthenticationError as e:
        print("auth", e.smtp_code, e.smtp_error.decode().split()[0])
    s.login("alice@example.test", pw)
    s.send_message(m)
print("ok")
`
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, "-c", script, port, tlsPort, cafile, pw).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	for _, want := range []string{"refused 550 5.7.60", "auth 535 5.7.3", "ok"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("python output lacks %q:\n%s", want, out)
		}
	}
	if n := len(readFolder(t, s, "carol@example.test", store.FolderInbox)); n != 2 {
		t.Fatalf("carol's inbox has %d messages, want 2", n)
	}
}

// TestDirectory_ChangeSeenWhileRunning changes the directory through a
// second store handle (as the CLI does) and waits for the server to act on it.
func TestDirectory_ChangeSeenWhileRunning(t *testing.T) {
	s := testkit.Start(t, fixture)
	ctx := context.Background()
	cli, err := admin.OpenStore(ctx, s.Config)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	a := admin.New(cli)
	start := time.Now()
	if _, _, err := a.AddMailbox(ctx, admin.NewMailbox{Address: "dave@example.test", Password: pw}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return tryLogin(t, s, "dave@example.test") == 235 })
	t.Logf("new mailbox usable after %v", time.Since(start))

	off := false
	start = time.Now()
	if _, err := a.SetMailbox(ctx, "dave@example.test", admin.MailboxChange{SMTPAuth: &off}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return tryLogin(t, s, "dave@example.test") == 535 })
	t.Logf("SMTP AUTH switch-off effective after %v", time.Since(start))
}

func tryLogin(t *testing.T, s *testkit.Server, user string) int {
	c := testkit.Dial(t, s.Addr("submission"))
	defer c.Close()
	c.MustCmd("EHLO client.example.test", 250, "")
	c.StartTLS(s.TLSConfig())
	return c.AuthPlain(user, pw).Code
}

// waitFor polls cond until it holds; the bound is generous (the reload
// interval is 250ms) so a loaded machine does not fail the test.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
