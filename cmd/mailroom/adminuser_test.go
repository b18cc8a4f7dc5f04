package main

import (
	"strings"
	"testing"
)

// TestCLI_AdminUser: console administrators are added (password from
// stdin or generated), listed without their hash, changed and removed.
func TestCLI_AdminUser(t *testing.T) {
	cfg := writeConfig(t)
	run(t, "correct-horse-battery\n", "admin", "user", "add", "root", "--password-stdin", "--config", cfg)
	if out := run(t, "", "admin", "user", "add", "ops", "--config", cfg); !strings.Contains(out, "password (shown once): ") {
		t.Fatalf("add without --password-stdin printed no password:\n%s", out)
	}
	if _, err := tryRun("another-password\n", "admin", "user", "add", "root", "--password-stdin", "--config", cfg); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second root: %v", err)
	}
	if _, err := tryRun("short\n", "admin", "user", "passwd", "root", "--password-stdin", "--config", cfg); err == nil {
		t.Fatal("a 5-character password was accepted")
	}
	run(t, "another-password\n", "admin", "user", "passwd", "root", "--password-stdin", "--config", cfg)
	if out := run(t, "", "admin", "user", "list", "--config", cfg); !strings.Contains(out, "root") || !strings.Contains(out, "ops") || strings.Contains(out, "argon2") {
		t.Fatalf("list:\n%s", out)
	}
	run(t, "", "admin", "user", "remove", "ops", "--config", cfg)
	if _, err := tryRun("", "admin", "user", "remove", "ops", "--config", cfg); err == nil {
		t.Fatal("removing ops twice succeeded")
	}
}
