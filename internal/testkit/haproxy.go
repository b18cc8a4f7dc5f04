package testkit

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// haproxyConfig is the configuration StartHAProxy runs: a TCP frontend on
// haproxyHost:%d, and backends (its server lines) that are each sent a
// PROXY protocol v2 header, round robin, and health-checked (a TCP
// connect with a v2 LOCAL header). The README's "Behind a load balancer"
// shows the same lines.
const haproxyConfig = `global
    maxconn 256

defaults
    mode tcp
    timeout connect 5s
    timeout client 10m
    timeout server 10m

frontend submission
    bind ` + haproxyHost + `:%d
    default_backend mailroom

backend mailroom
    balance roundrobin
%s`

// haproxyHost is the loopback address haproxy listens on. The port is
// picked free and handed over, so another listener could take it in
// between: every test server listens on 127.0.0.1, so on this address
// none can (haproxy would fail to bind, and the test dial a daemon).
const haproxyHost = "127.0.0.77"

// StartHAProxy runs Debian's haproxy in front of backends (host:port), in
// TCP mode with send-proxy-v2, and returns its frontend address; haproxy
// connects to the backends from 127.0.0.1 and checks them every 500 ms. It
// stops when the test ends.
// The test is skipped when haproxy is not installed (README "Run the
// tests": apt-get install haproxy; CI installs it).
func StartHAProxy(tb testing.TB, backends ...string) string {
	tb.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		bin = "/usr/sbin/haproxy" // not on a non-root PATH
		if _, err := os.Stat(bin); err != nil {
			tb.Skip("haproxy is not installed (apt-get install haproxy): the PROXY protocol interoperability test needs it")
		}
	}
	var servers strings.Builder
	for i, b := range backends {
		fmt.Fprintf(&servers, "    server node%d %s send-proxy-v2 check inter 500ms\n", i+1, b)
	}
	port := freePortOn(tb, haproxyHost)
	cfg := filepath.Join(tb.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, haproxyConfig, port, servers.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	log := &syncBuffer{}
	exited := runForTest(tb, "haproxy", exec.Command(bin, "-db", "-f", cfg), log) // -db: foreground, no daemon
	addr := net.JoinHostPort(haproxyHost, fmt.Sprint(port))
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			tb.Fatalf("haproxy exited: %v\n%s", err, log.String())
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close() // haproxy forwards it: the backend sees a header and an EOF
			return addr
		}
		if time.Now().After(deadline) {
			tb.Fatalf("haproxy not listening on %s: %v\n%s", addr, err, log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago,
// for a program that cannot report the port it bound.
func freePort(tb testing.TB) int {
	tb.Helper()
	return freePortOn(tb, "127.0.0.1")
}

// freePortOn is freePort on the loopback address host.
func freePortOn(tb testing.TB, host string) int {
	tb.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
