package delivery

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"mailroom/internal/queue"
)

// client is one SMTP connection to a remote host.
type client struct {
	c     *smtp.Client
	raw   net.Conn
	host  string
	tls   bool
	timer *time.Timer // idle expiry, while pooled
}

// quit ends the session politely, bounded by a short deadline.
func (c *client) quit() {
	_ = c.raw.SetDeadline(time.Now().Add(5 * time.Second))
	if err := c.c.Quit(); err != nil {
		_ = c.raw.Close()
	}
}

// conn wraps the network connection go-smtp talks over: it replays a
// greeting (go-smtp's client reads one, and there is none after
// STARTTLS), and bounds every write (go-smtp sets no deadline while the
// message is written).
type conn struct {
	net.Conn
	prefix       []byte
	writeTimeout time.Duration
}

func (c *conn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

func (c *conn) Write(p []byte) (int, error) {
	_ = c.Conn.SetWriteDeadline(time.Now().Add(c.writeTimeout))
	return c.Conn.Write(p)
}

// errTLSHandshake marks a failed TLS handshake after STARTTLS, after which
// opportunistic TLS tries again in plain text.
var errTLSHandshake = errors.New("tls handshake")

// dial connects to h, trying each of its addresses; it returns the first
// session that got through EHLO (and STARTTLS, AUTH as the mode wants).
func (d *Deliverer) dial(ctx context.Context, h hop) (*client, error) {
	ips, err := d.o.Resolver.IPs(ctx, h.host)
	if err != nil {
		return nil, fmt.Errorf("address of %s: %w", h.host, err)
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("%s has no address", h.host)
	}
	var last error
	for _, ip := range ips {
		addr := net.JoinHostPort(ip.String(), strconv.Itoa(h.port))
		c, err := d.dialAddr(ctx, h, addr, h.tls)
		if errors.Is(err, errTLSHandshake) && h.tls == TLSOpportunistic {
			d.log.Info("STARTTLS handshake failed; trying again without TLS", "host", h.host, "addr", addr, "err", err)
			c, err = d.dialAddr(ctx, h, addr, TLSNone)
		}
		if err == nil {
			return c, nil
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, last
}

// dialAddr opens one session with addr in TLS mode mode.
func (d *Deliverer) dialAddr(ctx context.Context, h hop, addr, mode string) (*client, error) {
	dialer := net.Dialer{Timeout: d.o.DialTimeout}
	raw, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()
	c, err := d.handshake(ctx, raw, h, mode)
	if err != nil {
		raw.Close()
		return nil, err
	}
	d.log.Debug("smtp connected", "host", h.host, "addr", addr, "tls", c.tls)
	return c, nil
}

func (d *Deliverer) newClient(nc net.Conn, greeting string) *smtp.Client {
	c := smtp.NewClient(&conn{Conn: nc, prefix: []byte(greeting), writeTimeout: d.o.WriteTimeout})
	c.CommandTimeout = d.o.CommandTimeout
	c.SubmissionTimeout = d.o.DataTimeout
	return c
}

// handshake runs greeting, EHLO, STARTTLS and AUTH on raw.
func (d *Deliverer) handshake(ctx context.Context, raw net.Conn, h hop, mode string) (*client, error) {
	out := &client{raw: raw, host: h.host}
	nc := raw
	if mode == TLSImplicit {
		tc := tls.Client(raw, d.tlsConfig(h.host, mode))
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, fmt.Errorf("%w: %v", errTLSHandshake, err)
		}
		nc, out.tls = tc, true
	}
	c := d.newClient(nc, "")
	if err := c.Hello(d.o.Hostname); err != nil {
		return nil, err
	}
	if mode == TLSOpportunistic || mode == TLSRequired {
		ok, _ := c.Extension("STARTTLS")
		switch {
		case ok:
			tc, err := d.startTLS(ctx, raw, h, mode)
			if err != nil {
				return nil, err
			}
			// There is no greeting after STARTTLS (RFC 3207 §4.2); go-smtp's
			// client reads one, so it gets a stand-in.
			c = d.newClient(tc, "220 "+h.host+" TLS\r\n")
			if err := c.Hello(d.o.Hostname); err != nil {
				return nil, err
			}
			out.tls = true
		case mode == TLSRequired:
			return nil, errors.New("STARTTLS not offered and TLS is required")
		}
	}
	out.c = c
	if h.route != nil && h.route.Auth != AuthNone {
		if err := d.login(ctx, c, h, out.tls); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// startTLS sends STARTTLS on raw (go-smtp's client does it only before its
// own EHLO, with a fixed name) and completes the handshake.
func (d *Deliverer) startTLS(ctx context.Context, raw net.Conn, h hop, mode string) (*tls.Conn, error) {
	_ = raw.SetDeadline(time.Now().Add(d.o.CommandTimeout))
	if _, err := io.WriteString(raw, "STARTTLS\r\n"); err != nil {
		return nil, err
	}
	// The server says nothing after its reply until the handshake, so
	// this reader holds no bytes beyond it.
	code, msg, err := textproto.NewReader(bufio.NewReaderSize(raw, 512)).ReadResponse(220)
	_ = raw.SetDeadline(time.Time{})
	if err != nil {
		return nil, fmt.Errorf("STARTTLS: %d %s: %w", code, msg, err)
	}
	tc := tls.Client(raw, d.tlsConfig(h.host, mode))
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, fmt.Errorf("%w: %v", errTLSHandshake, err)
	}
	return tc, nil
}

// replyResult turns a server's reply into a result.
func replyResult(host string, e *smtp.SMTPError) queue.Result {
	r := queue.Result{Code: e.Code, Text: e.Message, Remote: host}
	if ec := e.EnhancedCode; ec != smtp.EnhancedCodeNotSet && ec != smtp.NoEnhancedCode {
		r.Enhanced = fmt.Sprintf("%d.%d.%d", ec[0], ec[1], ec[2])
	}
	switch e.Code / 100 {
	case 2:
		r.Status = queue.Delivered
	case 5:
		r.Status = queue.Permanent
	default:
		r.Status = queue.Transient
	}
	return r
}

// errResult turns an error of the client into a result: the reply when
// the server gave one, else a transient network failure.
func errResult(host string, err error) queue.Result {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return replyResult(host, se)
	}
	return queue.Result{Status: queue.Transient, Code: 451, Enhanced: "4.4.2", Text: "connection to " + host + " lost: " + err.Error(), Remote: host}
}

// isReply reports whether err is a reply of the server (the session is
// still in step).
func isReply(err error) bool {
	var se *smtp.SMTPError
	return errors.As(err, &se)
}

// transact runs one mail transaction for the undone recipients. It
// returns whether the session can carry another message, and whether it
// broke before the server said anything about this message (a stale idle
// connection: the caller may dial again).
func (d *Deliverer) transact(c *client, env queue.Envelope, msg *prepared, rcpts []string, out []queue.Result, done []bool) (healthy, stale bool) {
	opts := &smtp.MailOptions{Size: msg.size}
	if !isASCII(env.From) || !allASCII(rcpts) {
		if ok, _ := c.c.Extension("SMTPUTF8"); !ok {
			settle(out, done, queue.Result{Status: queue.Permanent, Code: 553, Enhanced: "5.6.7", Text: c.host + " does not support SMTPUTF8, which a non-ASCII address needs (RFC 6531 §3.5)", Remote: c.host})
			return true, false
		}
		opts.UTF8 = true
	}
	if err := c.c.Mail(env.From, opts); err != nil {
		if !isReply(err) {
			return false, true
		}
		settle(out, done, errResult(c.host, err))
		return c.c.Reset() == nil, false
	}
	var accepted []int
	for i, r := range rcpts {
		if done[i] {
			continue
		}
		err := c.c.Rcpt(r, nil)
		if err == nil {
			accepted = append(accepted, i)
			continue
		}
		if !isReply(err) {
			settle(out, done, errResult(c.host, err))
			return false, false
		}
		out[i], done[i] = errResult(c.host, err), true
	}
	if len(accepted) == 0 {
		return c.c.Reset() == nil, false
	}
	decide := func(r queue.Result) {
		for _, i := range accepted {
			out[i], done[i] = r, true
		}
	}
	w, err := c.c.Data()
	if err != nil {
		decide(errResult(c.host, err))
		if !isReply(err) {
			return false, false
		}
		return c.c.Reset() == nil, false
	}
	if err := msg.writeTo(w); err != nil {
		// The session is out of step in the middle of the data.
		decide(errResult(c.host, err))
		return false, false
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		decide(errResult(c.host, err))
		return isReply(err), false
	}
	enh, text := splitEnhanced(resp.StatusText)
	decide(queue.Result{Status: queue.Delivered, Code: 250, Enhanced: enh, Text: text, Remote: c.host})
	return true, false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func allASCII(ss []string) bool {
	for _, s := range ss {
		if !isASCII(s) {
			return false
		}
	}
	return true
}

// splitEnhanced splits "2.0.0 OK queued" into its enhanced code and text.
func splitEnhanced(s string) (string, string) {
	first, rest, _ := strings.Cut(s, " ")
	parts := strings.Split(first, ".")
	if len(parts) != 3 {
		return "", s
	}
	for _, p := range parts {
		if _, err := strconv.Atoi(p); err != nil {
			return "", s
		}
	}
	return first, rest
}
