package testkit

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Reply is one SMTP reply, possibly multi-line.
type Reply struct {
	Code     int
	Enhanced string // "5.7.57", or "" when the reply has none
	Text     string // the last line's text after the codes
	Lines    []string
}

func (r Reply) String() string { return strings.Join(r.Lines, "\n") }

// Conn is a raw SMTP dialogue for asserting exact replies.
type Conn struct {
	tb testing.TB
	nc net.Conn
	r  *bufio.Reader
}

// Dial connects to addr, reads the greeting and checks it is 220.
func Dial(tb testing.TB, addr string) *Conn {
	tb.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		tb.Fatalf("dial %s: %v", addr, err)
	}
	return greet(tb, nc)
}

// DialFrom connects from a chosen local address, e.g. 127.0.0.2: every
// 127/8 address is loopback on Linux, so tests can play several clients.
func DialFrom(tb testing.TB, addr, localIP string) *Conn {
	tb.Helper()
	return greet(tb, DialRawFrom(tb, addr, localIP, nil))
}

// DialTLS connects with implicit TLS.
func DialTLS(tb testing.TB, addr string, cfg *tls.Config) *Conn {
	tb.Helper()
	nc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		tb.Fatalf("dial tls %s: %v", addr, err)
	}
	return greet(tb, nc)
}

func greet(tb testing.TB, nc net.Conn) *Conn {
	tb.Helper()
	c := &Conn{tb: tb, nc: nc, r: bufio.NewReader(nc)}
	tb.Cleanup(func() { nc.Close() })
	c.Expect(c.Read(), 220, "")
	return c
}

// Close closes the connection.
func (c *Conn) Close() { c.nc.Close() }

// Send writes one line (CRLF added).
func (c *Conn) Send(line string) {
	c.tb.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.nc.Write([]byte(line + "\r\n")); err != nil {
		c.tb.Fatalf("send %q: %v", line, err)
	}
}

// Write writes raw bytes.
func (c *Conn) Write(b []byte) {
	c.tb.Helper()
	if _, err := c.nc.Write(b); err != nil {
		c.tb.Fatalf("write: %v", err)
	}
}

// Read reads one reply.
func (c *Conn) Read() Reply {
	c.tb.Helper()
	r, err := c.TryRead()
	if err != nil {
		c.tb.Fatalf("read reply: %v", err)
	}
	return r
}

// TryRead reads one reply and returns read errors (a closed connection).
func (c *Conn) TryRead() (Reply, error) {
	var r Reply
	c.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return r, fmt.Errorf("after %q: %w", r.Lines, err)
		}
		line = strings.TrimRight(line, "\r\n")
		r.Lines = append(r.Lines, line)
		if len(line) < 3 {
			return r, fmt.Errorf("short reply line %q", line)
		}
		code, err := strconv.Atoi(line[:3])
		if err != nil {
			return r, fmt.Errorf("reply line %q: %v", line, err)
		}
		r.Code = code
		if len(line) > 3 && line[3] == '-' {
			continue
		}
		text := strings.TrimPrefix(line[3:], " ")
		if f, rest, ok := strings.Cut(text, " "); ok && isEnhanced(f) {
			r.Enhanced, text = f, rest
		} else if isEnhanced(text) {
			r.Enhanced, text = text, ""
		}
		r.Text = text
		return r, nil
	}
}

func isEnhanced(s string) bool {
	p := strings.Split(s, ".")
	if len(p) != 3 {
		return false
	}
	for _, x := range p {
		if _, err := strconv.Atoi(x); err != nil {
			return false
		}
	}
	return true
}

// Cmd sends a line and returns the reply.
func (c *Conn) Cmd(line string) Reply {
	c.tb.Helper()
	c.Send(line)
	return c.Read()
}

// Expect fails the test unless r has code and (when not "") enhanced code.
func (c *Conn) Expect(r Reply, code int, enhanced string) Reply {
	c.tb.Helper()
	if r.Code != code || (enhanced != "" && r.Enhanced != enhanced) {
		c.tb.Fatalf("got reply %q, want %d %s", r.String(), code, enhanced)
	}
	return r
}

// MustCmd sends a line and asserts the reply's codes.
func (c *Conn) MustCmd(line string, code int, enhanced string) Reply {
	c.tb.Helper()
	return c.Expect(c.Cmd(line), code, enhanced)
}

// StartTLS upgrades the connection (after EHLO) and sends EHLO again.
func (c *Conn) StartTLS(cfg *tls.Config) Reply {
	c.tb.Helper()
	c.MustCmd("STARTTLS", 220, "")
	tc := tls.Client(c.nc, cfg)
	if err := tc.Handshake(); err != nil {
		c.tb.Fatalf("tls handshake: %v", err)
	}
	c.nc, c.r = tc, bufio.NewReader(tc)
	return c.MustCmd("EHLO client.example.test", 250, "")
}

// AuthPlain logs in with AUTH PLAIN and returns the reply.
func (c *Conn) AuthPlain(user, pass string) Reply {
	c.tb.Helper()
	return c.Cmd("AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00"+pass)))
}

// Ready dials the STARTTLS port, says EHLO, upgrades to TLS and logs in.
func Ready(tb testing.TB, s *Server, user, pass string) *Conn {
	tb.Helper()
	c := Dial(tb, s.Addr("submission"))
	c.MustCmd("EHLO client.example.test", 250, "")
	c.StartTLS(s.TLSConfig())
	c.Expect(c.AuthPlain(user, pass), 235, "2.0.0")
	return c
}

// SendData sends DATA, the message (dot-stuffed, CRLF line ends) and the
// final dot, and returns the reply to the final dot.
func (c *Conn) SendData(msg string) Reply {
	c.tb.Helper()
	c.MustCmd("DATA", 354, "")
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSuffix(strings.ReplaceAll(msg, "\r\n", "\n"), "\n"), "\n") {
		if strings.HasPrefix(line, ".") {
			b.WriteString(".")
		}
		b.WriteString(line)
		b.WriteString("\r\n")
	}
	b.WriteString(".\r\n")
	c.Write([]byte(b.String()))
	return c.Read()
}

// Upgrade completes a STARTTLS the caller already sent (and got 220 for),
// without verifying the certificate, and says EHLO again.
func Upgrade(tb testing.TB, c *Conn) *Conn {
	tb.Helper()
	tc := tls.Client(c.nc, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		tb.Fatalf("tls handshake: %v", err)
	}
	c.nc, c.r = tc, bufio.NewReader(tc)
	c.MustCmd("EHLO client.example.test", 250, "")
	return c
}
