package main

import (
	"strings"
	"testing"
)

// TestCLI_GrantOutsideAddress: an address of a domain not served here
// cannot be granted, and the error says so without suggesting commands
// that would fail (mailbox add, or a grant on the whole outside domain).
func TestCLI_GrantOutsideAddress(t *testing.T) {
	cfg := writeConfig(t)
	run(t, "", "domain", "add", "example.test", "--config", cfg)
	run(t, "", "mailbox", "add", "app@example.test", "--config", cfg)
	_, err := tryRun("", "grant", "send-as", "--on", "someone@gmail.com", "--to", "app@example.test", "--config", cfg)
	if err == nil || !strings.Contains(err.Error(), "someone@gmail.com cannot be granted") || !strings.Contains(err.Error(), "serves no domain gmail.com") {
		t.Fatalf("grant on an outside address: %v", err)
	}
	for _, bad := range []string{"mailbox add", "--on @gmail.com"} {
		if strings.Contains(err.Error(), bad) {
			t.Errorf("the error suggests %q, which would fail: %v", bad, err)
		}
	}
	// A missing address of a served domain still names the fix.
	if _, err := tryRun("", "grant", "send-as", "--on", "billing@example.test", "--to", "app@example.test", "--config", cfg); err == nil || !strings.Contains(err.Error(), "mailroom mailbox add billing@example.test --shared") {
		t.Errorf("grant on a missing address of a served domain: %v", err)
	}
}
