package submission_test

import (
	"fmt"
	"strings"
	"testing"

	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

// smuggled is what an SMTP smuggling attack hides after its fake end of
// data: a whole second transaction with a forged From:, then the real end.
const smuggled = "MAIL FROM:<alice@example.test>\r\nRCPT TO:<carol@example.test>\r\nDATA\r\n" +
	"From: Carol <carol@example.test>\r\nSubject: smuggled\r\n\r\nsmuggled\r\n.\r\n"

// TestSmuggling_DataVariants sends each end-of-data look-alike of the 2023
// SMTP smuggling class inside one DATA. Every one is a bare CR or LF, so
// the message is refused with 554 5.6.0 BareLineEnding after the real
// <CR><LF>.<CR><LF>; exactly one reply comes for the DATA (the smuggled
// MAIL, RCPT and DATA are never answered, so never run), nothing is
// stored, and the session carries on.
func TestSmuggling_DataVariants(t *testing.T) {
	s := testkit.Start(t, fixture)
	c := testkit.Ready(t, s, "alice@example.test", pw)
	for _, tc := range []struct {
		name, payload string
		which         string // the bare character the reply names
		line          int
	}{
		// The header takes lines 1-3; "hello" is line 4.
		{"LF.LF", "hello\n.\n" + smuggled, "LF", 4},
		{"CR.LF", "hello\r.\n" + smuggled, "CR", 4},
		{"LF.CRLF", "hello\n.\r\n" + smuggled, "LF", 4},
		{"CRLF.LF", "hello\r\n.\n" + smuggled, "LF", 5},
		{"CR.CRLF", "hello\r.\r\n" + smuggled, "CR", 4},
		{"LF.CR", "hello\n.\r" + smuggled, "LF", 4},
		{"bare LF line ends", "hello\nworld\n\r\n.\r\n", "LF", 4},
		{"bare CR", "hello\rworld\r\n.\r\n", "CR", 4},
		{"CR at line start", "hello\r\n\rworld\r\n.\r\n", "CR", 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
			c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
			c.MustCmd("DATA", 354, "")
			c.Write([]byte("From: alice@example.test\r\nSubject: first\r\n\r\n" + tc.payload))
			r := c.Expect(c.Read(), 554, "5.6.0")
			want := fmt.Sprintf("BareLineEnding: bare %s in line %d", tc.which, tc.line)
			if !strings.HasPrefix(r.Text, want) || !strings.Contains(r.Text, "CRLF") {
				t.Errorf("reply %q, want it to start %q and name the fix", r.Text, want)
			}
			// The next reply answers our NOOP: no smuggled command ran.
			r = c.MustCmd("NOOP", 250, "")
			if !strings.Contains(r.Text, "nothing") {
				t.Fatalf("reply after the refusal is %q, not the NOOP's", r)
			}
			// The smuggled MAIL did not open a transaction either.
			c.MustCmd("RCPT TO:<carol@example.test>", 502, "5.5.1")
			assertNothingStored(t, s)
		})
	}
	// The session is intact: a proper message is accepted, once.
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.Expect(c.SendData("Subject: clean\n\nhello\n"), 250, "2.0.0")
	if n := len(readFolder(t, s, "carol@example.test", store.FolderInbox)); n != 1 {
		t.Fatalf("carol has %d messages, want 1", n)
	}
}

// TestSmuggling_DotCRAtLineStart pins the one variant go-smtp rewrites
// before mailroom sees it: after <CR><LF>, its reader takes "." for
// dot-stuffing and "<CR>" for the start of a line end, and drops both when
// no LF follows. What reaches mailroom has no bare CR, so it is accepted as
// one message whose body holds the would-be commands as text; no second
// message appears, and nothing in the stored copy can end DATA downstream.
func TestSmuggling_DotCRAtLineStart(t *testing.T) {
	s := testkit.Start(t, fixture)
	c := testkit.Ready(t, s, "alice@example.test", pw)
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.MustCmd("DATA", 354, "")
	c.Write([]byte("From: alice@example.test\r\nSubject: first\r\n\r\nhello\r\n.\r" + smuggled))
	c.Expect(c.Read(), 250, "2.0.0")
	c.MustCmd("NOOP", 250, "")
	inbox := readFolder(t, s, "carol@example.test", store.FolderInbox)
	if len(inbox) != 1 {
		t.Fatalf("carol has %d messages, want 1", len(inbox))
	}
	body := inbox[0][strings.Index(inbox[0], "\r\n\r\n")+4:]
	if want := "hello\r\n" + strings.TrimSuffix(smuggled, ".\r\n"); body != want {
		t.Errorf("stored body %q, want %q", body, want)
	}
	if strings.Contains(strings.ReplaceAll(body, "\r\n", ""), "\r") {
		t.Errorf("stored body keeps a bare CR: %q", body)
	}
}

