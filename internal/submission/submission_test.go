package submission_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"mailroom/internal/admin"
	"mailroom/internal/config"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

const pw = "correct-horse-battery"

// fixture: domain example.test with alice (user), bob (user, SMTP AUTH off),
// info (shared), carol (user); a second domain other.test.
func fixture(a *admin.Service) {
	ctx := context.Background()
	for _, d := range []string{"example.test", "other.test"} {
		if _, err := a.AddDomain(ctx, d); err != nil {
			panic(err)
		}
	}
	for _, m := range []admin.NewMailbox{
		{Address: "alice@example.test", DisplayName: "Alice", Password: pw},
		{Address: "bob@example.test", Password: pw},
		{Address: "carol@example.test", Password: pw},
		{Address: "info@example.test", Shared: true},
	} {
		if _, _, err := a.AddMailbox(ctx, m); err != nil {
			panic(err)
		}
	}
	off := false
	if _, err := a.SetMailbox(ctx, "bob@example.test", admin.MailboxChange{SMTPAuth: &off}); err != nil {
		panic(err)
	}
}

func TestEHLO_AdvertisesAuthOnlyUnderTLS(t *testing.T) {
	s := testkit.Start(t, fixture)
	c := testkit.Dial(t, s.Addr("submission"))
	r := c.MustCmd("EHLO client.example.test", 250, "")
	caps := strings.Join(r.Lines, "\n")
	for _, want := range []string{"STARTTLS", "PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "SIZE 36700160"} {
		if !strings.Contains(caps, want) {
			t.Errorf("EHLO before TLS lacks %s:\n%s", want, caps)
		}
	}
	if strings.Contains(caps, "AUTH") {
		t.Errorf("EHLO before TLS advertises AUTH:\n%s", caps)
	}
	r = c.StartTLS(s.TLSConfig())
	caps = strings.Join(r.Lines, "\n")
	if !strings.Contains(caps, "AUTH PLAIN LOGIN") || strings.Contains(caps, "STARTTLS") {
		t.Errorf("EHLO under TLS:\n%s", caps)
	}
}

func TestSession_AuthBeforeTLS(t *testing.T) {
	s := testkit.Start(t, fixture)
	c := testkit.Dial(t, s.Addr("submission"))
	c.MustCmd("EHLO client.example.test", 250, "")
	r := c.Expect(c.AuthPlain("alice@example.test", pw), 538, "5.7.11")
	if !strings.HasPrefix(r.Text, "Encryption required for requested authentication mechanism") {
		t.Errorf("text %q", r.Text)
	}
	c.Expect(c.Cmd("AUTH LOGIN"), 538, "5.7.11")
}

func TestSession_MailBeforeAuth(t *testing.T) {
	s := testkit.Start(t, fixture)
	c := testkit.Dial(t, s.Addr("submission"))
	c.MustCmd("EHLO client.example.test", 250, "")
	r := c.MustCmd("MAIL FROM:<alice@example.test>", 530, "5.7.57")
	if !strings.HasPrefix(r.Text, "Client not authenticated to send mail") {
		t.Errorf("text %q", r.Text)
	}
	c.StartTLS(s.TLSConfig())
	c.MustCmd("MAIL FROM:<alice@example.test>", 530, "5.7.57")
}

func TestSession_BadCredentials(t *testing.T) {
	s := testkit.Start(t, fixture)
	var texts []string
	for _, tc := range []struct{ user, pass string }{
		{"alice@example.test", "wrong-password"},
		{"nobody@example.test", pw},
		{"not-an-address", pw},
		{"bob@example.test", "wrong-password"},  // SMTP AUTH off: hidden without the password
		{"info@example.test", "wrong-password"}, // shared: hidden too
	} {
		c := testkit.Dial(t, s.Addr("submission"))
		c.MustCmd("EHLO client.example.test", 250, "")
		c.StartTLS(s.TLSConfig())
		r := c.Expect(c.AuthPlain(tc.user, tc.pass), 535, "5.7.3")
		texts = append(texts, r.Text)
	}
	for _, txt := range texts {
		if txt != "Authentication unsuccessful" {
			t.Errorf("535 5.7.3 text differs between cases: %q", texts)
		}
	}
}

