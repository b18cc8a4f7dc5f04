package load

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// TestAuthBurstMemory measures what a burst of simultaneous AUTHs with
// wrong passwords costs a `mailroom serve` child (issue 13 item 3: peak
// RSS under a 200-way burst, target under 300 MiB), from one address and
// from as many addresses as connections. It is a measurement, not a check
// CI runs:
//
//	MAILROOM_AUTH_BURST=200 go test -run TestAuthBurstMemory -v ./internal/load/
//
// The server runs with the default configuration.
func TestAuthBurstMemory(t *testing.T) {
	n := attackSize(t, "MAILROOM_AUTH_BURST")
	raiseFileLimit(t, n)
	for _, tc := range []struct {
		name  string
		local func(i int) string
	}{
		{"one address", func(int) string { return "127.0.0.1" }},
		{"an address each", func(i int) string { return fmt.Sprintf("127.0.%d.%d", 10+i/250, 1+i%250) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServeWith(t, false, "", "")
			base := srv.memory(t)
			tlsConfig := &tls.Config{InsecureSkipVerify: true}
			clients := make([]*smtp.Client, n)
			refusedAtConnect := 0
			for i := range clients {
				c, err := attacker(srv.addr, tc.local(i), tlsConfig)
				if err != nil {
					refusedAtConnect++ // past max_connections_per_address
					continue
				}
				clients[i] = c
				defer c.Close()
			}
			replies := map[string]int{}
			var mu sync.Mutex
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i, c := range clients {
				if c == nil {
					continue
				}
				wg.Go(func() {
					<-start
					k := authReply(c.Auth(sasl.NewPlainClient("", fmt.Sprintf("nobody%d@example.test", i), fmt.Sprintf("guess-%d", i))))
					mu.Lock()
					replies[k]++
					mu.Unlock()
				})
			}
			began := time.Now()
			close(start)
			wg.Wait()
			m := srv.memory(t)
			t.Logf("%d-way AUTH burst (%s): peak RSS %s (%s before), in %s; %d refused at connect; replies %v",
				n, tc.name, mib(m.hwm), mib(base.rss), time.Since(began).Round(time.Millisecond), refusedAtConnect, replies)
		})
	}
}

// TestAuthFloodRealClient measures what a flood of logins with unknown
// user names, from many addresses, does to a real client of the same
// server (issue 13 item 3: 34 hashes/s held 1.4 cores and slowed real
// clients tenfold): the client's session setup (connect, STARTTLS, AUTH
// with a password the server has seen) and message latency, alone and
// under the flood, and the server's CPU. A measurement, not a check:
//
//	MAILROOM_AUTH_FLOOD=16 go test -run TestAuthFloodRealClient -v ./internal/load/
//
// runs 16 attacking connections at a time. The server runs with the
// default configuration, the client's message rate lifted.
func TestAuthFloodRealClient(t *testing.T) {
	n := attackSize(t, "MAILROOM_AUTH_FLOOD")
	// MAILROOM_AUTH_SUBMISSION adds [submission] keys, e.g.
	// "max_concurrent_hashes = 2".
	srv := startServeWith(t, false, os.Getenv("MAILROOM_AUTH_SUBMISSION"), "messages_per_minute = 100000")
	o := Options{
		Addr: srv.addr, Username: "idle@example.test", Password: "idle-sessions-password",
		To: []string{"idle@example.test"}, Messages: 40, PerConn: 1, Timeout: time.Minute,
		TLSConfig: &tls.Config{InsecureSkipVerify: true},
	}
	client := func(label string) {
		r, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		cpu0 := serverCPU(t, srv)
		rep := r.Run(context.Background())
		cores := (serverCPU(t, srv) - cpu0).Seconds() / rep.Elapsed.Seconds()
		t.Logf("real client %s: %d ok, %d failed; session setup p50 %s p90 %s; message p50 %s p90 %s; server %.2f cores",
			label, rep.OK, rep.Failed, ms(rep.Setup.P50), ms(rep.Setup.P90), ms(rep.Latency.P50), ms(rep.Latency.P90), cores)
	}
	client("warm-up") // fills the auth cache, as a device that sent before
	client("alone")

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var attempts atomic.Int64
	replies := sync.Map{}
	next := atomic.Int64{}
	for range n {
		wg.Go(func() {
			tlsConfig := &tls.Config{InsecureSkipVerify: true}
			for ctx.Err() == nil {
				i := next.Add(1)
				local := fmt.Sprintf("127.%d.%d.%d", 20+i/62500%200, i/250%250, 1+i%250)
				c, err := attacker(srv.addr, local, tlsConfig)
				k := "refused at connect"
				if err == nil {
					k = authReply(c.Auth(sasl.NewPlainClient("", fmt.Sprintf("nobody%d@example.test", i), "guess")))
					c.Close()
				}
				attempts.Add(1)
				v, _ := replies.LoadOrStore(k, new(atomic.Int64))
				v.(*atomic.Int64).Add(1)
			}
		})
	}
	for attempts.Load() < int64(n) { // every attacker has had a reply
		time.Sleep(50 * time.Millisecond)
	}
	began, before := time.Now(), attempts.Load()
	client("under the flood")
	during, elapsed := attempts.Load()-before, time.Since(began)
	cancel()
	wg.Wait()
	counts := map[string]int64{}
	replies.Range(func(k, v any) bool { counts[k.(string)] = v.(*atomic.Int64).Load(); return true })
	t.Logf("flood: %d connections at a time, %d AUTHs in all, %.1f/s while the client ran; replies %v", n, attempts.Load(), float64(during)/elapsed.Seconds(), counts)
}

// attackSize reads the measurement's size from env, or skips.
func attackSize(t *testing.T, env string) int {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("reads the server's memory and CPU from /proc")
	}
	v := os.Getenv(env)
	if v == "" {
		t.Skipf("a measurement: set %s", env)
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive number", env, v)
	}
	return n
}

// attacker dials addr from local, says EHLO and sets up STARTTLS, ready
// for AUTH.
func attacker(addr, local string, tlsConfig *tls.Config) (*smtp.Client, error) {
	d := net.Dialer{Timeout: 30 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	c, err := smtp.NewClientStartTLS(nc, tlsConfig)
	if err != nil {
		nc.Close()
		return nil, err
	}
	c.CommandTimeout = time.Minute
	if err := c.Hello("attacker.example"); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// authReply names an AUTH outcome by its code and enhanced code.
func authReply(err error) string {
	var se *smtp.SMTPError
	switch {
	case err == nil:
		return "235"
	case errors.As(err, &se):
		return fmt.Sprintf("%d %d.%d.%d", se.Code, se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
	}
	return "transport error"
}

// serverCPU is the CPU time the server child has used (utime + stime).
func serverCPU(t *testing.T, p *serveProc) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ
}
