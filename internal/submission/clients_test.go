package submission_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

// These tests drive mailroom with command-line clients from Debian's
// packages, as users do. .ci/run installs them; elsewhere a missing one
// skips its test with a message.

func lookTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (apt-get install %s): skipping", name, pkg)
	}
	return p
}

func runTool(t *testing.T, bin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	return string(out), err
}

func TestClient_Swaks(t *testing.T) {
	swaks := lookTool(t, "swaks", "swaks")
	s := testkit.Start(t, fixture)
	_, port, _ := net.SplitHostPort(s.Addr("submission"))
	_, tlsPort, _ := net.SplitHostPort(s.Addr("submission_tls"))
	base := []string{"--server", "127.0.0.1", "--auth-user", "alice@example.test", "--auth-password", pw,
		"--from", "alice@example.test", "--to", "carol@example.test", "--header", "Subject: swaks"}
	if out, err := runTool(t, swaks, append(base, "--port", port, "--tls", "--auth", "PLAIN")...); err != nil {
		t.Fatalf("swaks STARTTLS PLAIN: %v\n%s", err, out)
	}
	if out, err := runTool(t, swaks, append(base, "--port", tlsPort, "--tls-on-connect", "--auth", "LOGIN")...); err != nil {
		t.Fatalf("swaks implicit TLS LOGIN: %v\n%s", err, out)
	}
	// Without TLS, AUTH is not offered, so swaks gives up before sending
	// the password.
	out, err := runTool(t, swaks, append(base, "--port", port, "--auth", "PLAIN")...)
	if err == nil || !strings.Contains(out, "did not advertise authentication") || strings.Contains(out, "AUTH PLAIN") {
		t.Fatalf("swaks without TLS: %v\n%s", err, out)
	}
	out, err = runTool(t, swaks, "--server", "127.0.0.1", "--port", port, "--tls", "--auth", "PLAIN",
		"--auth-user", "alice@example.test", "--auth-password", pw, "--from", "carol@example.test", "--to", "alice@example.test")
	if err == nil || !strings.Contains(out, "550 5.7.60 SendAsDenied") {
		t.Fatalf("swaks send as carol: %v\n%s", err, out)
	}
	if n := len(readFolder(t, s, "carol@example.test", store.FolderInbox)); n != 2 {
		t.Fatalf("carol's inbox has %d messages, want 2", n)
	}
}

func TestClient_Curl(t *testing.T) {
	curl := lookTool(t, "curl", "curl")
	s := testkit.Start(t, fixture)
	cafile := filepath.Join(s.DataDir(), "tls", "cert.pem")
	msg := filepath.Join(t.TempDir(), "msg.eml")
	os.WriteFile(msg, []byte("From: alice@example.test\r\nTo: carol@example.test\r\nSubject: curl\r\n\r\nsent with curl\r\n"), 0o600)
	_, port, _ := net.SplitHostPort(s.Addr("submission"))
	_, tlsPort, _ := net.SplitHostPort(s.Addr("submission_tls"))
	common := []string{"--silent", "--show-error", "--cacert", cafile, "--user", "alice@example.test:" + pw,
		"--mail-from", "alice@example.test", "--mail-rcpt", "carol@example.test", "--upload-file", msg}
	if out, err := runTool(t, curl, append(common, "--ssl-reqd", "smtp://localhost:"+port)...); err != nil {
		t.Fatalf("curl smtp:// STARTTLS: %v\n%s", err, out)
	}
	if out, err := runTool(t, curl, append(common, "smtps://localhost:"+tlsPort)...); err != nil {
		t.Fatalf("curl smtps://: %v\n%s", err, out)
	}
	out, err := runTool(t, curl, "--verbose", "--cacert", cafile, "--user", "alice@example.test:wrong-password",
		"--mail-from", "alice@example.test", "--mail-rcpt", "carol@example.test", "--upload-file", msg, "smtps://localhost:"+tlsPort)
	if err == nil || !strings.Contains(out, "Login denied") || !strings.Contains(out, "< 535 5.7.3 Authentication unsuccessful") {
		t.Fatalf("curl with a wrong password: %v\n%s", err, out)
	}
	if n := len(readFolder(t, s, "carol@example.test", store.FolderInbox)); n != 2 {
		t.Fatalf("carol's inbox has %d messages, want 2", n)
	}
}
