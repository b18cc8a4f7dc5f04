package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

// configWithResolver writes a config whose DNS questions go to addr.
func configWithResolver(t *testing.T, addr string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "mailroom.toml")
	body := "data_dir = \"data\"\nhostname = \"mail.example.test\"\n[log]\nlevel = \"warn\"\n[delivery]\nresolver = \"" + addr + "\"\n"
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(filepath.Dir(p), "data"), 0o750); err != nil {
		t.Fatal(err)
	}
	return p
}

var txtLine = regexp.MustCompile(`(?m)^(\S+)\. IN TXT (.+)$`)

func TestCLI_DKIMAndDoctor(t *testing.T) {
	dns := testkit.StartDNS(t)
	cfg := configWithResolver(t, dns.Addr)
	run(t, "", "domain", "add", "example.test", "--config", cfg)
	out := run(t, "", "domain", "dkim", "example.test", "--config", cfg)
	recs := txtLine.FindAllStringSubmatch(out, -1)
	if len(recs) != 2 || !strings.HasPrefix(recs[0][1], "mailroom-ed25519._domainkey.example.test") || !strings.HasPrefix(recs[1][1], "mailroom-rsa._domainkey.example.test") {
		t.Fatalf("domain dkim printed:\n%s", out)
	}
	if again := run(t, "", "domain", "dkim", "example.test", "--config", cfg); !strings.Contains(again, "already has") ||
		len(txtLine.FindAllString(again, -1)) != 2 || !strings.Contains(again, recs[1][2]) {
		t.Fatalf("second domain dkim:\n%s", again)
	}
	if _, err := tryRun("", "domain", "dkim", "nowhere.test", "--config", cfg); err == nil || !strings.Contains(err.Error(), "mailroom domain add nowhere.test") {
		t.Fatalf("dkim for an unknown domain: %v", err)
	}

	// Before anything is published, doctor names every record to add.
	out, err := tryRun("", "doctor", "example.test", "--config", cfg)
	if err == nil || strings.Count(out, "publish:") != 5 {
		t.Fatalf("doctor on an empty zone: %v\n%s", err, out)
	}
	// Publish what it asked for, as printed.
	quoted := regexp.MustCompile(`"([^"]*)"`)
	for _, line := range regexp.MustCompile(`publish: (\S+)\. (MX|TXT) (.+)`).FindAllStringSubmatch(out, -1) {
		if line[2] == "MX" {
			dns.Add(t, line[1]+". MX "+line[3])
			continue
		}
		var v strings.Builder
		for _, q := range quoted.FindAllStringSubmatch(line[3], -1) {
			v.WriteString(q[1])
		}
		dns.AddTXT(line[1], v.String())
	}
	out = run(t, "", "doctor", "example.test", "--config", cfg)
	for _, want := range []string{"OK      MX", "OK      SPF", "OK      DKIM mailroom-ed25519", "OK      DKIM mailroom-rsa", "OK      DMARC"} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor after publishing lacks %q:\n%s", want, out)
		}
	}
}

func TestCLI_Queue(t *testing.T) {
	cfg := configWithResolver(t, "127.0.0.1:1")
	run(t, "", "domain", "add", "example.test", "--config", cfg)
	run(t, "pass-word-123\n", "mailbox", "add", "alice@example.test", "--password-stdin", "--config", cfg)
	st := storeOf(t, cfg)
	alice, err := st.Mailbox(context.Background(), "alice@example.test")
	if err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	for _, id := range []string{"QA", "QB"} {
		err := st.Accept(context.Background(), store.Acceptance{
			Message:    store.Message{ID: id, MessageID: id + "@example.test", MailboxID: alice.ID, EnvelopeFrom: alice.Address, Blob: id, DeliveryBlob: id, CreatedAt: later},
			Recipients: []string{"x@remote.test", "y@remote.test"},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	out := run(t, "", "queue", "list", "--config", cfg)
	if strings.Count(out, "queued") != 4 || !strings.Contains(out, "QA") || !strings.Contains(out, "alice@example.test") {
		t.Fatalf("queue list:\n%s", out)
	}
	if out := run(t, "", "queue", "retry", "QA", "--config", cfg); !strings.HasPrefix(out, "2 queued recipients made due now") {
		t.Errorf("retry QA: %s", out)
	}
	rows, _ := st.QueueRows(context.Background(), "QA")
	if rows[0].NextAttemptAt.After(time.Now()) {
		t.Errorf("retried row still due at %v", rows[0].NextAttemptAt)
	}
	if out := run(t, "", "queue", "drop", "QB", "--recipient", "Y@Remote.test", "--config", cfg); !strings.HasPrefix(out, "1 queued recipient dropped") {
		t.Errorf("drop: %s", out)
	}
	out = run(t, "", "queue", "list", "--state", "failed", "--config", cfg)
	if !strings.Contains(out, "y@remote.test") || !strings.Contains(out, "dropped by an administrator") || strings.Contains(out, "x@remote.test") {
		t.Errorf("failed rows:\n%s", out)
	}
	if out := run(t, "", "queue", "list", "--state", "all", "--id", "QB", "--config", cfg); strings.Count(out, "QB") != 2 {
		t.Errorf("list --id QB --state all:\n%s", out)
	}
	if out := run(t, "", "queue", "drop", "--all", "--config", cfg); !strings.HasPrefix(out, "3 queued recipients dropped") {
		t.Errorf("drop --all: %s", out)
	}
	for _, args := range [][]string{{"queue", "retry", "NOPE"}, {"queue", "retry"}, {"queue", "list", "--state", "odd"}, {"queue", "drop", "QA", "--all"}} {
		if _, err := tryRun("", append(args, "--config", cfg)...); err == nil {
			t.Errorf("mailroom %v succeeded", args)
		}
	}
}
