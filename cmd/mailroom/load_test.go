package main

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"mailroom/internal/admin"
	"mailroom/internal/config"
	"mailroom/internal/testkit"
)

// TestCLI_Load runs mailroom load against a server, then with a wrong
// password, and checks the summary and the exit status.
func TestCLI_Load(t *testing.T) {
	s := testkit.Start(t, func(a *admin.Service) {
		ctx := context.Background()
		a.AddDomain(ctx, "example.test")
		a.AddMailbox(ctx, admin.NewMailbox{Address: "alice@example.test", Password: "correct-horse-battery"})
		a.AddMailbox(ctx, admin.NewMailbox{Address: "bob@example.test", Password: "correct-horse-battery"})
	}, func(c *config.Config) { c.Limits.MessagesPerMinute = 1000 })
	args := []string{"load", "--addr", s.Addr("submission"), "--ca", filepath.Join(s.DataDir(), "tls", "cert.pem"),
		"--user", "alice@example.test", "--password-stdin", "--to", "bob@example.test,alice@example.test",
		"--size", "1k", "--conns", "2", "--messages", "10"}
	out := run(t, "correct-horse-battery\n", args...)
	for _, want := range []string{`10 messages of 1024 bytes to 2 recipients`, `10 ok, 0 failed`, `throughput:\s+\d+\.\d msgs/s`, `latency:\s+p50 \d+\.\d\dms  p90 .* max `, `session setup:.*\d sessions`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("summary lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\r") {
		t.Errorf("a progress bar was drawn on a stderr that is not a terminal:\n%q", out)
	}

	// Four, not ten: the tenth failed login from an address is refused
	// with 421 4.7.0 instead.
	args[len(args)-1] = "4"
	out, err := tryRun("wrong-password\n", args...)
	var u usageError
	if err == nil || errors.As(err, &u) || !strings.Contains(err.Error(), "4 of 4 messages failed") {
		t.Errorf("failed run: err %v, want 4 of 4 failed (exit status 1)", err)
	}
	if !strings.Contains(out, "AUTH 535 5.7.3: 4") {
		t.Errorf("failures not grouped by phase and codes:\n%s", out)
	}
}

func TestCLI_LoadUsage(t *testing.T) {
	var u usageError
	for _, args := range [][]string{
		{"load", "--user", "a@example.test", "--size", "lots"},
		{"load", "--user", "a@example.test", "--tls", "ssl"},
		{"load", "--to", "b@example.test"}, // no sender
		{"load", "--user", "a@example.test", "--messages", "0"},
		{"load", "extra"},
	} {
		if _, err := tryRun("", args...); !errors.As(err, &u) {
			t.Errorf("mailroom %q: err %v, want a usage error", args, err)
		}
	}
	out, err := tryRun("", "load", "--help")
	if err != nil || !strings.Contains(out, "-per-conn") || !strings.Contains(out, "Exit status") {
		t.Errorf("--help: %v\n%s", err, out)
	}
}
