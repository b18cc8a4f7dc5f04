package submission_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"mailroom/internal/admin"
	"mailroom/internal/config"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

// sizeLimit sets submission.max_message_bytes.
func sizeLimit(n int64) testkit.Option {
	return func(c *config.Config) { c.Submission.MaxMessageBytes = n }
}

// messageOf returns a message of exactly n octets (CRLF line ends, no
// line starting with a dot), ending with CRLF.
func messageOf(n int) string {
	head := "From: <alice@example.test>\r\nTo: <carol@example.test>\r\nSubject: exactly\r\n\r\n"
	body := n - len(head)
	var b strings.Builder
	b.WriteString(head)
	for body > 0 {
		line := min(body, 78) - 2
		if line < 0 { // one octet short of a CRLF: end the last line early
			b.WriteString("x")
			body--
			continue
		}
		b.WriteString(strings.Repeat("x", line) + "\r\n")
		body -= line + 2
	}
	return b.String()
}

// TestSize_ExactlyTheLimit: a message of exactly the advertised SIZE is
// accepted through DATA and BDAT; one octet more is 552 5.3.4 on both
// (third_party/go-smtp patch 1).
func TestSize_ExactlyTheLimit(t *testing.T) {
	const limit = 4096
	s := testkit.Start(t, fixture, sizeLimit(limit))
	c := testkit.Ready(t, s, "alice@example.test", pw)
	exact := messageOf(limit)
	if len(exact) != limit || !strings.HasSuffix(exact, "\r\n") {
		t.Fatalf("test message is %d octets", len(exact))
	}
	over := exact[:len(exact)-2] + "y\r\n"

	c.MustCmd("MAIL FROM:<alice@example.test> SIZE=4096", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.MustCmd("DATA", 354, "")
	c.Write([]byte(exact + ".\r\n"))
	c.Expect(c.Read(), 250, "2.0.0")

	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.MustCmd("DATA", 354, "")
	c.Write([]byte(over + ".\r\n"))
	c.Expect(c.Read(), 552, "5.3.4")
	// The rest of the refused message was read as data, not as commands.
	c.MustCmd("NOOP", 250, "")

	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.Write([]byte(fmt.Sprintf("BDAT %d LAST\r\n%s", len(exact), exact)))
	c.Expect(c.Read(), 250, "2.0.0")

	c.MustCmd("MAIL FROM:<alice@example.test> SIZE=4097", 552, "5.3.4")

	inbox := readFolder(t, s, "carol@example.test", store.FolderInbox)
	if len(inbox) != 2 {
		t.Fatalf("carol has %d messages, want 2", len(inbox))
	}
}

// TestSize_DotStuffedEnd: the limit counts the message, not its dot
// stuffing, and content that follows a message of exactly the limit with
// a leading dot is still refused and framed as data.
func TestSize_DotStuffedEnd(t *testing.T) {
	const limit = 4096
	s := testkit.Start(t, fixture, sizeLimit(limit))
	c := testkit.Ready(t, s, "alice@example.test", pw)
	exact := messageOf(limit)
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.MustCmd("DATA", 354, "")
	// Past the limit comes a dot-stuffed line "." and then the end.
	c.Write([]byte(exact + "..\r\n.\r\n"))
	c.Expect(c.Read(), 552, "5.3.4")
	c.MustCmd("NOOP", 250, "")
	assertInboxCount(t, s, "carol@example.test", 0)
}

func assertInboxCount(t *testing.T, s *testkit.Server, addr string, n int) {
	t.Helper()
	if got := len(readFolder(t, s, addr, store.FolderInbox)); got != n {
		t.Fatalf("%s has %d messages in Inbox, want %d", addr, got, n)
	}
}

// TestAuth_MalformedBase64: invalid base64 in an AUTH exchange is a
// syntax error, 501 5.5.2, in the initial response and in a continuation
// line (third_party/go-smtp patch 2).
func TestAuth_MalformedBase64(t *testing.T) {
	s := testkit.Start(t, fixture)
	c := testkit.Dial(t, s.Addr("submission"))
	c.MustCmd("EHLO client.example.test", 250, "")
	c.StartTLS(s.TLSConfig())
	c.MustCmd("AUTH PLAIN !!!notbase64", 501, "5.5.2")
	c.MustCmd("AUTH LOGIN", 334, "")
	c.MustCmd("%%%", 501, "5.5.2")
	c.Expect(c.AuthPlain("alice@example.test", pw), 235, "2.0.0")
}

// TestReply_MultiLine: a reply whose text has several lines carries the
// enhanced code on each, and a CR in it never ends a line early
// (third_party/go-smtp patch 3). mailroom's own replies are one line; the
// library's writer is tested directly.
func TestReply_MultiLine(t *testing.T) {
	srv := smtp.NewServer(replyBackend{&smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "first\nsecond\r250 2.0.0 forged"}})
	srv.Domain = "test"
	srv.AllowInsecureAuth = true
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	nc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	r := bufio.NewReader(nc)
	readLine := func() string {
		line, err := r.ReadString('\n')
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		return line
	}
	readLine() // greeting
	fmt.Fprintf(nc, "HELO x\r\nMAIL FROM:<a@b.test>\r\n")
	readLine()
	got := []string{readLine(), readLine()}
	want := []string{"550-5.7.1 first\r\n", "550 5.7.1 second 250 2.0.0 forged\r\n"}
	if got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("reply lines %q, want %q", got, want)
	}
}

// replyBackend refuses every MAIL with its error.
type replyBackend struct{ err *smtp.SMTPError }

func (b replyBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return replySession(b), nil }

type replySession replyBackend

