package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestCLI_FullAccessAndIMAPSwitch: a full-access grant is given, listed,
// shown from both sides and revoked like the others; it is refused on a
// domain, an alias or the grantee itself; `mailbox set --imap` switches
// IMAP for one mailbox (on by default).
func TestCLI_FullAccessAndIMAPSwitch(t *testing.T) {
	cfg := writeConfig(t)
	run(t, "", "domain", "add", "example.test", "--config", cfg)
	run(t, "", "mailbox", "add", "alice@example.test", "--config", cfg)
	run(t, "", "mailbox", "add", "support@example.test", "--shared", "--config", cfg)
	run(t, "", "mailbox", "alias", "add", "support@example.test", "help@example.test", "--config", cfg)

	out := run(t, "", "grant", "full-access", "--on", "support@example.test", "--to", "alice@example.test", "--config", cfg)
	if !strings.Contains(out, "alice@example.test may open the folders of support@example.test over IMAP") {
		t.Errorf("grant full-access:\n%s", out)
	}
	for _, tc := range []struct{ on, want string }{
		{"@example.test", "names a domain"},
		{"help@example.test", "is an alias of support@example.test"},
		{"alice@example.test", "opens its own folders"},
		{"nobody@example.test", "no mailbox nobody@example.test"},
	} {
		if _, err := tryRun("", "grant", "full-access", "--on", tc.on, "--to", "alice@example.test", "--config", cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("full access on %s: err %v, want it to say %q", tc.on, err, tc.want)
		}
	}
	if out := run(t, "", "grant", "list", "--to", "alice@example.test", "--config", cfg); !strings.Contains(out, "full-access") {
		t.Errorf("grant list lacks the full-access grant:\n%s", out)
	}
	if out := run(t, "", "mailbox", "show", "support@example.test", "--config", cfg); !regexp.MustCompile(`opened by \(full access\):\s+alice@example.test`).MatchString(out) {
		t.Errorf("mailbox show of the shared mailbox lacks who opens it:\n%s", out)
	}
	if out := run(t, "", "mailbox", "show", "alice@example.test", "--config", cfg); !regexp.MustCompile(`may open \(full access\):\s+support@example.test`).MatchString(out) {
		t.Errorf("mailbox show of the grantee lacks what it opens:\n%s", out)
	}
	run(t, "", "grant", "revoke", "full-access", "--on", "support@example.test", "--to", "alice@example.test", "--config", cfg)
	if out := run(t, "", "grant", "list", "--config", cfg); strings.Contains(out, "full-access") {
		t.Errorf("revoked full access still listed:\n%s", out)
	}

	if out := run(t, "", "mailbox", "show", "alice@example.test", "--config", cfg); !regexp.MustCompile(`imap:\s+on`).MatchString(out) {
		t.Errorf("a new mailbox's IMAP is not on:\n%s", out)
	}
	if out := run(t, "", "mailbox", "set", "alice@example.test", "--imap=off", "--config", cfg); !regexp.MustCompile(`imap:\s+off`).MatchString(out) {
		t.Errorf("mailbox set --imap=off:\n%s", out)
	}
	if out := run(t, "", "mailbox", "show", "alice@example.test", "--config", cfg); !regexp.MustCompile(`imap:\s+off`).MatchString(out) {
		t.Errorf("--imap=off did not persist:\n%s", out)
	}
}
