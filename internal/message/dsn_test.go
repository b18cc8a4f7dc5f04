package message

import (
	"bufio"
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
	"strings"
	"testing"
	"time"

	gmtp "github.com/emersion/go-message/textproto"
)

func TestWriteDSN_Structure(t *testing.T) {
	var orig gmtp.Header
	orig.Add("Subject", "Quarterly report")
	orig.Add("Message-Id", "<m1@example.test>")
	orig.Add("From", "Alice <alice@example.test>")
	at := time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC)
	d := DSN{
		Hostname: "mail.example.test", To: "alice@example.test", QueueID: "Q1",
		Arrival: at, Date: at.Add(time.Hour), Header: orig,
		Recipients: []DSNRecipient{
			{Recipient: "bob@remote.test", Action: ActionFailed, Status: "5.1.1", Diagnostic: "550 5.1.1 No such\r\n user", RemoteMTA: "mx.remote.test", LastAttempt: at},
			{Recipient: "carol@remote.test", Action: ActionDelayed, Status: "4.4.1", Diagnostic: "451 4.4.1 try later", RetryUntil: at.Add(48 * time.Hour)},
		},
	}
	var b bytes.Buffer
	id, err := WriteDSN(&b, d)
	if err != nil {
		t.Fatal(err)
	}
	raw := b.String()
	for _, line := range strings.Split(raw, "\r\n") {
		if strings.ContainsAny(line, "\r\n") || len(line) > 998 {
			t.Fatalf("bare CR/LF or overlong line in DSN: %q", line)
		}
	}
	tp := textproto.NewReader(bufio.NewReader(strings.NewReader(raw)))
	h, err := tp.ReadMIMEHeader()
	if err != nil {
		t.Fatalf("read DSN header: %v", err)
	}
	if h.Get("Subject") != "Undeliverable: Quarterly report" || h.Get("To") != "<alice@example.test>" ||
		h.Get("Auto-Submitted") != "auto-replied" || h.Get("Message-Id") != "<"+id+">" ||
		!strings.HasPrefix(h.Get("From"), "Mail Delivery System <MAILER-DAEMON@mail.example.test>") {
		t.Errorf("DSN header %v", h)
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "multipart/report" || params["report-type"] != "delivery-status" {
		t.Fatalf("Content-Type %q: %v", h.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(tp.R, params["boundary"])
	var types []string
	var parts []string
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("part: %v", err)
		}
		body, _ := io.ReadAll(p)
		types = append(types, strings.Split(p.Header.Get("Content-Type"), ";")[0])
		parts = append(parts, string(body))
	}
	if strings.Join(types, ",") != "text/plain,message/delivery-status,text/rfc822-headers" {
		t.Fatalf("parts %v", types)
	}
	for _, want := range []string{"bob@remote.test: failed", "550 5.1.1 No such user", "check the recipient's address", "carol@remote.test: delayed"} {
		if !strings.Contains(parts[0], want) {
			t.Errorf("readable part lacks %q:\n%s", want, parts[0])
		}
	}
	for _, want := range []string{
		"Reporting-MTA: dns; mail.example.test\r\n",
		"Final-Recipient: rfc822; bob@remote.test\r\nAction: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; mx.remote.test\r\nDiagnostic-Code: smtp; 550 5.1.1 No such user\r\n",
		"Final-Recipient: rfc822; carol@remote.test\r\nAction: delayed\r\nStatus: 4.4.1\r\n",
		"Will-Retry-Until: ",
	} {
		if !strings.Contains(parts[1], want) {
			t.Errorf("delivery-status part lacks %q:\n%s", want, parts[1])
		}
	}
	if !strings.Contains(parts[2], "Message-Id: <m1@example.test>") || !strings.Contains(parts[2], "Subject: Quarterly report") {
		t.Errorf("original header part:\n%s", parts[2])
	}
}

func TestWriteDSN_DelayedOnly(t *testing.T) {
	var orig gmtp.Header
	orig.Add("Subject", "Hi")
	var b bytes.Buffer
	if _, err := WriteDSN(&b, DSN{Hostname: "h.test", To: "a@h.test", Date: time.Now(), Header: orig,
		Recipients: []DSNRecipient{{Recipient: "x@r.test", Action: ActionDelayed, Status: "4.0.0"}}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "Subject: Delayed: Hi\r\n") || !strings.Contains(b.String(), "Nothing needs to be done") {
		t.Errorf("delay notice:\n%s", b.String())
	}
}

// TestStatusHint_UpstreamOrRecipient: the same status reads differently
// when the failure was at the service's own upstream (the administrator
// of the sending side acts) and at the recipient's server.
func TestStatusHint_UpstreamOrRecipient(t *testing.T) {
	for _, c := range []struct {
		name, status string
		upstream     bool
		want, not    string
	}{
		{"expired at the recipient's server", "4.4.7", false, "recipient's administrator", "sending side"},
		{"expired at the upstream", "4.4.7", true, "tell the administrator of mail.example.test", "recipient's administrator"},
		{"policy at the recipient's server", "5.7.1", false, "receiving server refused the message by policy", "sending side"},
		{"policy or login at the upstream", "5.7.1", true, "refused it by policy or refused its login", "receiving server"},
		{"address at the upstream stays the address", "5.1.1", true, "typing mistakes", "sending side"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := statusHint(c.status, c.upstream, "mail.example.test")
			if !strings.Contains(got, c.want) || strings.Contains(got, c.not) {
				t.Errorf("statusHint(%s, upstream %v) = %q; want %q, not %q", c.status, c.upstream, got, c.want, c.not)
			}
		})
	}
}