// TestSmuggling_PipelinedAttack: the attacker's whole dialogue arrives in
// one write, PIPELINING style. Still one DATA, one refusal, and the
// commands after the real end of data are answered in order.
func TestSmuggling_PipelinedAttack(t *testing.T) {
	s := testkit.Start(t, fixture)
	c := testkit.Ready(t, s, "alice@example.test", pw)
	c.Write([]byte("MAIL FROM:<alice@example.test>\r\nRCPT TO:<carol@example.test>\r\nDATA\r\n" +
		"Subject: first\r\n\r\nhello\n.\n" + smuggled + "NOOP\r\nQUIT\r\n"))
	for _, want := range []struct {
		code int
		enh  string
	}{{250, ""}, {250, ""}, {354, ""}, {554, "5.6.0"}, {250, "2.0.0"}, {221, ""}} {
		c.Expect(c.Read(), want.code, want.enh)
	}
	assertNothingStored(t, s)
}

// TestSmuggling_BDAT: BDAT (CHUNKING, which go-smtp offers) has no end
// marker, so nothing in a chunk can end it early; the same content rule
// applies. A chunk with a bare LF is refused at once and the transaction
// ends; a message whose CRLF lines spell out ".", MAIL, RCPT and DATA is one
// message with those lines in its body.
func TestSmuggling_BDAT(t *testing.T) {
	s := testkit.Start(t, fixture)
	c := testkit.Ready(t, s, "alice@example.test", pw)

	bdat := func(chunk string, last bool) testkit.Reply {
		t.Helper()
		cmd := fmt.Sprintf("BDAT %d", len(chunk))
		if last {
			cmd += " LAST"
		}
		c.Write([]byte(cmd + "\r\n" + chunk))
		return c.Read()
	}

	t.Run("bare LF in the last chunk", func(t *testing.T) {
		c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
		c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
		c.Expect(bdat("Subject: x\r\n\r\nhello\n.\n"+smuggled, true), 554, "5.6.0")
		assertNothingStored(t, s)
	})
	t.Run("bare CR ends the last chunk", func(t *testing.T) {
		c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
		c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
		r := c.Expect(bdat("Subject: x\r\n\r\nhello\r", true), 554, "5.6.0")
		if !strings.HasPrefix(r.Text, "BareLineEnding: bare CR") {
			t.Errorf("reply %q", r.Text)
		}
		assertNothingStored(t, s)
	})
	t.Run("bare LF in a middle chunk", func(t *testing.T) {
		c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
		c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
		// go-smtp feeds chunks to Session.Data through a pipe and answers
		// a chunk once it is consumed: the refusal comes with the next one.
		c.Expect(bdat("Subject: x\r\n\r\nhello\n", false), 250, "2.0.0")
		c.Expect(bdat(smuggled, true), 554, "5.6.0")
		// The transaction is over.
		c.Expect(bdat(smuggled, true), 502, "5.5.1")
		assertNothingStored(t, s)
	})
	t.Run("CRLF dot lines are content", func(t *testing.T) {
		c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
		c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
		c.Expect(bdat("Subject: one\r\n\r\nhello\r\n.\r\n", false), 250, "2.0.0")
		c.Expect(bdat(smuggled, true), 250, "2.0.0")
		inbox := readFolder(t, s, "carol@example.test", store.FolderInbox)
		if len(inbox) != 1 {
			t.Fatalf("carol has %d messages, want 1", len(inbox))
		}
		if !strings.HasSuffix(inbox[0], "\r\n\r\nhello\r\n.\r\n"+smuggled) {
			t.Errorf("stored body is not the chunks' bytes:\n%q", inbox[0])
		}
	})
}
