package web_test

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"mailroom/internal/admin"
	"mailroom/internal/testkit"
)

// scrape reads /metrics of s and returns each sample by its series
// ("name{labels}").
func scrape(t *testing.T, s *testkit.Server) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + s.Addr("http") + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	out := make(map[string]float64)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// TestMetrics_CountersMove scrapes /metrics over loopback, without a
// token, before and after a refused and an accepted submission. The
// counters are process-wide (other tests' daemons move them too), so the
// test asserts they grew, not their values.
func TestMetrics_CountersMove(t *testing.T) {
	const pw = "correct-horse-battery"
	s := testkit.Start(t, func(a *admin.Service) {
		ctx := context.Background()
		_, err := a.AddDomain(ctx, "example.test")
		testkit.MustAdd(t, err)
		for _, m := range []admin.NewMailbox{{Address: "app@example.test", Password: pw}, {Address: "bob@example.test", Password: pw}, {Address: "support@example.test", Shared: true}} {
			_, _, err = a.AddMailbox(ctx, m)
			testkit.MustAdd(t, err)
		}
	})
	before := scrape(t, s)

	c := testkit.Ready(t, s, "app@example.test", pw)
	c.MustCmd("MAIL FROM:<support@example.test>", 550, "5.7.60")
	c.Close()
	c = testkit.Dial(t, s.Addr("submission"))
	c.MustCmd("EHLO client.example.test", 250, "")
	c.Expect(c.AuthPlain("app@example.test", pw), 538, "5.7.11")
	c.Close()
	s.Send("app@example.test", pw, "app@example.test", []string{"bob@example.test"},
		"From: app@example.test\r\nTo: bob@example.test\r\nSubject: hi\r\n\r\nhello\r\n")

	after := scrape(t, s)
	for _, series := range []string{
		`mailroom_submission_sessions_total`,
		`mailroom_submission_auth_total{result="ok"}`,
		`mailroom_submission_auth_total{result="no_tls"}`,
		`mailroom_submission_refused_total{reason="send_as_denied"}`,
		`mailroom_submission_accepted_total`,
		`mailroom_submission_acceptance_duration_seconds_count`,
	} {
		if after[series] <= before[series] {
			t.Errorf("%s did not grow: %v → %v", series, before[series], after[series])
		}
	}
	for _, series := range []string{
		`mailroom_submission_sessions_active`,
		`mailroom_queue_depth_recipients{state="queued"}`,
		`mailroom_queue_depth_recipients{state="deferred"}`,
		`mailroom_queue_depth_errors_total`,
		`go_goroutines`,
	} {
		if _, ok := after[series]; !ok {
			t.Errorf("no %s in /metrics", series)
		}
	}
}
