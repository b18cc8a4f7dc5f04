package submission_test

import (
	"strings"
	"testing"
	"time"

	"mailroom/internal/config"
	"mailroom/internal/testkit"
)

// TestConcurrencyWait_FourthClientGetsThrough: with [limits]
// concurrency_wait, a fourth transaction of a mailbox limited to three
// waits at MAIL instead of getting 432 4.3.2, and goes on when one of the
// three ends; without a release in time it gets the 432.
func TestConcurrencyWait_FourthClientGetsThrough(t *testing.T) {
	s := testkit.Start(t, senderFixture, func(c *config.Config) {
		c.Limits.Concurrent = 3
		c.Limits.ConcurrencyWait = config.Duration(time.Minute)
	})
	var first []*testkit.Conn
	for range 3 {
		c := testkit.Ready(t, s, "app@example.test", pw)
		c.MustCmd("MAIL FROM:<app@example.test>", 250, "2.0.0")
		first = append(first, c)
	}
	fourth := testkit.Ready(t, s, "app@example.test", pw)
	fourth.Send("MAIL FROM:<app@example.test>")
	testkit.Eventually(t, "the fourth MAIL waiting for a slot", func() bool {
		return strings.Contains(s.Log(), "waiting for a concurrency slot")
	})
	first[0].MustCmd("RCPT TO:<carol@example.test>", 250, "2.0.0")
	first[0].Expect(first[0].SendData("From: app@example.test\nSubject: one\n\nhello\n"), 250, "2.0.0")
	fourth.Expect(fourth.Read(), 250, "2.0.0")
	fourth.MustCmd("RCPT TO:<carol@example.test>", 250, "2.0.0")
	fourth.Expect(fourth.SendData("From: app@example.test\nSubject: four\n\nhello\n"), 250, "2.0.0")

	// Nothing frees the slot: after the wait the answer is 432 4.3.2.
	short := testkit.Start(t, senderFixture, func(c *config.Config) {
		c.Limits.Concurrent = 1
		c.Limits.ConcurrencyWait = config.Duration(50 * time.Millisecond)
	})
	a := testkit.Ready(t, short, "app@example.test", pw)
	a.MustCmd("MAIL FROM:<app@example.test>", 250, "2.0.0")
	b := testkit.Ready(t, short, "app@example.test", pw)
	r := b.MustCmd("MAIL FROM:<app@example.test>", 432, "4.3.2")
	if !strings.Contains(r.Text, "sender thread limit exceeded") {
		t.Errorf("432 text: %q", r.Text)
	}
}
