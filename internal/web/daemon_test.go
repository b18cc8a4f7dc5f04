package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"mailroom/internal/admin"
	"mailroom/internal/testkit"
)

// TestAPI_RealListener drives the API on the daemon's http.listen: a
// refused submission is found through GET /api/v1/trace with its reason
// and reply, and a grant added through the API lets the next one through.
func TestAPI_RealListener(t *testing.T) {
	const pw = "correct-horse-battery"
	s := testkit.Start(t, func(a *admin.Service) {
		ctx := context.Background()
		_, err := a.AddDomain(ctx, "example.test")
		testkit.MustAdd(t, err)
		for _, m := range []admin.NewMailbox{{Address: "app@example.test", Password: pw}, {Address: "support@example.test", Shared: true}} {
			_, _, err = a.AddMailbox(ctx, m)
			testkit.MustAdd(t, err)
		}
	})
	_, tok, err := s.Admin.AddToken(context.Background(), "ci")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + s.Addr("http")
	do := func(method, path, body, token string, out any) int {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil {
			if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
		}
		return resp.StatusCode
	}
	var e map[string]string
	if got := do("GET", "/api/v1/domains", "", "", &e); got != http.StatusUnauthorized || e["code"] != "unauthorized" {
		t.Fatalf("without a token: %d %v", got, e)
	}

	c := testkit.Ready(t, s, "app@example.test", pw)
	c.MustCmd("MAIL FROM:<support@example.test>", 550, "5.7.60")
	s.Daemon.FlushTrace()
	var tl struct {
		Attempts []struct {
			ID                             int64
			Status, Reason, Reply, Command string
			EnvelopeFrom                   string `json:"envelope_from"`
		} `json:"attempts"`
	}
	if got := do("GET", "/api/v1/trace?status=refused&sender=support@example.test", "", tok, &tl); got != http.StatusOK || len(tl.Attempts) != 1 {
		t.Fatalf("trace: %d %+v", got, tl)
	}
	if a := tl.Attempts[0]; a.Status != "refused" || a.Command != "MAIL" || a.Reason != "send_as_denied" || !strings.HasPrefix(a.Reply, "550 5.7.60 SendAsDenied:") || a.EnvelopeFrom != "support@example.test" {
		t.Fatalf("refused attempt: %+v", a)
	}

	if got := do("POST", "/api/v1/grants", `{"kind":"send-as","on":"support@example.test","to":"app@example.test"}`, tok, nil); got != http.StatusCreated {
		t.Fatalf("add grant: %d", got)
	}
	s.SyncDirectory()
	c.MustCmd("MAIL FROM:<support@example.test>", 250, "")
}

// TestAPI_FoldersAndRawDownload lists Sent Items and the Inbox through the
// API and downloads a message as stored.
func TestAPI_FoldersAndRawDownload(t *testing.T) {
	const pw = "correct-horse-battery"
	s := testkit.Start(t, func(a *admin.Service) {
		ctx := context.Background()
		_, err := a.AddDomain(ctx, "example.test")
		testkit.MustAdd(t, err)
		for _, m := range []string{"alice@example.test", "bob@example.test"} {
			_, _, err = a.AddMailbox(ctx, admin.NewMailbox{Address: m, Password: pw})
			testkit.MustAdd(t, err)
		}
	})
	_, tok, err := s.Admin.AddToken(context.Background(), "ci")
	if err != nil {
		t.Fatal(err)
	}
	c := testkit.Ready(t, s, "alice@example.test", pw)
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<bob@example.test>", 250, "")
	c.Expect(c.SendData("From: alice@example.test\nBcc: secret@example.test\nSubject: via api\n\nhello\n"), 250, "2.0.0")

	get := func(path string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+s.Addr("http")+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	code, _, body := get("/api/v1/mailboxes/alice@example.test/folders/sent")
	var sent []struct {
		ID      string `json:"id"`
		Size    int64  `json:"size"`
		From    string `json:"from"`
		Subject string `json:"subject"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &sent) != nil || len(sent) != 1 || sent[0].Subject != "via api" || sent[0].From != "alice@example.test" {
		t.Fatalf("sent listing: %d %s", code, body)
	}
	if code, _, body := get("/api/v1/mailboxes/alice@example.test/folders/sent?q=other"); code != http.StatusOK || body != "[]\n" {
		t.Fatalf("sent listing searched for another subject: %d %q", code, body)
	}
	code, ct, raw := get("/api/v1/mailboxes/alice@example.test/folders/sent/" + sent[0].ID + "/raw")
	if code != http.StatusOK || ct != "message/rfc822" || !strings.Contains(raw, "Bcc: secret@example.test") || int64(len(raw)) != sent[0].Size {
		t.Fatalf("raw Sent Items copy: %d %s %q", code, ct, raw)
	}
	code, _, raw = get("/api/v1/mailboxes/bob@example.test/folders/inbox/" + sent[0].ID + "/raw")
	if code != http.StatusOK || strings.Contains(raw, "Bcc:") || !strings.Contains(raw, "Subject: via api") {
		t.Fatalf("raw Inbox copy: %d %q", code, raw)
	}
	if code, _, body := get("/api/v1/mailboxes/bob@example.test/folders/drafts"); code != http.StatusBadRequest {
		t.Fatalf("unknown folder: %d %s", code, body)
	}
	if code, _, _ := get("/api/v1/mailboxes/bob@example.test/folders/inbox/nope/raw"); code != http.StatusNotFound {
		t.Fatalf("unknown message: %d", code)
	}
}