func TestSession_LoginRefusedAfterCorrectPassword(t *testing.T) {
	s := testkit.Start(t, fixture)
	for _, tc := range []struct{ user, want string }{
		{"bob@example.test", "mailroom mailbox set bob@example.test --smtp-auth=on"},
	} {
		c := testkit.Dial(t, s.Addr("submission"))
		c.MustCmd("EHLO client.example.test", 250, "")
		c.StartTLS(s.TLSConfig())
		r := c.Expect(c.AuthPlain(tc.user, pw), 535, "5.7.139")
		if !strings.HasPrefix(r.Text, "Authentication unsuccessful, ") || !strings.Contains(r.Text, tc.want) {
			t.Errorf("%s: text %q lacks %q", tc.user, r.Text, tc.want)
		}
	}
}

func TestSession_SharedMailboxHasNoPassword(t *testing.T) {
	s := testkit.Start(t, fixture)
	c := testkit.Dial(t, s.Addr("submission"))
	c.MustCmd("EHLO client.example.test", 250, "")
	c.StartTLS(s.TLSConfig())
	c.Expect(c.AuthPlain("info@example.test", ""), 535, "5.7.3")
}

func TestSession_AuthLoginOnImplicitTLS(t *testing.T) {
	s := testkit.Start(t, fixture)
	c := testkit.DialTLS(t, s.Addr("submission_tls"), s.TLSConfig())
	r := c.MustCmd("EHLO client.example.test", 250, "")
	if strings.Contains(strings.Join(r.Lines, " "), "STARTTLS") {
		t.Error("implicit TLS port offers STARTTLS")
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	c.MustCmd("AUTH LOGIN", 334, "")
	c.MustCmd(b64("alice@example.test"), 334, "")
	c.MustCmd(b64(pw), 235, "2.0.0")
	// Initial-response form.
	c2 := testkit.DialTLS(t, s.Addr("submission_tls"), s.TLSConfig())
	c2.MustCmd("EHLO client.example.test", 250, "")
	c2.MustCmd("AUTH LOGIN "+b64("Alice@Example.TEST"), 334, "")
	c2.MustCmd(b64(pw), 235, "2.0.0")
}

func TestSession_SendAsDeniedAtMail(t *testing.T) {
	s := testkit.Start(t, fixture)
	c := testkit.Ready(t, s, "alice@example.test", pw)
	r := c.MustCmd("MAIL FROM:<carol@example.test>", 550, "5.7.60")
	for _, want := range []string{"SendAsDenied:", "alice@example.test", "carol@example.test"} {
		if !strings.Contains(r.Text, want) {
			t.Errorf("text %q lacks %q", r.Text, want)
		}
	}
	// Case and IDNA do not matter for one's own address.
	c.MustCmd("MAIL FROM:<ALICE@example.TEST>", 250, "")
}

func TestSession_NullSenderRefused(t *testing.T) {
	s := testkit.Start(t, fixture)
	c := testkit.Ready(t, s, "alice@example.test", pw)
	r := c.MustCmd("MAIL FROM:<>", 550, "5.7.1")
	if !strings.Contains(r.Text, "null reverse path") {
		t.Errorf("text %q does not say why", r.Text)
	}
}

func TestSession_BadAddresses(t *testing.T) {
	s := testkit.Start(t, fixture)
	c := testkit.Ready(t, s, "alice@example.test", pw)
	c.MustCmd("MAIL FROM:<alice@[127.0.0.1]>", 501, "5.1.7")
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<nobody@example.test>", 550, "5.1.1")
	c.MustCmd("RCPT TO:<x@[127.0.0.1]>", 501, "5.1.3")
	c.MustCmd("DATA", 502, "") // go-smtp: no valid recipient yet
}

func TestSession_SendAsDeniedAfterData(t *testing.T) {
	s := testkit.Start(t, fixture)
	c := testkit.Ready(t, s, "alice@example.test", pw)
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	r := c.Expect(c.SendData("From: Carol <carol@example.test>\nSubject: spoof\n\nhi\n"), 554, "5.7.60")
	for _, want := range []string{"SendAsDenied:", "alice@example.test", "carol@example.test"} {
		if !strings.Contains(r.Text, want) {
			t.Errorf("text %q lacks %q", r.Text, want)
		}
	}
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.Expect(c.SendData("From: alice@example.test\nSender: carol@example.test\n\nhi\n"), 554, "5.7.60")
	assertNothingStored(t, s)
}

func TestSession_MalformedHeader(t *testing.T) {
	s := testkit.Start(t, fixture)
	c := testkit.Ready(t, s, "alice@example.test", pw)
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.Expect(c.SendData("this is not a header\n\nbody\n"), 554, "5.6.0")
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.Expect(c.SendData("From: <<<\n\nbody\n"), 554, "5.6.0")
	assertNothingStored(t, s)
}

func TestSession_MessageTooLarge(t *testing.T) {
	s := testkit.Start(t, fixture, func(c *config.Config) { c.Submission.MaxMessageBytes = 1000 })
	c := testkit.Ready(t, s, "alice@example.test", pw)
	c.MustCmd("MAIL FROM:<alice@example.test> SIZE=5000", 552, "5.3.4")
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	r := c.Expect(c.SendData("Subject: big\n\n"+strings.Repeat("x", 2000)+"\n"), 552, "5.3.4")
	if !strings.Contains(r.Text, "1000") {
		t.Errorf("text %q does not state the limit", r.Text)
	}
	// Header alone over the limit.
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.Expect(c.SendData("Subject: "+strings.Repeat("y", 1500)+"\n\nx\n"), 552, "5.3.4")
	assertNothingStored(t, s)
	// The session is still usable.
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.Expect(c.SendData("Subject: small\n\nok\n"), 250, "2.0.0")
}

func TestSession_AcceptDurablyWithCopies(t *testing.T) {
	s := testkit.Start(t, fixture)
	c := testkit.Ready(t, s, "alice@example.test", pw)
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.MustCmd("RCPT TO:<Info@Example.test>", 250, "")
	c.MustCmd("RCPT TO:<someone@remote.example>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "") // duplicate: one queue row
	r := c.Expect(c.SendData("From: Alice <alice@example.test>\nTo: carol@example.test\nBcc: someone@remote.example\nSubject: hello\n\n.leading dot\nbody\n"), 250, "2.0.0")
	id := strings.TrimPrefix(r.Text, "OK queued as ")
	if id == r.Text || id == "" {
		t.Fatalf("250 does not carry the queue id: %q", r.Text)
	}
	ctx := context.Background()
	m, err := s.Store.Message(ctx, id)
	if err != nil {
		t.Fatalf("message %s not in store: %v", id, err)
	}
	rows, err := s.Store.QueueRows(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, q := range rows {
		states[q.Recipient] = q.State
	}
	want := map[string]string{"carol@example.test": store.StateDelivered, "info@example.test": store.StateDelivered, "someone@remote.example": store.StateQueued}
	if len(states) != len(want) || len(rows) != 3 {
		t.Fatalf("queue rows %v, want %v", states, want)
	}
	for k, v := range want {
		if states[k] != v {
			t.Errorf("queue row %s = %q, want %q", k, states[k], v)
		}
	}
	sent := readFolder(t, s, "alice@example.test", store.FolderSent)
	inbox := readFolder(t, s, "carol@example.test", store.FolderInbox)
	shared := readFolder(t, s, "info@example.test", store.FolderInbox)
	if len(sent) != 1 || len(inbox) != 1 || len(shared) != 1 {
		t.Fatalf("folders: sent %d, carol inbox %d, info inbox %d", len(sent), len(inbox), len(shared))
	}
	for _, want := range []string{"Received: from client.example.test", "with ESMTPSA id " + id, "Message-Id: <" + m.MessageID + ">", "Date: ", "Bcc: someone@remote.example", "\r\n\r\n.leading dot\r\nbody\r\n"} {
		if !strings.Contains(sent[0], want) {
			t.Errorf("Sent Items copy lacks %q:\n%s", want, sent[0])
		}
	}
	if strings.Contains(inbox[0], "Bcc:") || strings.Contains(shared[0], "Bcc:") {
		t.Errorf("recipient copy keeps Bcc:\n%s", inbox[0])
	}
	if !strings.HasSuffix(inbox[0], "\r\n\r\n.leading dot\r\nbody\r\n") {
		t.Errorf("recipient copy body changed:\n%q", inbox[0])
	}
	// A message that already has Message-ID and Date keeps them.
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	r = c.Expect(c.SendData("From: alice@example.test\nMessage-ID: <fixed@client>\nDate: Mon, 23 Nov 2026 10:00:00 +0000\n\nx\n"), 250, "2.0.0")
	m2, err := s.Store.Message(ctx, strings.TrimPrefix(r.Text, "OK queued as "))
	if err != nil || m2.MessageID != "fixed@client" {
		t.Fatalf("message id %q, %v", m2.MessageID, err)
	}
}

func TestSession_MissingFromIsAdded(t *testing.T) {
	s := testkit.Start(t, fixture)
	c := testkit.Ready(t, s, "alice@example.test", pw)
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.Expect(c.SendData("Subject: from a device\n\nalarm\n"), 250, "2.0.0")
	inbox := readFolder(t, s, "carol@example.test", store.FolderInbox)
	if len(inbox) != 1 || !strings.Contains(inbox[0], "From: <alice@example.test>\r\n") {
		t.Fatalf("inbox %q", inbox)
	}
}

func TestSession_RsetAndPipelining(t *testing.T) {
	s := testkit.Start(t, fixture)
	c := testkit.Ready(t, s, "alice@example.test", pw)
	c.Send("MAIL FROM:<alice@example.test>\r\nRCPT TO:<carol@example.test>\r\nRSET\r\nMAIL FROM:<alice@example.test>\r\nRCPT TO:<carol@example.test>\r\nDATA")
	for _, code := range []int{250, 250, 250, 250, 250, 354} {
		c.Expect(c.Read(), code, "")
	}
	c.Write([]byte("Subject: piped\r\n\r\nx\r\n.\r\nQUIT\r\n"))
	c.Expect(c.Read(), 250, "2.0.0")
	c.Expect(c.Read(), 221, "")
	if n := len(readFolder(t, s, "carol@example.test", store.FolderInbox)); n != 1 {
		t.Fatalf("inbox has %d messages, want 1", n)
	}
}

func readFolder(t *testing.T, s *testkit.Server, addr string, f store.Folder) []string {
	t.Helper()
	ctx := context.Background()
	mb, err := s.Store.Mailbox(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	ents, err := s.Store.FolderEntries(ctx, mb.ID, f)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		b, err := s.Body(e.Blob)
		if err != nil {
			t.Fatalf("blob of %s %s: %v", addr, f, err)
		}
		out = append(out, string(b))
	}
	return out
}

// assertNothingStored checks that refused messages left no rows and no blobs.
func assertNothingStored(t *testing.T, s *testkit.Server) {
	t.Helper()
	rows, err := s.Store.QueueRows(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 0 {
		t.Errorf("%d queue rows after refusals", len(rows))
	}
	if n := countBlobs(t, s); n != 0 {
		t.Errorf("%d blob files after refusals", n)
	}
}

func countBlobs(t *testing.T, s *testkit.Server) int {
	t.Helper()
	return s.BodyCount()
}
