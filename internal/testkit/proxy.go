package testkit

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"mailroom/internal/config"
)

// WithProxyFrom trusts nets (e.g. "127.0.0.2/32") to send PROXY protocol
// headers ([submission] proxy_from).
func WithProxyFrom(nets ...string) Option {
	return func(c *config.Config) { c.Submission.ProxyFrom = nets }
}

// ProxyV1 is a PROXY protocol v1 header ("PROXY TCP4 src dst sport
// dport\r\n") as a load balancer sends it before the client's bytes.
func ProxyV1(src, dst netip.AddrPort) []byte {
	family := "TCP4"
	if src.Addr().Is6() {
		family = "TCP6"
	}
	return fmt.Appendf(nil, "PROXY %s %s %s %d %d\r\n", family, src.Addr(), dst.Addr(), src.Port(), dst.Port())
}

// ProxyV2 is a binary PROXY protocol v2 header, command PROXY, TCP over
// IPv4 (or IPv6 when src is IPv6), written octet by octet from the
// specification (haproxy's proxy-protocol.txt §2.2), with no TLVs.
func ProxyV2(src, dst netip.AddrPort) []byte {
	b := []byte("\r\n\r\n\x00\r\nQUIT\n")
	b = append(b, 0x21) // version 2, command PROXY
	if src.Addr().Is4() {
		b = append(b, 0x11)                      // AF_INET, STREAM
		b = binary.BigEndian.AppendUint16(b, 12) // 4 + 4 + 2 + 2
	} else {
		b = append(b, 0x21)                      // AF_INET6, STREAM
		b = binary.BigEndian.AppendUint16(b, 36) // 16 + 16 + 2 + 2
	}
	b = append(b, src.Addr().AsSlice()...)
	b = append(b, dst.Addr().AsSlice()...)
	b = binary.BigEndian.AppendUint16(b, src.Port())
	return binary.BigEndian.AppendUint16(b, dst.Port())
}

// DialRawFrom connects to addr from localIP (a 127/8 address) and writes
// b (a header, or nothing), returning the bare connection, for tests that
// assert what a refused peer sees.
func DialRawFrom(tb testing.TB, addr, localIP string, b []byte) net.Conn {
	tb.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(localIP)}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		tb.Fatalf("dial %s from %s: %v", addr, localIP, err)
	}
	tb.Cleanup(func() { nc.Close() })
	if len(b) > 0 {
		if _, err := nc.Write(b); err != nil {
			tb.Fatalf("write to %s: %v", addr, err)
		}
	}
	return nc
}

// DialProxied plays a load balancer at localIP: it connects, sends header
// and reads the greeting like Dial.
func DialProxied(tb testing.TB, addr, localIP string, header []byte) *Conn {
	tb.Helper()
	return greet(tb, DialRawFrom(tb, addr, localIP, header))
}

// DialProxiedTLS is DialProxied on an implicit-TLS port: the header, then
// the TLS handshake.
func DialProxiedTLS(tb testing.TB, addr, localIP string, header []byte, cfg *tls.Config) *Conn {
	tb.Helper()
	nc := tls.Client(DialRawFrom(tb, addr, localIP, header), cfg)
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := nc.Handshake(); err != nil {
		tb.Fatalf("tls handshake with %s after a PROXY header: %v", addr, err)
	}
	_ = nc.SetDeadline(time.Time{})
	return greet(tb, nc)
}

// ReadUntilClosed returns what the server sends on nc until it closes the
// connection; the test fails if it is still open after 30 seconds (a
// bound for a broken build, not a timed assertion).
func ReadUntilClosed(tb testing.TB, nc net.Conn) string {
	tb.Helper()
	_ = nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	b, err := io.ReadAll(bufio.NewReader(nc))
	if err != nil && !errors.Is(err, syscall.ECONNRESET) { // a reset (unread data) closes too
		tb.Fatalf("connection not closed by the server (read %q): %v", b, err)
	}
	return string(b)
}

// LocalAddr is the client's end of the connection.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }
