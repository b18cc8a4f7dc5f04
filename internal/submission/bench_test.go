package submission_test

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"mailroom/internal/config"
	"mailroom/internal/testkit"
)

// BenchmarkSubmit sends b.N messages of 4 KiB over loopback STARTTLS
// connections to a real daemon and reports the fsyncs behind each
// accepted message (blob files, blob directories, store commits): group
// commit makes concurrent acceptances share the directory and store ones.
func BenchmarkSubmit(b *testing.B) {
	for _, conns := range []int{1, 32} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			s := testkit.Start(b, fixture, func(c *config.Config) {
				c.Limits.Concurrent = 64
				c.Limits.MessagesPerMinute = 1 << 30
				c.Limits.RecipientsPerDay = 1 << 30
			})
			body := "Subject: bench\n\n" + strings.Repeat(strings.Repeat("x", 76)+"\n", 4096/77)
			cs := make([]*testkit.Conn, conns)
			for i := range cs {
				cs[i] = testkit.Ready(b, s, "alice@example.test", pw)
			}
			d0 := s.Daemon.Durability()
			var left atomic.Int64
			left.Store(int64(b.N))
			b.ResetTimer()
			var wg sync.WaitGroup
			for _, c := range cs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for left.Add(-1) >= 0 {
						c.Send("MAIL FROM:<alice@example.test>")
						c.Send("RCPT TO:<carol@example.test>")
						c.Send("DATA")
						for _, want := range []int{250, 250, 354} {
							if r := c.Read(); r.Code != want {
								b.Errorf("reply %q", r)
								return
							}
						}
						c.Write([]byte(strings.ReplaceAll(body, "\n", "\r\n") + ".\r\n"))
						if r := c.Read(); r.Code != 250 {
							b.Errorf("reply %q", r)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			d := s.Daemon.Durability()
			n := float64(d.Accepted - d0.Accepted)
			b.ReportMetric(float64(d.FileSyncs-d0.FileSyncs+d.DirSyncs-d0.DirSyncs+d.StoreCommits-d0.StoreCommits)/n, "fsyncs/msg")
			b.ReportMetric(float64(d.StoreCommits-d0.StoreCommits)/n, "commits/msg")
		})
	}
}
