package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCLI_FindsConfig: admin commands use --config, then $MAILROOM_CONFIG,
// then ./mailroom.toml, say on stderr which file they use when --config
// did not name it, and run from a folder with no configuration they fail
// saying where they looked, creating nothing.
func TestCLI_FindsConfig(t *testing.T) {
	cfg := writeConfig(t)
	t.Setenv("MAILROOM_CONFIG", "")
	run(t, "", "domain", "add", "example.test", "--config", cfg)

	elsewhere := t.TempDir()
	t.Chdir(elsewhere)
	out, err := tryRun("", "grant", "send-as", "--on", "info@example.test", "--to", "alice@example.test")
	if err == nil {
		t.Fatalf("grant from a folder with no configuration succeeded:\n%s", out)
	}
	for _, want := range []string{"no mailroom configuration found", "--config (not given)", "$MAILROOM_CONFIG (not set)",
		filepath.Join(elsewhere, "mailroom.toml"), "/etc/mailroom/mailroom.toml", "--config FILE or MAILROOM_CONFIG=FILE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if ents, _ := os.ReadDir(elsewhere); len(ents) != 0 {
		t.Fatalf("a failed admin command left %v in the working directory", ents)
	}

	// $MAILROOM_CONFIG names it; stderr says so.
	t.Setenv("MAILROOM_CONFIG", cfg)
	stdout, stderr, err := runSplit("", "domain", "list")
	if err != nil || !strings.Contains(stdout, "example.test") {
		t.Fatalf("domain list with $MAILROOM_CONFIG: %v\n%s%s", err, stdout, stderr)
	}
	if !strings.Contains(stderr, "using the configuration "+cfg+" (found by $MAILROOM_CONFIG)") {
		t.Errorf("stderr does not name the configuration:\n%s", stderr)
	}
	t.Setenv("MAILROOM_CONFIG", filepath.Join(elsewhere, "missing.toml"))
	if _, err := tryRun("", "domain", "list"); err == nil || !strings.Contains(err.Error(), "$MAILROOM_CONFIG="+filepath.Join(elsewhere, "missing.toml")) {
		t.Errorf("a missing $MAILROOM_CONFIG file: %v", err)
	}

	// ./mailroom.toml of the working directory; --config still wins and
	// is not announced.
	t.Setenv("MAILROOM_CONFIG", "")
	t.Chdir(filepath.Dir(cfg))
	stdout, stderr, err = runSplit("", "domain", "list")
	if err != nil || !strings.Contains(stdout, "example.test") || !strings.Contains(stderr, "(found by ./mailroom.toml)") {
		t.Fatalf("domain list in the configuration's folder: %v\n%s%s", err, stdout, stderr)
	}
	if _, stderr, err = runSplit("", "domain", "list", "--config", cfg); err != nil || stderr != "" {
		t.Errorf("with --config: %v, stderr %q", err, stderr)
	}
}

// TestCLI_NeverCreatesDataDir: a configuration whose data directory does
// not exist is refused by admin commands (serve creates it), and a folder
// where a server ran with no configuration (./data) is used on defaults.
func TestCLI_NeverCreatesDataDir(t *testing.T) {
	t.Setenv("MAILROOM_CONFIG", "")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "mailroom.toml")
	if err := os.WriteFile(cfg, []byte("data_dir = \"state\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := tryRun("", "domain", "add", "example.test", "--config", cfg)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "state")+" does not exist") {
		t.Fatalf("admin command with a missing data_dir: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "state")); !os.IsNotExist(err) {
		t.Fatalf("the data directory was created: %v", err)
	}

	// No configuration file, but ./data holds a server's database.
	bare := t.TempDir()
	t.Chdir(bare)
	if err := os.Mkdir("data", 0o750); err != nil {
		t.Fatal(err)
	}
	if _, err := tryRun("", "domain", "list"); err == nil {
		t.Fatal("an empty ./data was taken for a server's data")
	}
	if err := os.Mkdir(filepath.Join(dir, "state"), 0o750); err != nil {
		t.Fatal(err)
	}
	run(t, "", "domain", "add", "example.test", "--config", cfg) // now it exists
	if err := os.Rename(filepath.Join(dir, "state", "mailroom.db"), filepath.Join(bare, "data", "mailroom.db")); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := runSplit("", "domain", "list")
	if err != nil || !strings.Contains(stdout, "example.test") || !strings.Contains(stderr, "no configuration file found; using the defaults and the database "+filepath.Join(bare, "data", "mailroom.db")) {
		t.Fatalf("domain list on defaults: %v\n%s%s", err, stdout, stderr)
	}
}

// TestCLI_HelpEverywhere: --help and -h of every group and subcommand
// print usage on stdout and succeed, and no flag shows a NUL default.
func TestCLI_HelpEverywhere(t *testing.T) {
	cmds := [][]string{
		{"serve"}, {"quickstart"}, {"trace"}, {"doctor"}, {"load"},
		{"domain"}, {"domain", "add"}, {"domain", "list"}, {"domain", "set"}, {"domain", "remove"}, {"domain", "dkim"},
		{"mailbox"}, {"mailbox", "add"}, {"mailbox", "list"}, {"mailbox", "show"}, {"mailbox", "set"}, {"mailbox", "passwd"},
		{"mailbox", "remove"}, {"mailbox", "alias"}, {"mailbox", "alias", "add"}, {"mailbox", "alias", "remove"},
		{"grant"}, {"grant", "send-as"}, {"grant", "send-on-behalf"}, {"grant", "list"}, {"grant", "revoke"},
		{"app-password"}, {"app-password", "add"}, {"app-password", "list"}, {"app-password", "set"}, {"app-password", "revoke"},
		{"oauth-client"}, {"oauth-client", "add"}, {"oauth-client", "list"}, {"oauth-client", "remove"},
		{"connector"}, {"connector", "add"}, {"connector", "list"}, {"connector", "set"}, {"connector", "remove"},
		{"queue"}, {"queue", "list"}, {"queue", "retry"}, {"queue", "drop"},
		{"admin"}, {"admin", "token"}, {"admin", "token", "add"}, {"admin", "token", "list"}, {"admin", "token", "revoke"},
		{"admin", "user"}, {"admin", "user", "add"}, {"admin", "user", "passwd"}, {"admin", "user", "list"}, {"admin", "user", "remove"},
	}
	nul := regexp.MustCompile(`\\x00|\x00`)
	for _, c := range cmds {
		for _, h := range []string{"--help", "-h"} {
			args := append(append([]string(nil), c...), h)
			stdout, stderr, err := runSplit("", args...)
			if err != nil {
				t.Errorf("mailroom %s: %v\n%s", strings.Join(args, " "), err, stderr)
				continue
			}
			if !strings.HasPrefix(stdout, "Usage: mailroom "+c[0]) {
				t.Errorf("mailroom %s printed no usage on stdout:\n%s", strings.Join(args, " "), stdout)
			}
			if nul.MatchString(stdout) {
				t.Errorf("mailroom %s shows a NUL default:\n%s", strings.Join(args, " "), stdout)
			}
		}
	}
}

// runSplit executes a command line and returns stdout and stderr apart.
func runSplit(stdin string, args ...string) (string, string, error) {
	var out, errb strings.Builder
	err := Run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), err
}
