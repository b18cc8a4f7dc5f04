package main

import (
	"regexp"
	"strings"
	"testing"

	"mailroom/internal/testkit"
)

// TestCLI_DomainRole: domain add --role, domain set --role and domain list
// show a domain's role; an unknown role is refused.
func TestCLI_DomainRole(t *testing.T) {
	cfg := writeConfig(t)
	if out := run(t, "", "domain", "add", "hosted.test", "--config", cfg); !strings.Contains(out, "domain hosted.test added (hosted)") {
		t.Fatalf("domain add:\n%s", out)
	}
	if out := run(t, "", "domain", "add", "relay.test", "--role", "relay", "--config", cfg); !strings.Contains(out, "domain relay.test added (relay)") {
		t.Fatalf("domain add --role relay:\n%s", out)
	}
	if _, err := tryRun("", "domain", "add", "mx.test", "--role", "mx", "--config", cfg); err == nil || !strings.Contains(err.Error(), `domain role "mx"`) {
		t.Fatalf("domain add --role mx: %v", err)
	}
	out := run(t, "", "domain", "list", "--config", cfg)
	if !regexp.MustCompile(`(?m)^hosted\.test +hosted `).MatchString(out) || !regexp.MustCompile(`(?m)^relay\.test +relay `).MatchString(out) ||
		strings.Contains(out, "mx.test") {
		t.Fatalf("domain list:\n%s", out)
	}
	if out := run(t, "", "domain", "set", "hosted.test", "--role", "relay", "--config", cfg); !strings.Contains(out, "role: relay") {
		t.Fatalf("domain set --role relay:\n%s", out)
	}
	if _, err := tryRun("", "domain", "set", "hosted.test", "--role", "upstream", "--config", cfg); err == nil {
		t.Fatal("domain set --role upstream was accepted")
	}
}

// TestCLI_DoctorRelayDomain: doctor checks a relay domain's MX as the
// upstream's, not this server's.
func TestCLI_DoctorRelayDomain(t *testing.T) {
	dns := testkit.StartDNS(t)
	cfg := configWithResolver(t, dns.Addr)
	run(t, "", "domain", "add", "relay.test", "--role", "relay", "--config", cfg)
	out, err := tryRun("", "doctor", "relay.test", "--config", cfg)
	if err == nil || !strings.Contains(out, "relay.test is a relay domain: its mail lives upstream") {
		t.Fatalf("doctor relay.test: %v\n%s", err, out)
	}
}
