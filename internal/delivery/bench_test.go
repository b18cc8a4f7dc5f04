package delivery_test

import (
	"fmt"
	"testing"

	"mailroom/internal/config"
	"mailroom/internal/testkit"
)

// BenchmarkDeliver measures submission-to-remote throughput: b.N messages
// submitted over one connection, each to one recipient of one remote
// domain, until the fake MX has them all.
func BenchmarkDeliver(b *testing.B) {
	r := testkit.NewRemote(b)
	mx := r.MX(b, "remote.test", testkit.MXOptions{})
	// The default 30 messages a minute would refuse the 31st message:
	// lift the limits, as bench/serve.sh does (every check still runs).
	s := testkit.Start(b, fixture, testkit.WithRemote(r), func(c *config.Config) {
		c.Limits.MessagesPerMinute, c.Limits.RecipientsPerDay = 1e8, 1e8
	})
	c := testkit.Ready(b, s, "alice@example.test", pw)
	b.ResetTimer()
	for i := range b.N {
		c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
		c.MustCmd(fmt.Sprintf("RCPT TO:<r%d@remote.test>", i), 250, "")
		c.Expect(c.SendData("From: alice@example.test\nSubject: bench\n\nbody\n"), 250, "2.0.0")
	}
	testkit.Eventually(b, "every message arrives", func() bool { return len(mx.Accepted()) == b.N })
	b.ReportMetric(float64(mx.Connections()), "connections")
}
