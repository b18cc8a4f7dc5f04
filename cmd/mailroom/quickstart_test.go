package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2/imapclient"

	"mailroom/internal/admin"
	"mailroom/internal/config"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

// quickstartConfig writes a configuration with loopback ports chosen by
// the OS, the console on.
func quickstartConfig(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "mailroom.toml")
	cfg := "data_dir = \"data\"\nhostname = \"mail.example.test\"\n[submission]\nlisten = \"127.0.0.1:0\"\nlisten_tls = \"127.0.0.1:0\"\n[http]\nlisten = \"127.0.0.1:0\"\n[imap]\nlisten = \"127.0.0.1:0\"\nlisten_tls = \"127.0.0.1:0\"\n[log]\nlevel = \"warn\"\n"
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// runQuickstartUntilReady runs quickstart until it printed its settings
// (the "Try it:" line) and returns them; stop ends it.
func runQuickstartUntilReady(t *testing.T, args ...string) (printed string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, append([]string{"quickstart"}, args...), strings.NewReader(""), pw, io.Discard)
		pw.Close()
	}()
	var b strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "Try it:") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	return b.String(), func() { stopQuickstart(t, cancel, done) }
}

// submatch returns the first group of re in s, failing the test when absent.
func submatch(t *testing.T, re, s string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("quickstart did not print %s:\n%s", re, s)
	}
	return m[1]
}

// TestQuickstart_ClientsConsoleAndRerun: quickstart prints the console
// address with a first administrator, the certificate's path with the
// setting each client needs to trust it (a client trusting that file
// verifies the server), and a second run keeps the demo password unless
// --reset-password.
func TestQuickstart_ClientsConsoleAndRerun(t *testing.T) {
	cfg := quickstartConfig(t)
	out, stop := runQuickstartUntilReady(t, "--config", cfg)
	password := submatch(t, `(?m)^MAIL_PASSWORD=(\S+)$`, out)
	port := submatch(t, `(?m)^MAIL_PORT=(\d+)$`, out)
	cert := submatch(t, `(?m)^The certificate is self-signed: (\S+)$`, out)
	for _, want := range []string{
		"MAILER_DSN=smtp://demo%40example.test:" + password + "@localhost:" + port + "?verify_peer=0",
		"'verify_peer' => false",
		"tls: { ca: [fs.readFileSync(\"" + cert + "\")] }",
		"tls_trust_file " + cert,
		"$mail->SMTPOptions = ['ssl' => ['cafile' => '" + cert + "']];",
		"--tls-verify --tls-ca-path " + cert,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("quickstart did not print %q:\n%s", want, out)
		}
	}
	url := submatch(t, `(?m)^Web console: (http://127\.0\.0\.1:\d+/)$`, out)
	consolePassword := submatch(t, `log in as admin with the password \(shown once\): (\S+)`, out)
	resp, err := http.Get(url + "healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("console health check: %v %v", resp, err)
	}
	resp.Body.Close()
	if _, err := admin.New(storeOf(t, cfg)).CheckConsoleLogin(context.Background(), "admin", consolePassword); err != nil {
		t.Errorf("the printed console login fails: %v", err)
	}

	// A client that trusts the printed file verifies the certificate.
	pem, err := os.ReadFile(cert)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	login := func(pw string, code int, enhanced string) {
		t.Helper()
		c := testkit.Dial(t, "127.0.0.1:"+port)
		c.MustCmd("EHLO client.example.test", 250, "")
		c.StartTLS(&tls.Config{RootCAs: pool, ServerName: "localhost"})
		c.Expect(c.AuthPlain("demo@example.test", pw), code, enhanced)
	}
	login(password, 235, "2.0.0")

	// The IMAP settings printed beside SMTP's log in, trusting the file.
	imaps := submatch(t, `(?m)^port:      (\d+) with implicit TLS, or \d+ with STARTTLS$`, out)
	if !strings.Contains(out, "# Reading mail (IMAP)") || !strings.Contains(out, "user:      demo@example.test (same password)") {
		t.Errorf("quickstart did not print the IMAP settings:\n%s", out)
	}
	ic, err := imapclient.DialTLS("127.0.0.1:"+imaps, &imapclient.Options{TLSConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}})
	if err != nil {
		t.Fatalf("dial the printed IMAP port: %v", err)
	}
	if err := ic.Login("demo@example.test", password).Wait(); err != nil {
		t.Errorf("IMAP login with the printed settings: %v", err)
	}
	ic.Close()
	stop()

	// Run again: the password stays, and nothing new is shown.
	out, stop = runQuickstartUntilReady(t, "--config", cfg)
	port = submatch(t, `(?m)^MAIL_PORT=(\d+)$`, out)
	if strings.Contains(out, password) || !strings.Contains(out, "keeps the password an earlier quickstart printed") ||
		!strings.Contains(out, "mailroom quickstart --reset-password --config "+cfg) {
		t.Errorf("second run:\n%s", out)
	}
	if !strings.Contains(out, "log in as admin; a forgotten password is replaced with: mailroom admin user passwd admin --config "+cfg) {
		t.Errorf("second run does not say how to log in to the console:\n%s", out)
	}
	login(password, 235, "2.0.0")
	stop()

	// --reset-password: a new one, and the old one no longer works.
	out, stop = runQuickstartUntilReady(t, "--config", cfg, "--reset-password")
	port = submatch(t, `(?m)^MAIL_PORT=(\d+)$`, out)
	fresh := submatch(t, `(?m)^MAIL_PASSWORD=(\S+)$`, out)
	if fresh == password {
		t.Fatal("--reset-password printed the old password")
	}
	login(fresh, 235, "2.0.0")
	login(password, 535, "5.7.3")
	stop()
}

