package web_test

import (
	"context"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailroom/internal/admin"
	"mailroom/internal/testkit"
)

// TestConsole_Browser drives the console in Debian's headless Chromium
// (browsertest/console.mjs, playwright-core): it logs in, grants Send As
// through the permissions form, finds a refused submission made here over
// SMTP in the trace with its reason, uses the domain and mailbox forms,
// and saves a full-page screenshot of every console page into
// $MAILROOM_ARTIFACTS/screenshots (else testdata/screenshots, which git
// ignores), with an index.html to look at them; it prints where.
//
// Setup (README "Run the tests"): apt-get install chromium;
// npm ci --prefix internal/web/browsertest. Without them the test skips,
// unless MAILROOM_TEST_BROWSER is set (.ci/run), when it fails.
func TestConsole_Browser(t *testing.T) {
	skip := t.Skip
	if os.Getenv("MAILROOM_TEST_BROWSER") != "" { // .ci/run: the test must run
		skip = t.Fatal
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	node, err := exec.LookPath("node")
	if err != nil {
		skip("node is not installed (apt-get install nodejs); the browser test needs it")
	}
	if _, err := os.Stat(chromium); err != nil {
		skip("no Chromium at " + chromium + " (apt-get install chromium, or set CHROMIUM); the browser test needs it")
	}
	if _, err := os.Stat("browsertest/node_modules/playwright-core"); err != nil {
		skip("playwright-core is not installed: run npm ci --prefix internal/web/browsertest")
	}

	const pw = "correct-horse-battery"
	s := testkit.Start(t, func(a *admin.Service) {
		ctx := context.Background()
		_, err := a.AddDomain(ctx, "example.test")
		testkit.MustAdd(t, err)
		for _, m := range []admin.NewMailbox{{Address: "app@example.test", Password: pw}, {Address: "support@example.test", Shared: true}} {
			_, _, err = a.AddMailbox(ctx, m)
			testkit.MustAdd(t, err)
		}
		_, err = a.AddConsoleUser(ctx, "root", pw)
		testkit.MustAdd(t, err)
	})
	id := s.Send("app@example.test", pw, "app@example.test", []string{"app@example.test"},
		"From: app@example.test\r\nTo: app@example.test\r\nSubject: Invoice 42\r\n\r\nEvery page gets a screenshot.\r\n")
	c := testkit.Ready(t, s, "app@example.test", pw)
	c.MustCmd("MAIL FROM:<support@example.test>", 550, "5.7.60")
	s.Daemon.FlushTrace()

	dir, err := screenshotDir()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "console.mjs")
	cmd.Dir = "browsertest"
	cmd.Env = append(os.Environ(), "MAILROOM_URL=http://"+s.Addr("http"), "MAILROOM_USER=root", "MAILROOM_PASSWORD="+pw,
		"MAILROOM_SCREENSHOTS="+dir, "MAILROOM_MESSAGE="+id, "CHROMIUM="+chromium, "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("console.mjs (%s):\n%s", time.Since(start).Round(time.Millisecond), out)
	if err != nil {
		t.Fatalf("browser run: %v", err)
	}
	n, err := screenshotIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	// .ci/run prints the directory after the tests: go test shows this
	// line only with -v or on failure.
	t.Logf("console screenshots: %d in %s (open index.html)", n, dir)

	gs, err := s.Admin.Grants(context.Background(), "support@example.test", "app@example.test")
	if err != nil || len(gs) != 1 {
		t.Fatalf("grants after the browser's form: %+v %v", gs, err)
	}
	s.SyncDirectory()
	c.MustCmd("MAIL FROM:<support@example.test>", 250, "")
}

// screenshotDir is where the browser test's screenshots go, emptied of
// the last run's: $MAILROOM_ARTIFACTS/screenshots, else
// testdata/screenshots (git ignores it). Either stays after the test.
func screenshotDir() (string, error) {
	dir := filepath.Join("testdata", "screenshots")
	if a := os.Getenv("MAILROOM_ARTIFACTS"); a != "" {
		dir = filepath.Join(a, "screenshots")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	old, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return "", err
		}
	}
	return dir, os.MkdirAll(dir, 0o755)
}

// screenshotIndex writes dir/index.html showing every PNG in dir, and
// returns how many there are.
func screenshotIndex(dir string) (int, error) {
	pngs, err := filepath.Glob(filepath.Join(dir, "*.png"))
	if err != nil || len(pngs) == 0 {
		return 0, fmt.Errorf("no screenshots in %s (%v)", dir, err)
	}
	var b strings.Builder
	b.WriteString("<!doctype html><meta charset=utf-8><title>mailroom console screenshots</title>\n")
	for _, p := range pngs {
		name := html.EscapeString(filepath.Base(p))
		fmt.Fprintf(&b, "<h2>%s</h2><a href=\"%s\"><img src=\"%s\" width=640 alt=\"%s\"></a>\n", name, name, name, name)
	}
	return len(pngs), os.WriteFile(filepath.Join(dir, "index.html"), []byte(b.String()), 0o644)
}
