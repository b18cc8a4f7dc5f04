package testkit

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"time"
)

// Client is a submission client for load and crash tests: unlike Conn it
// never fails the test, since under load a closed connection is an
// outcome to record, not an error; and it says exactly how far each
// transaction got, which is what a test of the 250 promise needs.
type Client struct {
	nc net.Conn
	r  *bufio.Reader
	// Timeout bounds each write and the TLS handshake; default 30 s.
	// Replies are read under TryRead's bound.
	Timeout time.Duration
}

// DialSubmission connects to a STARTTLS submission address, says EHLO,
// upgrades to TLS (trusting cfg) and logs in with AUTH PLAIN.
func DialSubmission(addr string, cfg *tls.Config, user, pass string) (*Client, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	c := &Client{nc: nc, r: bufio.NewReader(nc), Timeout: 30 * time.Second}
	fail := func(err error) (*Client, error) { nc.Close(); return nil, err }
	if _, err := c.expect("", 220); err != nil {
		return fail(err)
	}
	if _, err := c.expect("EHLO client.example.test", 250); err != nil {
		return fail(err)
	}
	if _, err := c.expect("STARTTLS", 220); err != nil {
		return fail(err)
	}
	tc := tls.Client(nc, cfg)
	_ = tc.SetDeadline(time.Now().Add(c.Timeout))
	if err := tc.Handshake(); err != nil {
		return fail(err)
	}
	_ = tc.SetDeadline(time.Time{})
	c.nc, c.r = tc, bufio.NewReader(tc)
	if _, err := c.expect("EHLO client.example.test", 250); err != nil {
		return fail(err)
	}
	plain := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
	if _, err := c.expect("AUTH PLAIN "+plain, 235); err != nil {
		return fail(err)
	}
	return c, nil
}

// Close closes the connection without QUIT.
func (c *Client) Close() error { return c.nc.Close() }

// Stage is how far a transaction got.
type Stage int

// The stages of a transaction, in order.
const (
	StageMail    Stage = iota // MAIL sent (or about to be)
	StageRcpt                 // MAIL accepted, RCPTs being sent
	StageData                 // DATA command sent
	StageMessage              // 354 received, message being written
	StageDot                  // the final dot was written in full: the server owns the outcome
	StageReply                // the reply to the dot was read
)

// Result is the outcome of one transaction.
type Result struct {
	Stage Stage
	Reply Reply  // the last reply read (the one that ended the transaction)
	ID    string // the queue id of a 250 to the dot
	Err   error  // a transport error; nil when a reply ended the transaction
}

// Accepted reports whether the server promised the message (250 to the dot).
func (r Result) Accepted() bool { return r.Stage == StageReply && r.Reply.Code == 250 }

// Send runs one transaction: MAIL, RCPT for each recipient, DATA and msg
// (CRLF line ends, dot-stuffed here). A refusal ends it with the reply; the
// connection stays usable then. A transport error ends it with Err, and
// the connection is done.
func (c *Client) Send(from string, rcpts []string, msg string) Result {
	var res Result
	step := func(st Stage, cmd string, code int) bool {
		res.Stage = st
		r, err := c.expect(cmd, code)
		res.Reply, res.Err = r, err
		return err == nil && r.Code == code
	}
	if !step(StageMail, "MAIL FROM:<"+from+">", 250) {
		return res
	}
	for _, rc := range rcpts {
		if !step(StageRcpt, "RCPT TO:<"+rc+">", 250) {
			c.rset()
			return res
		}
	}
	if !step(StageData, "DATA", 354) {
		return res
	}
	res.Stage = StageMessage
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSuffix(strings.ReplaceAll(msg, "\r\n", "\n"), "\n"), "\n") {
		if strings.HasPrefix(line, ".") {
			b.WriteString(".")
		}
		b.WriteString(line + "\r\n")
	}
	b.WriteString(".\r\n")
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.Timeout))
	if _, err := c.nc.Write([]byte(b.String())); err != nil {
		res.Err = err
		return res
	}
	res.Stage = StageDot
	r, err := c.read()
	if err != nil {
		res.Err = err
		return res
	}
	res.Stage, res.Reply = StageReply, r
	if r.Code == 250 {
		res.ID = QueueID(r)
	}
	return res
}

// QueueID is the id in "250 2.0.0 OK queued as <id>", or "".
func QueueID(r Reply) string {
	_, id, ok := strings.Cut(r.Text, "queued as ")
	if !ok {
		return ""
	}
	return strings.TrimSpace(id)
}

// Cmd sends one command and reads its reply.
func (c *Client) Cmd(line string) (Reply, error) { return c.expect(line, 0) }

func (c *Client) rset() { _, _ = c.expect("RSET", 250) }

// expect sends line (unless "") and reads the reply; a reply with another
// code than want is returned with a nil error (want 0 accepts any).
func (c *Client) expect(line string, want int) (Reply, error) {
	if line != "" {
		_ = c.nc.SetWriteDeadline(time.Now().Add(c.Timeout))
		if _, err := c.nc.Write([]byte(line + "\r\n")); err != nil {
			return Reply{}, err
		}
	}
	r, err := c.read()
	if err != nil {
		return r, err
	}
	if want == 220 && r.Code != 220 {
		// The greeting or STARTTLS refused: nothing else can follow.
		return r, fmt.Errorf("got %q, want 220", r.String())
	}
	if want == 235 && r.Code != 235 {
		return r, fmt.Errorf("login: %q", r.String())
	}
	return r, nil
}

func (c *Client) read() (Reply, error) {
	return (&Conn{nc: c.nc, r: c.r}).TryRead()
}

// Abandon starts a transaction and vanishes half-way through the message:
// MAIL, RCPT, DATA, the first half of msg (CRLF line ends, no final dot),
// then the connection closes. The server must store nothing of it.
func (c *Client) Abandon(from string, rcpts []string, msg string) Result {
	var res Result
	step := func(st Stage, cmd string, code int) bool {
		res.Stage = st
		r, err := c.expect(cmd, code)
		res.Reply, res.Err = r, err
		return err == nil && r.Code == code
	}
	defer c.Close()
	if !step(StageMail, "MAIL FROM:<"+from+">", 250) {
		return res
	}
	for _, rc := range rcpts {
		if !step(StageRcpt, "RCPT TO:<"+rc+">", 250) {
			return res
		}
	}
	if !step(StageData, "DATA", 354) {
		return res
	}
	res.Stage = StageMessage
	half := strings.ReplaceAll(strings.ReplaceAll(msg, "\r\n", "\n"), "\n", "\r\n")
	half = half[:len(half)/2]
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.Timeout))
	_, res.Err = c.nc.Write([]byte(half))
	return res
}
