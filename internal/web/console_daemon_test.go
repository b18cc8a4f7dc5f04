package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"mailroom/internal/admin"
	"mailroom/internal/testkit"
)

// TestConsole_MessageViewer: a message with a plain text part, an HTML
// part that loads a remote image, and an attachment, submitted over SMTP,
// is shown from the sender's Sent Items: headers, text, attachment, and
// the HTML in a sandboxed iframe whose own response forbids remote
// content.
func TestConsole_MessageViewer(t *testing.T) {
	const pw = "correct-horse-battery"
	s := testkit.Start(t, func(a *admin.Service) {
		ctx := context.Background()
		_, err := a.AddDomain(ctx, "example.test")
		testkit.MustAdd(t, err)
		for _, m := range []admin.NewMailbox{{Address: "app@example.test", Password: pw}, {Address: "bob@example.test", Password: pw}} {
			_, _, err = a.AddMailbox(ctx, m)
			testkit.MustAdd(t, err)
		}
		_, err = a.AddConsoleUser(ctx, "root", pw)
		testkit.MustAdd(t, err)
	})
	msg := "From: app@example.test\r\nTo: bob@example.test\r\nSubject: Invoice 42\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=outer\r\n\r\n" +
		"--outer\r\nContent-Type: multipart/alternative; boundary=alt\r\n\r\n" +
		"--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease find the invoice attached.\r\n" +
		"--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Please find the <b>invoice</b> attached.<img src=\"https://tracker.example/pixel.gif\"></p>\r\n" +
		"--alt--\r\n" +
		"--outer\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"invoice-42.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n" +
		"--outer--\r\n"
	id := s.Send("app@example.test", pw, "app@example.test", []string{"bob@example.test"}, msg)

	base := "http://" + s.Addr("http")
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := hc.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	_, body := get("/login")
	tok := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if tok == nil {
		t.Fatalf("login page:\n%s", body)
	}
	resp, err := hc.PostForm(base+"/login", url.Values{"csrf": {tok[1]}, "user": {"root"}, "password": {pw}, "next": {"/messages/app@example.test"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), id) {
		t.Fatalf("Sent Items of app@ after login: %d, no %s in\n%s", resp.StatusCode, id, b)
	}

	resp, body = get("/messages/app@example.test/" + id + "?folder=Sent+Items")
	for _, want := range []string{"Invoice 42", "Please find the invoice attached.", "invoice-42.pdf", "application/pdf", `<iframe sandbox=""`} {
		if !strings.Contains(body, want) {
			t.Errorf("message page: no %q", want)
		}
	}
	if resp.StatusCode != http.StatusOK || t.Failed() {
		t.Fatalf("message page: %d\n%s", resp.StatusCode, body)
	}
	resp, body = get("/messages/app@example.test/" + id + "/html?folder=Sent+Items")
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(body, "<b>invoice</b>") || !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "img-src data:") || !strings.Contains(csp, "sandbox") {
		t.Fatalf("HTML part: CSP %q\n%s", csp, body)
	}
	// Bob's Inbox has the delivered copy.
	if _, body = get("/messages/bob@example.test?folder=inbox"); !strings.Contains(body, id) {
		t.Fatalf("Inbox of bob@: no %s in\n%s", id, body)
	}
}
