package main

import (
	"strings"
	"testing"
)

// TestCLI_Connector: add, list, set and remove a connector, and the
// refusals that keep a connector from being an open relay or naming what
// does not exist.
func TestCLI_Connector(t *testing.T) {
	cfg := writeConfig(t)
	run(t, "", "domain", "add", "example.test", "--config", cfg)
	run(t, "pass-word-123\n", "mailbox", "add", "printer@example.test", "--password-stdin", "--config", cfg)
	fp := strings.Repeat("AB:", 31) + "AB"
	out := run(t, "", "connector", "add", "floor-2", "--mailbox", "Printer@Example.test", "--networks", "10.1.2.7,10.1.3.0/24", "--cert-fingerprint", fp, "--legacy-tls", "--config", cfg)
	if !strings.Contains(out, "connector floor-2 added: a client in 10.1.2.7/32, 10.1.3.0/24 or a client with one of 1 certificates sends without AUTH as printer@example.test") {
		t.Fatalf("add:\n%s", out)
	}
	out = run(t, "", "connector", "list", "--config", cfg)
	if !strings.Contains(out, "floor-2") || !strings.Contains(out, strings.Repeat("ab", 32)) || !strings.Contains(out, "yes") {
		t.Fatalf("list:\n%s", out)
	}
	out = run(t, "", "connector", "set", "floor-2", "--legacy-tls=false", "--cert-fingerprint", "", "--config", cfg)
	if !strings.Contains(out, "a client in 10.1.2.7/32, 10.1.3.0/24 sends without AUTH as printer@example.test; legacy TLS no") {
		t.Fatalf("set:\n%s", out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"add", "any", "--mailbox", "printer@example.test", "--networks", "0.0.0.0/0"}, "open relay"},
		{[]string{"add", "none", "--mailbox", "printer@example.test"}, "admits nobody"},
		{[]string{"add", "x", "--mailbox", "nobody@example.test", "--networks", "10.0.0.1"}, "does not exist"},
		{[]string{"add", "bad name", "--mailbox", "printer@example.test", "--networks", "10.0.0.1"}, "connector name"},
		{[]string{"add", "y", "--mailbox", "printer@example.test", "--cert-fingerprint", "abcd"}, "SHA-256"},
		{[]string{"add", "z", "--mailbox", "printer@example.test", "--cert-fingerprint", fp, "--legacy-tls"}, "--legacy-tls applies to the connector's networks"},
		{[]string{"add", "floor-2", "--mailbox", "printer@example.test", "--networks", "10.0.0.1"}, "already exists"},
		{[]string{"set", "nope", "--legacy-tls"}, "connector nope does not exist"},
	} {
		if _, err := tryRun("", append(append([]string{"connector"}, tc.args...), "--config", cfg)...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("connector %v: %v, want mention of %q", tc.args, err, tc.want)
		}
	}
	run(t, "", "connector", "remove", "floor-2", "--config", cfg)
	if out := run(t, "", "connector", "list", "--config", cfg); strings.Contains(out, "floor-2") {
		t.Fatalf("list after remove:\n%s", out)
	}
}
