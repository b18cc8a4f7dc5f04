package submission_test

import (
	"strconv"
	"testing"
	"time"

	"mailroom/internal/admin"
	"mailroom/internal/testkit"
	"mailroom/internal/trace"
)

// TestBDAT_ResetBetweenChunks: go-smtp runs Data on a goroutine of its own
// for BDAT, and RSET (or a disconnect) between chunks ends the transaction
// on the connection's goroutine while Data still reads it. Run under -race:
// the transaction has one owner at a time. The slot comes back, nothing is
// accepted, and the trace records the abandoned transfer, not a 451 the
// client never saw.
func TestBDAT_ResetBetweenChunks(t *testing.T) {
	s := testkit.Start(t, fixture, oneSlot)
	c := testkit.Ready(t, s, "alice@example.test", pw)
	chunk := "From: <alice@example.test>\r\nSubject: chunked\r\n\r\n"
	for i := 0; i < 20; i++ {
		c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
		c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
		c.MustCmd("RCPT TO:<bob@example.test>", 250, "")
		c.Write([]byte("BDAT " + itoa(len(chunk)) + "\r\n" + chunk))
		c.Expect(c.Read(), 250, "")
		c.MustCmd("RSET", 250, "")
	}
	// The last transfer is cut by a disconnect instead.
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.Write([]byte("BDAT " + itoa(len(chunk)) + "\r\n" + chunk))
	c.Expect(c.Read(), 250, "")
	c.Close()

	waitForSlot(t, s)
	c = testkit.Ready(t, s, "alice@example.test", pw)
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	body := chunk + "hello\r\n"
	c.Write([]byte("BDAT " + itoa(len(body)) + " LAST\r\n" + body))
	c.Expect(c.Read(), 250, "2.0.0")
	assertInboxCount(t, s, "carol@example.test", 1)

	abandoned := 0
	for _, d := range s.TraceDetails(admin.TraceQuery{Status: trace.StatusRefused, Since: time.Hour}) {
		for _, e := range d.Events {
			if e.Code == 451 {
				t.Errorf("the trace records a reply the client never got: %+v", e)
			}
			if e.Command == "BDAT" && e.Reason == "transfer_interrupted" {
				abandoned++
			}
		}
	}
	if abandoned != 21 {
		t.Errorf("%d abandoned transfers in the trace, want 21", abandoned)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
