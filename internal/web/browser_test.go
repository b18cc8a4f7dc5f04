package web_test

import (
	"context"
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
// through the permissions form, and finds a refused submission made here
// over SMTP in the trace with its reason; it saves a screenshot into
// $MAILROOM_ARTIFACTS (else the test's temp dir) and logs where.
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
	s.Send("app@example.test", pw, "app@example.test", []string{"app@example.test"}, "From: App <app@example.test>\r\nSubject: Weekly report\r\n\r\nhello\r\n")
	c := testkit.Ready(t, s, "app@example.test", pw)
	c.MustCmd("MAIL FROM:<support@example.test>", 550, "5.7.60")
	s.Daemon.FlushTrace()

	dir := os.Getenv("MAILROOM_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot, _ := filepath.Abs(filepath.Join(dir, "console-trace.png"))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "console.mjs")
	cmd.Dir = "browsertest"
	cmd.Env = append(os.Environ(), "MAILROOM_URL=http://"+s.Addr("http"), "MAILROOM_USER=root", "MAILROOM_PASSWORD="+pw,
		"MAILROOM_SCREENSHOT="+shot, "CHROMIUM="+chromium, "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("console.mjs (%s):\n%s", time.Since(start).Round(time.Millisecond), out)
	if err != nil {
		t.Fatalf("browser run: %v", err)
	}
	t.Logf("screenshot: %s", shot)
	for _, suffix := range []string{"", "-all", "-detail-refused", "-detail-accepted"} {
		p := strings.TrimSuffix(shot, ".png") + suffix + ".png"
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("no screenshot: %v", err)
		}
	}

	gs, err := s.Admin.Grants(context.Background(), "support@example.test", "app@example.test")
	if err != nil || len(gs) != 1 {
		t.Fatalf("grants after the browser's form: %+v %v", gs, err)
	}
	s.SyncDirectory()
	c.MustCmd("MAIL FROM:<support@example.test>", 250, "")
}
