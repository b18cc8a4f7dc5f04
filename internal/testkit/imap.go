package testkit

import (
	"net"

	"github.com/emersion/go-imap/v2/imapclient"

	"mailroom/internal/daemon"
)

// IMAPAddr is the STARTTLS IMAP listener's address; IMAPTLSAddr the
// implicit-TLS one. Start turns both on.
func (s *Server) IMAPAddr() string    { return s.Addr(daemon.ListenIMAP) }
func (s *Server) IMAPTLSAddr() string { return s.Addr(daemon.ListenIMAPS) }

// DialIMAP connects go-imap's client to the implicit-TLS IMAP listener,
// trusting the daemon's certificate, with o's handlers (nil: none). The
// client is closed when the test ends.
func (s *Server) DialIMAP(o *imapclient.Options) *imapclient.Client {
	s.TB.Helper()
	if o == nil {
		o = &imapclient.Options{}
	}
	o.TLSConfig = s.TLSConfig()
	c, err := imapclient.DialTLS(s.IMAPTLSAddr(), o)
	if err != nil {
		s.TB.Fatalf("dial IMAP: %v", err)
	}
	s.TB.Cleanup(func() { c.Close() })
	return c
}

// DialIMAPPlain connects go-imap's client to the STARTTLS listener
// without starting TLS.
func (s *Server) DialIMAPPlain() *imapclient.Client {
	s.TB.Helper()
	nc, err := net.Dial("tcp", s.IMAPAddr())
	if err != nil {
		s.TB.Fatalf("dial IMAP: %v", err)
	}
	c := imapclient.New(nc, nil)
	s.TB.Cleanup(func() { c.Close() })
	return c
}

// LoginIMAP dials (DialIMAP) and logs in, failing the test otherwise.
func (s *Server) LoginIMAP(user, pass string, o *imapclient.Options) *imapclient.Client {
	s.TB.Helper()
	c := s.DialIMAP(o)
	if err := c.Login(user, pass).Wait(); err != nil {
		s.TB.Fatalf("IMAP login as %s: %v", user, err)
	}
	return c
}
