package web_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestConsole_MessageViewer: a message with a plain text part, an HTML
// part that loads a remote image, and an attachment, submitted over SMTP,
// is shown from the sender's Sent Items: headers, text, attachment, and
// the HTML in a sandboxed iframe whose own response forbids remote
// content.
func TestConsole_MessageViewer(t *testing.T) {
	const pw = consolePW
	s := startConsole(t, nil)
	msg := "From: app@example.test\r\nTo: bob@example.test\r\nSubject: Invoice 42\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=outer\r\n\r\n" +
		"--outer\r\nContent-Type: multipart/alternative; boundary=alt\r\n\r\n" +
		"--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease find the invoice attached.\r\n" +
		"--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Please find the <b>invoice</b> attached.<img src=\"https://tracker.example/pixel.gif\"></p>\r\n" +
		"--alt--\r\n" +
		"--outer\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"invoice-42.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n" +
		"--outer--\r\n"
	id := s.Send("app@example.test", pw, "app@example.test", []string{"bob@example.test"}, msg)

	get := logIn(t, s, "root", pw).get
	resp, body := get("/messages/app@example.test")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, id) {
		t.Fatalf("Sent Items of app@: %d, no %s in\n%s", resp.StatusCode, id, body)
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
