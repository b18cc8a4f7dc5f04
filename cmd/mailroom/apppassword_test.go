package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mailroom/internal/admin"
	"mailroom/internal/testkit"
)

// TestCLI_AppPasswordSetNetworks: app-password set changes where an app
// password may be used from and keeps the password the device has.
func TestCLI_AppPasswordSetNetworks(t *testing.T) {
	s, cfg := serverWithAlice(t, "")
	out := run(t, "", "app-password", "add", "alice@example.test", "--label", "printer", "--config", cfg)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	secret := lines[len(lines)-1]

	out = run(t, "", "app-password", "set", "alice@example.test", "printer", "--networks", "192.0.2.0/24", "--config", cfg)
	if !strings.Contains(out, "may be used from 192.0.2.0/24; its password is unchanged") {
		t.Errorf("set:\n%s", out)
	}
	s.SyncDirectory()
	c := testkit.Dial(t, s.Addr("submission"))
	c.MustCmd("EHLO client.example.test", 250, "")
	c.StartTLS(s.TLSConfig())
	c.Expect(c.AuthPlain("alice@example.test", secret), 535, "5.7.139")

	out = run(t, "", "app-password", "set", "alice@example.test", "printer", "--networks", "", "--config", cfg)
	if !strings.Contains(out, "may be used from any;") {
		t.Errorf("set --networks \"\":\n%s", out)
	}
	s.SyncDirectory()
	testkit.Ready(t, s, "alice@example.test", secret).MustCmd("MAIL FROM:<alice@example.test>", 250, "2.0.0")

	for _, bad := range [][]string{
		{"app-password", "set", "alice@example.test", "printer"},                                // nothing to change
		{"app-password", "set", "alice@example.test", "printer", "--networks", "not-a-network"}, // bad network
		{"app-password", "set", "alice@example.test", "laptop", "--networks", "192.0.2.0/24"},   // no such label
	} {
		if _, err := tryRun("", append(bad, "--config", cfg)...); err == nil {
			t.Errorf("mailroom %s succeeded", strings.Join(bad, " "))
		}
	}
}

// serverWithAlice starts a server with example.test and alice@ (password
// correct-horse-battery) and writes a configuration file for the CLI on
// its data directory, with more TOML appended.
func serverWithAlice(t *testing.T, more string) (*testkit.Server, string) {
	t.Helper()
	s := testkit.Start(t, func(a *admin.Service) {
		ctx := context.Background()
		a.AddDomain(ctx, "example.test")
		a.AddMailbox(ctx, admin.NewMailbox{Address: "alice@example.test", Password: "correct-horse-battery"})
	})
	cfg := filepath.Join(t.TempDir(), "mailroom.toml")
	if err := os.WriteFile(cfg, []byte("data_dir = \""+s.DataDir()+"\"\n"+more), 0o600); err != nil {
		t.Fatal(err)
	}
	return s, cfg
}
