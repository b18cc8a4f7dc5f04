package load

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// TestMessageBurstMemory measures what 50 simultaneous 30 MiB messages
// cost a `mailroom serve` child (issue 14 item 1: peak RSS under 150 MiB,
// headers or bodies): once with ordinary bodies, once with a 30 MiB header
// (one field folded over a million lines, refused at max_header_bytes). A
// measurement, not a check CI runs:
//
//	MAILROOM_MSG_BURST=50 go test -run TestMessageBurstMemory -v -timeout 30m ./internal/load/
func TestMessageBurstMemory(t *testing.T) {
	n := attackSize(t, "MAILROOM_MSG_BURST")
	const size = 30 << 20
	for _, tc := range []struct {
		name string
		msg  func() io.Reader
	}{
		{"30 MiB bodies", func() io.Reader {
			return message("Subject: body\r\n\r\n", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456\r\n", size)
		}},
		{"30 MiB headers", func() io.Reader { return message("Subject: header\r\nX-Fold: start\r\n", " folded\r\n", size) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServeWith(t, false, "max_connections_per_address = 0\nconnection_rate_per_address = 0",
				"concurrent = 1000\nmessages_per_minute = 100000")
			base := srv.memory(t)
			replies := map[string]int{}
			var mu sync.Mutex
			var wg sync.WaitGroup
			began := time.Now()
			for range n {
				wg.Go(func() {
					k := sendOne(srv.addr, tc.msg())
					mu.Lock()
					replies[k]++
					mu.Unlock()
				})
			}
			wg.Wait()
			m := srv.memory(t)
			t.Logf("%d × %s at once: peak RSS %s (%s before), in %s; replies %v",
				n, tc.name, mib(m.hwm), mib(base.rss), time.Since(began).Round(time.Millisecond), replies)
		})
	}
}

// message streams head, then line repeated up to size octets, then a
// final line: no message is ever held in the test's memory either.
func message(head, line string, size int) io.Reader {
	repeats := (size - len(head)) / len(line)
	return io.MultiReader(strings.NewReader(head), &repeater{line: line, left: repeats}, strings.NewReader("\r\nend\r\n"))
}

// repeater reads line left times.
type repeater struct {
	line string
	left int
	off  int
}

func (r *repeater) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && r.left > 0 {
		c := copy(p[n:], r.line[r.off:])
		n += c
		r.off += c
		if r.off == len(r.line) {
			r.off = 0
			r.left--
		}
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// sendOne submits msg as idle@example.test and names the outcome.
func sendOne(addr string, msg io.Reader) string {
	nc, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return "dial error"
	}
	c, err := smtp.NewClientStartTLS(nc, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		nc.Close()
		return "starttls error"
	}
	defer c.Close()
	c.CommandTimeout, c.SubmissionTimeout = 5*time.Minute, 10*time.Minute
	if err := c.Auth(sasl.NewPlainClient("", "idle@example.test", "idle-sessions-password")); err != nil {
		return "auth: " + authReply(err)
	}
	if err := c.Mail("idle@example.test", nil); err != nil {
		return "mail: " + authReply(err)
	}
	if err := c.Rcpt("idle@example.test", nil); err != nil {
		return "rcpt: " + authReply(err)
	}
	w, err := c.Data()
	if err != nil {
		return "data: " + authReply(err)
	}
	if _, err := io.Copy(w, msg); err != nil {
		return fmt.Sprintf("write: %v", err)
	}
	if err := w.Close(); err != nil {
		return authReply(err)
	}
	return "250"
}