// storeOf opens the store of the configuration file cfg, as the CLI
// does, for the rest of the test.
func storeOf(t *testing.T, cfg string) store.Store {
	t.Helper()
	c, err := config.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := admin.OpenExistingStore(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestCLI_AdminUserAddPrintsConsoleURL: admin user add names the console
// at the configured address, reachable at localhost when it listens on
// every interface.
func TestCLI_AdminUserAddPrintsConsoleURL(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ listen, want string }{
		{"0.0.0.0:8443", "log in at http://localhost:8443/"},
		{"127.0.0.1:8080", "log in at http://127.0.0.1:8080/"},
		{"", "the console is off"},
	} {
		cfg := filepath.Join(dir, "mailroom.toml")
		os.WriteFile(cfg, []byte("data_dir = \"data\"\n[http]\nlisten = \""+c.listen+"\"\n"), 0o600)
		os.MkdirAll(filepath.Join(dir, "data"), 0o750)
		name := "ops" + strings.NewReplacer(".", "", ":", "").Replace(c.listen)
		if out := run(t, "", "admin", "user", "add", name, "--config", cfg); !strings.Contains(out, c.want) {
			t.Errorf("http.listen %q: %s; want %q", c.listen, out, c.want)
		}
	}
}

func TestConsoleURL(t *testing.T) {
	for in, want := range map[string]string{
		":8080": "http://localhost:8080/", "0.0.0.0:8080": "http://localhost:8080/", "[::]:8080": "http://localhost:8080/",
		"127.0.0.1:8080": "http://127.0.0.1:8080/", "[::1]:8080": "http://[::1]:8080/", "mail.example.test:80": "http://mail.example.test:80/",
		"": "", "8080": "",
	} {
		if got := consoleURL(in); got != want {
			t.Errorf("consoleURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPrintSettings_IMAP: with IMAP listeners, the IMAP settings stand
// beside the SMTP ones; without, nothing is said of IMAP.
func TestPrintSettings_IMAP(t *testing.T) {
	q := quickstartInfo{user: "demo@example.test", password: "pw", hostname: "mail.example.test", sub: "587", tls: "465", cert: "/d/tls/cert.pem", selfSigned: true}
	var b strings.Builder
	printSettings(&b, q)
	if strings.Contains(b.String(), "IMAP") {
		t.Errorf("IMAP settings without IMAP listeners:\n%s", b.String())
	}
	q.imap, q.imaps = "143", "993"
	b.Reset()
	printSettings(&b, q)
	if !strings.Contains(b.String(), "# Reading mail (IMAP)\nhost:      localhost (or mail.example.test)\nport:      993 with implicit TLS, or 143 with STARTTLS\nuser:      demo@example.test") {
		t.Errorf("IMAP settings:\n%s", b.String())
	}
}
