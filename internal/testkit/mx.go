package testkit

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// MXOptions script a receiving server.
type MXOptions struct {
	// Rcpt answers RCPT TO: nil (or a nil result) accepts, else the
	// error's reply is sent (smtp.SMTPError{Code: 451, ...}).
	Rcpt func(rcpt string) *smtp.SMTPError
	// Data answers the final dot of a received message; nil accepts.
	Data func(m Received) *smtp.SMTPError
	// TLS offers STARTTLS with this configuration (see NewCert).
	TLS *tls.Config
	// ImplicitTLS makes the listener speak TLS from the first byte.
	ImplicitTLS bool
	// Users, when set, are the AUTH PLAIN credentials it accepts (and
	// it then refuses MAIL before AUTH).
	Users map[string]string
	// XOAUTH2, when set, makes it offer only SASL XOAUTH2, checked by
	// this func (nil accepts), and refuse MAIL before AUTH (StartUpstream).
	XOAUTH2 func(user, token string) *smtp.SMTPError
	// Hold, when not nil, makes the final dot wait until it is closed:
	// a delivery caught in the middle of an attempt.
	Hold chan struct{}
}

// Received is one message a fake MX accepted (or was sent, when Data
// refused it).
type Received struct {
	From     string
	Rcpts    []string
	Data     []byte
	TLS      bool
	User     string
	Accepted bool
}

// MX is a receiving SMTP server on loopback that records what it gets.
type MX struct {
	Addr string
	o    MXOptions

	mu      sync.Mutex
	msgs    []Received
	conns   int
	holding int
}

// StartMX runs a receiving server on addr ("127.0.0.1:0", or a given
// loopback address and port); it stops when the test ends.
func StartMX(tb testing.TB, addr string, o MXOptions) *MX {
	tb.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		tb.Fatalf("fake mx: listen %s: %v", addr, err)
	}
	m := &MX{Addr: l.Addr().String(), o: o}
	srv := smtp.NewServer(m)
	srv.Domain = "mx.test"
	srv.AllowInsecureAuth = true
	srv.EnableSMTPUTF8 = true
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	if o.TLS != nil {
		srv.TLSConfig = o.TLS
	}
	var ln net.Listener = &countingListener{Listener: l, mx: m}
	if o.ImplicitTLS {
		ln = tls.NewListener(ln, o.TLS)
	}
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Close() })
	return m
}

// Messages returns what the server received so far.
func (m *MX) Messages() []Received {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Received(nil), m.msgs...)
}

// Accepted returns the messages it accepted.
func (m *MX) Accepted() []Received {
	var out []Received
	for _, r := range m.Messages() {
		if r.Accepted {
			out = append(out, r)
		}
	}
	return out
}

// Holding returns how many messages have been received whole and wait
// for Hold to be closed before their reply.
func (m *MX) Holding() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.holding
}

// Connections returns how many connections it has accepted.
func (m *MX) Connections() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.conns
}

type countingListener struct {
	net.Listener
	mx *MX
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mx.mu.Lock()
		l.mx.conns++
		l.mx.mu.Unlock()
	}
	return c, err
}

// NewSession implements smtp.Backend.
func (m *MX) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &mxSession{mx: m, c: c}, nil
}

type mxSession struct {
	mx   *MX
	c    *smtp.Conn
	user string
	msg  Received
}

func (s *mxSession) AuthMechanisms() []string {
	if s.mx.o.XOAUTH2 != nil {
		return []string{"XOAUTH2"}
	}
	if s.mx.o.Users == nil {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *mxSession) Auth(mech string) (sasl.Server, error) {
	if s.mx.o.XOAUTH2 != nil {
		return &xoauth2Server{check: s.mx.o.XOAUTH2, login: func(u string) { s.user = u }}, nil
	}
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if p, ok := s.mx.o.Users[user]; ok && p == pass {
			s.user = user
			return nil
		}
		return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
	}), nil
}

func (s *mxSession) Mail(from string, _ *smtp.MailOptions) error {
	if (s.mx.o.Users != nil || s.mx.o.XOAUTH2 != nil) && s.user == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}
	}
	_, tlsOn := s.c.TLSConnectionState()
	s.msg = Received{From: from, TLS: tlsOn, User: s.user}
	return nil
}

func (s *mxSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.mx.o.Rcpt != nil {
		if e := s.mx.o.Rcpt(to); e != nil {
			return e
		}
	}
	s.msg.Rcpts = append(s.msg.Rcpts, to)
	return nil
}

func (s *mxSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.mx.o.Hold != nil {
		s.mx.mu.Lock()
		s.mx.holding++
		s.mx.mu.Unlock()
		<-s.mx.o.Hold
	}
	msg := s.msg
	msg.Data = bytes.Clone(b)
	var reply *smtp.SMTPError
	if s.mx.o.Data != nil {
		reply = s.mx.o.Data(msg)
	}
	msg.Accepted = reply == nil
	s.mx.mu.Lock()
	s.mx.msgs = append(s.mx.msgs, msg)
	s.mx.mu.Unlock()
	if reply != nil {
		return reply
	}
	return nil
}

func (s *mxSession) Reset()        { s.msg = Received{} }
func (s *mxSession) Logout() error { return nil }

var _ smtp.AuthSession = (*mxSession)(nil)
