package submission_test

import (
	"strings"
	"testing"
	"time"

	"mailroom/internal/config"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

// oneSlot limits every mailbox to one transaction in flight, so a test can
// tell that a broken transaction gave its slot back.
var oneSlot = limitsConfig(func(l *config.Limits) { l.Concurrent = 1 })

// waitForSlot waits until alice can start a transaction again: the slot of
// a transaction that broke off has been released.
func waitForSlot(t *testing.T, s *testkit.Server) {
	t.Helper()
	c := testkit.Ready(t, s, "alice@example.test", pw)
	defer c.Close()
	waitFor(t, func() bool { return c.Cmd("MAIL FROM:<alice@example.test>").Code == 250 })
	c.MustCmd("RSET", 250, "")
}

// TestBadInput_LongLines: DATA lines may run past RFC 5322's 998 octets
// up to 64 KiB (clients send unwrapped HTML); past that the message is
// refused with 554 5.6.0 LineTooLong and the connection closes, since
// go-smtp cannot find the next line. Nothing is stored, the slot returns.
func TestBadInput_LongLines(t *testing.T) {
	s := testkit.Start(t, fixture, oneSlot)
	c := testkit.Ready(t, s, "alice@example.test", pw)
	long := strings.Repeat("x", 5000)
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.Expect(c.SendData("Subject: long line\n\n"+long+"\n"), 250, "2.0.0")
	inbox := readFolder(t, s, "carol@example.test", store.FolderInbox)
	if len(inbox) != 1 || !strings.HasSuffix(inbox[0], "\r\n\r\n"+long+"\r\n") {
		t.Fatalf("a 5000-octet line was not stored intact")
	}

	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	r := c.Expect(c.SendData("Subject: too long\n\n"+strings.Repeat("y", 70000)+"\n"), 554, "5.6.0")
	if !strings.HasPrefix(r.Text, "LineTooLong: line 3 ") || !strings.Contains(r.Text, "65536") {
		t.Errorf("reply %q", r.Text)
	}
	if r, err := c.TryRead(); err == nil {
		t.Fatalf("connection still open after LineTooLong: %q", r)
	}
	waitForSlot(t, s)
	if n := len(readFolder(t, s, "carol@example.test", store.FolderInbox)); n != 1 || countBlobs(t, s) != 1 {
		t.Fatalf("after the refusal: %d messages, %d blobs; want 1 and 1", n, countBlobs(t, s))
	}
}

// TestBadInput_LongCommands: an over-long address in MAIL or RCPT is a
// syntax error naming the limit; a command line over 64 KiB gets go-smtp's
// 500 5.4.0 and the connection closes.
func TestBadInput_LongCommands(t *testing.T) {
	s := testkit.Start(t, fixture)
	c := testkit.Ready(t, s, "alice@example.test", pw)
	r := c.MustCmd("MAIL FROM:<"+strings.Repeat("a", 2000)+"@example.test>", 501, "5.1.7")
	if !strings.Contains(r.Text, "longer than 64 octets") {
		t.Errorf("reply %q does not name the limit", r.Text)
	}
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<"+strings.Repeat("b", 2000)+"@remote.example>", 501, "5.1.3")
	c.MustCmd("RCPT TO:<x@"+strings.Repeat("b.", 200)+"example>", 501, "5.1.3")
	c.MustCmd("NOOP "+strings.Repeat("x", 2000), 250, "")
	c.MustCmd("RCPT TO:<carol@example.test> "+strings.Repeat("X", 70000), 500, "5.4.0")
	if r, err := c.TryRead(); err == nil {
		t.Fatalf("connection still open after an over-long command: %q", r)
	}
	assertNothingStored(t, s)
}

// TestBadInput_MalformedAddresses: each gets a 501 (5.1.7 for the sender,
// 5.1.3 for a recipient, go-smtp's 5.5.2 when the command itself does not
// parse) and opens nothing.
func TestBadInput_MalformedAddresses(t *testing.T) {
	s := testkit.Start(t, fixture)
	c := testkit.Ready(t, s, "alice@example.test", pw)
	for _, tc := range []struct {
		cmd string
		enh string
	}{
		{"MAIL FROM:<alice@example.test", "5.5.2"},
		{"MAIL FROM:<alice example.test>", "5.5.2"},
		{"MAIL FROM:<alice@@example.test>", "5.1.7"},
		{"MAIL FROM:<alice@example..test>", "5.1.7"},
		{"MAIL FROM:<alice@-example.test>", "5.1.7"},
		{"MAIL FROM:<alice@[127.0.0.1]>", "5.1.7"},
		{"MAIL FROM:<\"al ice\"@example.test>", "5.1.7"},
		{"MAIL FROM:<al\x00ice@example.test>", "5.1.7"},
		{"MAIL FROM:<alice@exa\x00mple.test>", "5.1.7"},
	} {
		c.MustCmd(tc.cmd, 501, tc.enh)
		c.MustCmd("RCPT TO:<carol@example.test>", 502, "5.5.1") // no transaction opened
	}
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	for _, tc := range []struct {
		cmd string
		enh string
	}{
		{"RCPT TO:<>", "5.5.2"},
		{"RCPT TO:<carol@example.test", "5.5.2"},
		{"RCPT TO:<carol@>", "5.5.2"},
		{"RCPT TO:<bob@@remote.example>", "5.1.3"},
		{"RCPT TO:<bob@remote..example>", "5.1.3"},
		{"RCPT TO:<bob@remote>", "5.1.3"},
		{"RCPT TO:<carol\x00@example.test>", "5.1.3"},
	} {
		c.MustCmd(tc.cmd, 501, tc.enh)
	}
	c.MustCmd("DATA", 502, "") // go-smtp: no recipient was accepted
	assertNothingStored(t, s)
}

// TestBadInput_NUL: a NUL byte in the message is refused with 554 5.6.0
// NULByte naming the line; the session carries on.
func TestBadInput_NUL(t *testing.T) {
	s := testkit.Start(t, fixture)
	c := testkit.Ready(t, s, "alice@example.test", pw)
	for _, msg := range []string{"Subject: a\x00b\n\nbody\n", "Subject: x\n\nline one\nline\x00two\n"} {
		c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
		c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
		r := c.Expect(c.SendData(msg), 554, "5.6.0")
		if !strings.HasPrefix(r.Text, "NULByte: line ") {
			t.Errorf("reply %q", r.Text)
		}
	}
	assertNothingStored(t, s)
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.Expect(c.SendData("Subject: clean\n\nok\n"), 250, "2.0.0")
}

// TestBadInput_EightBitHeaders: 8-bit header fields without SMTPUTF8 or
// BODY=8BITMIME are accepted and stored byte for byte, as UTF-8 (RFC 6532,
// what clients send) or as opaque bytes (legacy Latin-1 devices). Only
// From: and Sender: must parse, since policy reads them.
func TestBadInput_EightBitHeaders(t *testing.T) {
	s := testkit.Start(t, fixture)
	c := testkit.Ready(t, s, "alice@example.test", pw)
	for _, hdr := range []string{
		"From: Jörg Müller <alice@example.test>\nSubject: Grüße aus Köln\n",
		"From: alice@example.test\nSubject: Gr\xfc\xdfe\n", // Latin-1, not UTF-8
	} {
		c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
		c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
		c.Expect(c.SendData(hdr+"\nbody\n"), 250, "2.0.0")
	}
	inbox := readFolder(t, s, "carol@example.test", store.FolderInbox)
	if len(inbox) != 2 || !strings.Contains(inbox[0], "\r\nSubject: Grüße aus Köln\r\n") ||
		!strings.Contains(inbox[0], "Jörg Müller") || !strings.Contains(inbox[1], "\r\nSubject: Gr\xfc\xdfe\r\n") {
		t.Fatalf("8-bit headers not stored as sent:\n%q", inbox)
	}
	// From: must parse as an address list, so 8-bit text in it must be
	// UTF-8; a Latin-1 display name needs an RFC 2047 encoded word.
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	r := c.Expect(c.SendData("From: J\xf6rg <alice@example.test>\nSubject: x\n\nbody\n"), 554, "5.6.0")
	if !strings.Contains(r.Text, "invalid utf-8") || strings.Contains(r.Text, "\xf6") {
		t.Errorf("reply %q does not name the problem, or echoes raw 8-bit", r.Text)
	}
}

// TestBadInput_MalformedMIME: mailroom reads the header only; a body with
// broken MIME structure is accepted as opaque bytes and stored unchanged
// (what recipients' clients make of it is theirs to decide, and refusing
// would lose mail that Exchange and Gmail accept).
func TestBadInput_MalformedMIME(t *testing.T) {
	s := testkit.Start(t, fixture)
	c := testkit.Ready(t, s, "alice@example.test", pw)
	bodies := []string{
		// multipart without a boundary parameter
		"MIME-Version: 1.0\nContent-Type: multipart/mixed\n\n--x\nContent-Type: text/plain\n\nhi\n",
		// boundary never closed, invalid base64, nested part cut short
		"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b1\n\n--b1\nContent-Transfer-Encoding: base64\n\n!!!not base64!!!\n--b1\nContent-Type: multipart/alternative; boundary=b2\n\n--b2\n",
		// unknown charset and transfer encoding
		"MIME-Version: 1.0\nContent-Type: text/plain; charset=x-unknown\nContent-Transfer-Encoding: x-weird\n\n=ZZ=\n",
	}
	for _, b := range bodies {
		c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
		c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
		c.Expect(c.SendData("Subject: broken mime\n"+b), 250, "2.0.0")
	}
	inbox := readFolder(t, s, "carol@example.test", store.FolderInbox)
	if len(inbox) != len(bodies) {
		t.Fatalf("carol has %d messages, want %d", len(inbox), len(bodies))
	}
	for i, b := range bodies {
		_, body, _ := strings.Cut(b, "\n\n")
		if !strings.HasSuffix(inbox[i], "\r\n\r\n"+strings.ReplaceAll(body, "\n", "\r\n")) {
			t.Errorf("message %d body changed:\n%q", i, inbox[i])
		}
	}
}

// TestBadInput_CommandsPipelinedWithSTARTTLS: commands sent in the same
// packet as STARTTLS, before the handshake, are discarded (CVE-2011-0411
// class): go-smtp starts a fresh reader on the TLS connection. Were they
// kept, the RSET and QUIT would be answered under TLS and the connection
// would close.
func TestBadInput_CommandsPipelinedWithSTARTTLS(t *testing.T) {
	s := testkit.Start(t, fixture)
	c := testkit.Dial(t, s.Addr("submission"))
	c.MustCmd("EHLO client.example.test", 250, "")
	c.Write([]byte("STARTTLS\r\nRSET\r\nQUIT\r\n"))
	c.Expect(c.Read(), 220, "")
	testkit.Upgrade(t, c)
	r := c.MustCmd("NOOP", 250, "")
	if !strings.Contains(r.Text, "nothing") {
		t.Fatalf("first reply under TLS is %q, not the NOOP's", r)
	}
	r = c.MustCmd("EHLO client.example.test", 250, "")
	if !strings.Contains(strings.Join(r.Lines, "\n"), "AUTH PLAIN") {
		t.Fatalf("EHLO under TLS: %q", r)
	}
	c.Expect(c.AuthPlain("alice@example.test", pw), 235, "2.0.0")
}

// TestBadInput_SlowCommand: a client that sends nothing for
// submission.command_timeout gets 421 4.4.2 and the connection closes. A
// client that trickles a command one byte at a time is cut off as well:
// go-smtp (through bufio) hands the fragment that arrived in time over as a
// line and answers it, and mailroom closes the connection after that reply,
// so the rest of the trickle is never read.
func TestBadInput_SlowCommand(t *testing.T) {
	s := testkit.Start(t, fixture, func(c *config.Config) {
		c.Submission.CommandTimeout = config.Duration(300 * time.Millisecond)
	})
	t.Run("silent", func(t *testing.T) {
		c := testkit.Dial(t, s.Addr("submission"))
		c.Expect(c.Read(), 421, "4.4.2")
		if r, err := c.TryRead(); err == nil {
			t.Fatalf("connection still open after the timeout: %q", r)
		}
	})
	t.Run("trickle", func(t *testing.T) {
		c := testkit.Dial(t, s.Addr("submission"))
		stop := trickle(c, "EHLO client.example.test\r\nNOOP\r\nNOOP\r\nNOOP\r\n")
		defer stop()
		var replies []testkit.Reply
		for {
			r, err := c.TryRead()
			if err != nil {
				break
			}
			replies = append(replies, r)
		}
		if len(replies) > 1 {
			t.Fatalf("the server answered %d commands of a trickling client: %q", len(replies), replies)
		}
	})
}

// TestBadInput_SlowData: a client that trickles its message gets
// 421 4.4.2 Timeout once submission.data_timeout has passed since the 354;
// the connection closes (the rest of its data must not be read as
// commands), nothing is stored and the slot returns.
func TestBadInput_SlowData(t *testing.T) {
	s := testkit.Start(t, fixture, oneSlot, func(c *config.Config) {
		c.Submission.DataTimeout = config.Duration(300 * time.Millisecond)
	})
	c := testkit.Ready(t, s, "alice@example.test", pw)
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.MustCmd("DATA", 354, "")
	stop := trickle(c, "Subject: slow\r\n\r\n"+strings.Repeat("MAIL FROM:<alice@example.test>\r\n", 100))
	defer stop()
	r := c.Expect(c.Read(), 421, "4.4.2")
	if !strings.HasPrefix(r.Text, "Timeout: ") || !strings.Contains(r.Text, "data_timeout") {
		t.Errorf("reply %q", r.Text)
	}
	if r, err := c.TryRead(); err == nil {
		t.Fatalf("connection still open after the data timeout: %q", r)
	}
	waitForSlot(t, s)
	assertNothingStored(t, s)
}

// TestBadInput_ClientVanishesMidData: a client that disconnects half-way
// through DATA leaves nothing behind (no rows, no blob, no temp file) and
// its slot returns.
func TestBadInput_ClientVanishesMidData(t *testing.T) {
	s := testkit.Start(t, fixture, oneSlot)
	c := testkit.Ready(t, s, "alice@example.test", pw)
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.MustCmd("DATA", 354, "")
	c.Write([]byte("Subject: half\r\n\r\n" + strings.Repeat("first half\r\n", 10000)))
	c.Close()
	waitForSlot(t, s)
	assertNothingStored(t, s)
}

// trickle writes msg one byte every 20 ms from another goroutine, until
// the server hangs up or stop is called. It paces a slow client; the test
// waits on the server's reply, not on time.
func trickle(c *testkit.Conn, msg string) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for i := 0; i < len(msg); i++ {
			select {
			case <-done:
				return
			case <-t.C:
			}
			if c.TryWrite([]byte{msg[i]}) != nil {
				return
			}
		}
	}()
	return func() { close(done); <-finished }
}
