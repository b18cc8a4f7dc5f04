package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"mailroom/internal/admin"
	"mailroom/internal/config"
	"mailroom/internal/testkit"
)

// TestTrace_OneRowPerAttempt (issue 20): one session with 30 accepted and
// 3 refused submissions (550 at MAIL twice, 554 after DATA), a refused
// AUTH (535) and a message bob sends on behalf of a shared mailbox are
// 35 rows of the trace, newest first, in the console, the CLI and the API
// alike: the refusals on the first page of status=refused, pages that
// walk the list once, bob found by --sender bob@ through the Sender: his
// send-on-behalf message carries, and a row opening its detail.
func TestTrace_OneRowPerAttempt(t *testing.T) {
	const pw = "correct-horse-battery"
	s := testkit.Start(t, func(a *admin.Service) {
		ctx := context.Background()
		_, err := a.AddDomain(ctx, "example.test")
		testkit.MustAdd(t, err)
		for _, m := range []admin.NewMailbox{{Address: "app@example.test", Password: pw}, {Address: "bob@example.test", Password: pw},
			{Address: "carol@example.test", Password: pw}, {Address: "shared@example.test", Shared: true}} {
			_, _, err = a.AddMailbox(ctx, m)
			testkit.MustAdd(t, err)
		}
		_, err = a.AddGrant(ctx, admin.GrantSpec{Kind: "send-on-behalf", On: "shared@example.test", To: "bob@example.test"})
		testkit.MustAdd(t, err)
		_, err = a.AddConsoleUser(ctx, "root", pw)
		testkit.MustAdd(t, err)
	}, func(c *config.Config) { c.Limits.MessagesPerMinute = 100 })

	c := testkit.Ready(t, s, "app@example.test", pw)
	c.MustCmd("MAIL FROM:<boss@example.test>", 550, "5.7.60")
	c.MustCmd("MAIL FROM:<ceo@example.test>", 550, "5.7.60")
	c.MustCmd("MAIL FROM:<app@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.Expect(c.SendData("From: boss@example.test\nSubject: forged\n\nno\n"), 554, "5.7.60")
	for i := range 30 {
		c.MustCmd("MAIL FROM:<app@example.test>", 250, "")
		c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
		c.Expect(c.SendData(fmt.Sprintf("From: app@example.test\nSubject: Report %02d\n\nbody %d\n", i, i)), 250, "2.0.0")
	}
	c.Close()
	bad := testkit.Dial(t, s.Addr("submission"))
	bad.MustCmd("EHLO client.example.test", 250, "")
	bad.StartTLS(s.TLSConfig())
	bad.Expect(bad.AuthPlain("app@example.test", "wrong-password"), 535, "5.7.3")
	bad.Close()
	b := testkit.Ready(t, s, "bob@example.test", pw)
	b.MustCmd("MAIL FROM:<shared@example.test>", 250, "")
	b.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	b.Expect(b.SendData("From: Shared <shared@example.test>\nSubject: =?utf-8?q?Caf=C3=A9_hours?=\n\nopen\n"), 250, "2.0.0")
	b.Close()
	s.Daemon.FlushTrace()

	// The CLI.
	cfg := serverConfig(t, s)
	rows := regexp.MustCompile(`(?m)^(\d+) +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d `)
	out := run(t, "", "trace", "--config", cfg, "--limit", "50")
	if n := len(rows.FindAllString(out, -1)); n != 35 || strings.Contains(out, "--cursor") {
		t.Errorf("trace: %d rows, want 35 (one per attempt), on one page:\n%s", n, out)
	}
	out = run(t, "", "trace", "--config", cfg, "--status", "refused")
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`app@example.test +- +- +- +- +- +refused at AUTH +bad_credentials 535 5.7.3`),
		regexp.MustCompile(`app@example.test +boss@example.test +- +- +- +- +refused at MAIL +send_as_denied 550 5.7.60`),
		regexp.MustCompile(`app@example.test +ceo@example.test +- +- +- +- +refused at MAIL +send_as_denied 550 5.7.60`),
		regexp.MustCompile(`app@example.test +app@example.test +boss@example.test +carol@example.test +forged +- +refused at DATA +\S+ 554 5.7.60`),
	} {
		if !want.MatchString(out) {
			t.Errorf("trace --status refused: no %s in:\n%s", want, out)
		}
	}
	if n := len(rows.FindAllString(out, -1)); n != 4 {
		t.Errorf("trace --status refused: %d rows, want 4", n)
	}
	out = run(t, "", "trace", "--config", cfg, "--sender", "bob@")
	if n := len(rows.FindAllString(out, -1)); n != 1 || !regexp.MustCompile(`bob@example.test +shared@example.test +shared@example.test \(sender bob@example.test\) +carol@example.test +Café hours +\d+ bytes +accepted`).MatchString(out) {
		t.Errorf("trace --sender bob@: want bob's send-on-behalf message:\n%s", out)
	}
	var seen []string
	args := []string{"trace", "--config", cfg, "--limit", "20"}
	for page := 0; page < 3; page++ {
		out = run(t, "", args...)
		for _, m := range rows.FindAllStringSubmatch(out, -1) {
			seen = append(seen, m[1])
		}
		cur := regexp.MustCompile(`--cursor (\S+)`).FindStringSubmatch(out)
		if cur == nil {
			break
		}
		args = []string{"trace", "--config", cfg, "--limit", "20", "--cursor", cur[1]}
	}
	if len(seen) != 35 || len(unique(seen)) != 35 {
		t.Errorf("trace in pages of 20: %d rows (%d distinct), want 35", len(seen), len(unique(seen)))
	}

	// The API.
	_, tok, err := s.Admin.AddToken(context.Background(), "ci")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + s.Addr("http")
	api := func(path string, v any) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil { // v is zeroed by the caller
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	type attempt struct {
		ID           int64    `json:"id"`
		Status       string   `json:"status"`
		Mailbox      string   `json:"mailbox"`
		EnvelopeFrom string   `json:"envelope_from"`
		HeaderFrom   []string `json:"header_from"`
		HeaderSender string   `json:"header_sender"`
		Subject      string   `json:"subject"`
		Size         int64    `json:"size"`
		QueueID      string   `json:"queue_id"`
		Delivery     string   `json:"delivery"`
		Command      string   `json:"command"`
		Reply        string   `json:"reply"`
	}
	var page struct {
		Attempts []attempt `json:"attempts"`
		Next     string    `json:"next"`
	}
	api("/api/v1/trace?sender=bob@", &page)
	if len(page.Attempts) != 1 || page.Next != "" {
		t.Fatalf("API sender=bob@: %+v", page)
	}
	if a := page.Attempts[0]; a.Status != "accepted" || a.Mailbox != "bob@example.test" || a.EnvelopeFrom != "shared@example.test" ||
		fmt.Sprint(a.HeaderFrom) != "[shared@example.test]" || a.HeaderSender != "bob@example.test" || a.Subject != "Café hours" || a.Size == 0 ||
		a.QueueID == "" || a.Delivery != "delivered" {
		t.Errorf("API bob's attempt: %+v", a)
	}
	bobID := page.Attempts[0].ID
	page.Attempts, page.Next = nil, ""
	api("/api/v1/trace?status=refused&limit=2", &page)
	if len(page.Attempts) != 2 || page.Next == "" || page.Attempts[0].Command != "AUTH" {
		t.Errorf("API status=refused&limit=2: %+v", page)
	}
	cursor := page.Next
	page.Attempts, page.Next = nil, ""
	api("/api/v1/trace?status=refused&limit=2&cursor="+url.QueryEscape(cursor), &page)
	if len(page.Attempts) != 2 || page.Next != "" || page.Attempts[1].Command != "MAIL" || !strings.HasPrefix(page.Attempts[1].Reply, "550 5.7.60 ") {
		t.Errorf("API status=refused, page 2: %+v", page)
	}
	var detail struct {
		attempt
		Events []struct {
			Kind, Command string
		} `json:"events"`
		Deliveries []struct {
			Recipient, State string
			Events           []struct{ Status string } `json:"events"`
		} `json:"recipient_deliveries"`
		Copies []string `json:"sent_items_of"`
	}
	api(fmt.Sprintf("/api/v1/trace/%d", bobID), &detail)
	if detail.HeaderSender != "bob@example.test" || len(detail.Deliveries) != 1 || detail.Deliveries[0].State != "delivered" ||
		len(detail.Deliveries[0].Events) != 1 || fmt.Sprint(detail.Copies) != "[bob@example.test]" {
		t.Errorf("API detail: %+v", detail)
	}
	if kinds := fmt.Sprint(detail.Events); !strings.HasPrefix(kinds, "[{session } {session } {auth AUTH}") || !strings.HasSuffix(kinds, "{accepted }]") {
		t.Errorf("API detail events: %s", kinds)
	}

	// An event that is not an attempt (the session's start) opens nothing.
	var ev struct{ Events []struct{ ID int64 } }
	api(fmt.Sprintf("/api/v1/trace/%d", bobID), &ev)
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/trace/%d", base, ev.Events[0].ID), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /api/v1/trace/{a session event}: %v %v, want 404", resp.Status, err)
	} else {
		resp.Body.Close()
	}

	// The console.
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	get := func(path string) string {
		t.Helper()
		resp, err := hc.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, body)
		}
		return string(body)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(get("/login"))
	resp, err := hc.PostForm(base+"/login", url.Values{"csrf": {csrf[1]}, "user": {"root"}, "password": {pw}, "next": {"/trace"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	row := regexp.MustCompile(`<tr class="attempt st-(\w+)" data-id="(\d+)">`)
	body := get("/trace?status=refused")
	if got := row.FindAllStringSubmatch(body, -1); len(got) != 4 || strings.Count(body, "send_as_denied") != 3 || !strings.Contains(body, "550 5.7.60 SendAsDenied") {
		t.Errorf("console status=refused: %d rows, want 4 with the refusals:\n%s", len(got), body)
	}
	body = get("/trace")
	if got := row.FindAllStringSubmatch(body, -1); len(got) != 35 || got[0][1] != "accepted" || !strings.Contains(body, "Report 29") || !strings.Contains(body, "carol@example.test") {
		t.Errorf("console trace: %d rows, want 35 newest first", len(got))
	}
	body = get("/trace?limit=20")
	next := regexp.MustCompile(`<a href="([^"]+)" id="next-page">`).FindStringSubmatch(body)
	if got := row.FindAllStringSubmatch(body, -1); len(got) != 20 || next == nil {
		t.Fatalf("console page 1 of 20: %d rows, next %v", len(got), next)
	}
	body = get(strings.ReplaceAll(next[1], "&amp;", "&"))
	if got := row.FindAllStringSubmatch(body, -1); len(got) != 15 || strings.Contains(body, `id="next-page"`) || !strings.Contains(body, `id="first-page"`) {
		t.Errorf("console page 2: %d rows, want 15 and no next page", len(got))
	}
	body = get(fmt.Sprintf("/trace/%d", bobID))
	for _, want := range []string{"bob@example.test", "shared@example.test", "Café hours", `class="message-link" href="/messages/bob@example.test/`, `id="deliveries"`, `id="session-events"`, "UTC"} {
		if !strings.Contains(body, want) {
			t.Errorf("console detail: no %q", want)
		}
	}
	if t.Failed() {
		t.Logf("detail page:\n%s", body)
	}
	link := regexp.MustCompile(`class="message-link" href="([^"]+)"`).FindStringSubmatch(body)
	if link != nil && !strings.Contains(get(strings.ReplaceAll(link[1], "&amp;", "&")), "Café hours") {
		t.Errorf("the detail's message link does not open the message")
	}
}

func unique(s []string) map[string]bool {
	m := map[string]bool{}
	for _, v := range s {
		m[v] = true
	}
	return m
}
