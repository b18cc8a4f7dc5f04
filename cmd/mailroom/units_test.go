package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestCLI_DurationsTakeDays: every duration flag reads days ("1d") as
// well as Go durations.
func TestCLI_DurationsTakeDays(t *testing.T) {
	cfg := writeConfig(t)
	run(t, "", "domain", "add", "example.test", "--config", cfg)
	run(t, "", "mailbox", "add", "alice@example.test", "--config", cfg)
	if out := run(t, "", "trace", "--since", "1d", "--config", cfg); !strings.Contains(out, "no submission attempts match") {
		t.Errorf("trace --since 1d:\n%s", out)
	}
	run(t, "", "trace", "--since", "1d12h", "--config", cfg)
	run(t, "", "trace", "--since", "2 days", "--config", cfg)
	out := run(t, "", "mailbox", "set", "alice@example.test", "--sent-retention", "1d12h", "--config", cfg)
	if !regexp.MustCompile(`sent retention:\s+36 hours`).MatchString(out) {
		t.Errorf("sent retention of 1d12h:\n%s", out)
	}
	for _, bad := range []string{"1 fortnight", "-1d", "99999999999999d", "30"} {
		if _, err := tryRun("", "trace", "--since", bad, "--config", cfg); err == nil || !strings.Contains(err.Error(), "want a number of days such as 30d") {
			t.Errorf("trace --since %s: %v", bad, err)
		}
	}
	if out := run(t, "", "trace", "--help"); !strings.Contains(out, "(default 1 day)") {
		t.Errorf("trace --help does not show the default in days:\n%s", out)
	}
}
