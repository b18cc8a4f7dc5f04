package submission_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"mailroom/internal/admin"
	"mailroom/internal/config"
	"mailroom/internal/testkit"
)

// TestTrace_UnsentTransactionIsARow: a transaction whose recipients were
// refused and that the client then abandons (RSET, QUIT) is one refused
// row of the trace, with the last refusal's reason and reply and the
// refused recipients; one that goes on to an accepted DATA is one row,
// the acceptance.
func TestTrace_UnsentTransactionIsARow(t *testing.T) {
	s := testkit.Start(t, fixture, limitsConfig(func(l *config.Limits) { l.RecipientsPerMessage = 1 }))
	c := testkit.Ready(t, s, "alice@example.test", pw)
	// Refused, then RSET: a row.
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<x@"+strings.Repeat("b.", 200)+"example>", 501, "5.1.3")
	c.MustCmd("RSET", 250, "")
	// One accepted, one refused, then DATA: only the acceptance.
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.MustCmd("RCPT TO:<b@remote.example>", 452, "4.5.3")
	c.Expect(c.SendData("Subject: sent\n\nx\n"), 250, "2.0.0")
	// One accepted, one refused, then QUIT: a row naming the one not sent.
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.MustCmd("RCPT TO:<c@remote.example>", 452, "4.5.3")
	c.MustCmd("QUIT", 221, "2.0.0")
	c.Close()
	// Two "session end" lines: before STARTTLS, and after QUIT (Logout, which records the row).
	testkit.Eventually(t, "the session's end", func() bool { return strings.Count(s.Log(), "session end") == 2 })
	s.Daemon.FlushTrace()

	page, err := s.Admin.TraceAttempts(context.Background(), admin.TraceQuery{Mailbox: "alice@example.test"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Attempts) != 3 {
		t.Fatalf("%d rows, want 3: %+v", len(page.Attempts), page.Attempts)
	}
	quit, sent, rset := page.Attempts[0], page.Attempts[1], page.Attempts[2]
	if quit.Status != "refused" || quit.Command != "RCPT" || !strings.HasPrefix(quit.Reply, "452 4.5.3 ") || strings.Join(quit.Recipients, ",") != "c@remote.example" ||
		!strings.Contains(quit.Detail, "1 accepted recipient(s) were not sent to") {
		t.Errorf("abandoned after QUIT: %+v", quit)
	}
	if sent.Status != "accepted" || sent.Subject != "sent" {
		t.Errorf("accepted: %+v", sent)
	}
	if rset.Status != "refused" || rset.Command != "RCPT" || !strings.HasPrefix(rset.Reply, "501 5.1.3 ") || rset.EnvelopeFrom != "alice@example.test" {
		t.Errorf("abandoned after RSET: %+v", rset)
	}
}