func (s replySession) Mail(string, *smtp.MailOptions) error { return s.err }
func (s replySession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s replySession) Data(io.Reader) error                 { return nil }
func (s replySession) Reset()                               {}
func (s replySession) Logout() error                        { return nil }

// TestMail_RefusalEndsTheTransaction: a MAIL inside an open transaction
// resets it first and is then decided; when it is refused, nothing of the
// old envelope remains (RCPT and DATA need a new MAIL).
func TestMail_RefusalEndsTheTransaction(t *testing.T) {
	s := testkit.Start(t, fixture)
	c := testkit.Ready(t, s, "alice@example.test", pw)
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.MustCmd("MAIL FROM:<bob@example.test>", 550, "5.7.60")
	// go-smtp answers these bad sequences itself, with 502 5.5.1.
	c.MustCmd("DATA", 502, "5.5.1")
	c.MustCmd("RCPT TO:<carol@example.test>", 502, "5.5.1")
	// BDAT, which go-smtp checks before our Data, is refused too.
	c.Write([]byte("BDAT 10 LAST\r\nSubject: x"))
	if r := c.Read(); r.Code < 500 {
		t.Fatalf("BDAT after a refused MAIL: %q", r)
	}
	// A MAIL refused for its syntax ends the transaction as well.
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.MustCmd("MAIL FROM:<not an address>", 501, "")
	c.MustCmd("DATA", 502, "5.5.1")
	// A MAIL that is allowed starts afresh: only its own recipients.
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("DATA", 502, "5.5.1")
	assertInboxCount(t, s, "carol@example.test", 0)
}

// TestEHLO_ArgumentBounded: an EHLO argument that is not a domain or an
// address literal, or is over 255 octets, is 501 5.5.4 and the client may
// try again; nothing over 320 octets of what a client types reaches the
// trace or the log.
func TestEHLO_ArgumentBounded(t *testing.T) {
	s := testkit.Start(t, fixture)
	c := testkit.Dial(t, s.Addr("submission"))
	long := strings.Repeat("a", 60000)
	c.MustCmd("EHLO "+long, 501, "5.5.4")
	c.MustCmd("EHLO "+strings.Repeat("a.", 128), 501, "5.5.4")
	c.MustCmd("EHLO host;rm", 501, "5.5.4")
	c.MustCmd("EHLO [192.0.2.1]", 250, "")
	c.Close()

	c = testkit.Dial(t, s.Addr("submission"))
	c.MustCmd("EHLO PRINTER-7F", 250, "")
	c.StartTLS(s.TLSConfig())
	c.Expect(c.AuthPlain("alice@example.test", pw), 235, "2.0.0")
	c.MustCmd("MAIL FROM:<"+long+"@example.test>", 501, "5.1.7")
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<"+long+"@remote.example>", 501, "5.1.3")
	c.MustCmd("QUIT", 221, "")

	events := 0
	for _, d := range s.TraceDetails(admin.TraceQuery{Since: time.Hour}) {
		for _, e := range d.Events {
			events++
			for _, f := range append([]string{e.Sender, e.Detail, e.Text, e.Mailbox}, e.Recipients...) {
				if len(f) > 1000 {
					t.Errorf("a trace field of %d octets in %s %s", len(f), e.Kind, e.Command)
				}
			}
		}
	}
	if events < 4 {
		t.Errorf("%d trace events, want the refusals too", events)
	}
	if strings.Contains(s.Log(), strings.Repeat("a", 1000)) {
		t.Error("the log holds over 1000 octets of a client's argument")
	}
}

// TestHeader_Bounded: a header section over submission.max_header_bytes is
// 552 5.3.4 naming the limit, through DATA and BDAT, and nothing is
// stored; a header of exactly the limit, and a large body under a small
// header, are accepted.
func TestHeader_Bounded(t *testing.T) {
	const limit = 8192
	s := testkit.Start(t, fixture, func(c *config.Config) { c.Submission.MaxHeaderBytes = limit })
	c := testkit.Ready(t, s, "alice@example.test", pw)
	head := "From: <alice@example.test>\r\nSubject: folded\r\n"
	// One field folded over many lines: the attack's shape.
	fold := "X-Fold: start\r\n"
	for len(head)+len(fold)+len(" more\r\n")+40 <= limit {
		fold += " more\r\n"
	}
	pad := limit - len(head) - len(fold) - 2
	exact := head + fold + "X-Pad: " + strings.Repeat("p", pad-len("X-Pad: \r\n")) + "\r\n" + "\r\n"
	if len(exact) != limit {
		t.Fatalf("test header is %d octets", len(exact))
	}
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.MustCmd("DATA", 354, "")
	c.Write([]byte(exact + "body\r\n.\r\n"))
	c.Expect(c.Read(), 250, "2.0.0")

	over := head + fold + " one more\r\n" + strings.Repeat(" and more\r\n", 100000) + "\r\nbody\r\n"
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	r := c.Expect(c.SendData(over), 552, "5.3.4")
	if !strings.Contains(r.Text, "8192") || !strings.Contains(r.Text, "submission.max_header_bytes") {
		t.Errorf("reply %q does not name the limit", r.Text)
	}
	c.MustCmd("NOOP", 250, "")

	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.Write([]byte(fmt.Sprintf("BDAT %d LAST\r\n%s", len(over), over)))
	c.Expect(c.Read(), 552, "5.3.4")

	big := head + "\r\n" + strings.Repeat(strings.Repeat("b", 998)+"\r\n", 1000)
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.Expect(c.SendData(big), 250, "2.0.0")
	assertInboxCount(t, s, "carol@example.test", 2)
}
