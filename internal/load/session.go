package load

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// session is one client connection, set up (connected, TLS, logged in)
// and ready for MAIL. It belongs to one worker goroutine.
type session struct {
	o    *Options
	c    *smtp.Client
	raw  net.Conn // the TCP connection beneath everything
	stop func() bool
	used int // messages attempted on it
}

// dial connects, greets, sets up TLS and logs in; every failure names its
// phase.
func dial(ctx context.Context, o *Options) (*session, error) {
	d := net.Dialer{Timeout: o.Timeout}
	raw, err := d.DialContext(ctx, "tcp", o.Addr)
	if err != nil {
		return nil, &phaseError{PhaseConnect, err}
	}
	// Cancelling the run closes the connection, which ends whatever
	// operation is in flight on it.
	s := &session{o: o, raw: raw, stop: context.AfterFunc(ctx, func() { raw.Close() })}
	if err := s.setup(); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *session) setup() error {
	o := s.o
	var conn net.Conn = s.raw
	if o.TLS == Implicit {
		tc := tls.Client(s.raw, o.TLSConfig)
		_ = s.raw.SetDeadline(time.Now().Add(o.Timeout))
		if err := tc.Handshake(); err != nil {
			return &phaseError{PhaseTLS, err}
		}
		_ = s.raw.SetDeadline(time.Time{})
		conn = tc
	}
	// The watch tells a refused greeting (nothing written yet) from a
	// refused EHLO, and a refused STARTTLS from a refused EHLO.
	w := &watchConn{Conn: conn}
	var err error
	if o.TLS == StartTLS {
		// go-smtp's client offers STARTTLS only through this constructor;
		// its first EHLO names "localhost", the second o.EHLO.
		if s.c, err = smtp.NewClientStartTLS(w, o.TLSConfig); err != nil {
			var se *smtp.SMTPError
			switch {
			case !w.wrote:
				return &phaseError{PhaseGreeting, err}
			case w.starttls || !errors.As(err, &se):
				return &phaseError{PhaseTLS, err}
			}
			return &phaseError{PhaseEHLO, err}
		}
		s.timeouts()
		// The handshake runs on the first write after STARTTLS: this EHLO.
		if err := s.c.Hello(o.EHLO); err != nil {
			var se *smtp.SMTPError
			if errors.As(err, &se) {
				return &phaseError{PhaseEHLO, err}
			}
			return &phaseError{PhaseTLS, err}
		}
	} else {
		s.c = smtp.NewClient(w)
		s.timeouts()
		if err := s.c.Hello(o.EHLO); err != nil {
			if !w.wrote {
				return &phaseError{PhaseGreeting, err}
			}
			return &phaseError{PhaseEHLO, err}
		}
	}
	if o.Username == "" {
		return nil
	}
	mech := sasl.NewPlainClient("", o.Username, o.Password)
	if o.Auth == AuthLogin {
		mech = sasl.NewLoginClient(o.Username, o.Password)
	}
	if err := s.c.Auth(mech); err != nil {
		return &phaseError{PhaseAuth, err}
	}
	return nil
}

func (s *session) timeouts() {
	s.c.CommandTimeout = s.o.Timeout
	s.c.SubmissionTimeout = s.o.Timeout
}

// send submits one message: MAIL, every RCPT, DATA, the message, and the
// final reply.
func (s *session) send(header, body []byte) error {
	c := s.c
	if err := c.Mail(s.o.From, &smtp.MailOptions{Size: int64(len(header) + len(body))}); err != nil {
		return &phaseError{PhaseMail, err}
	}
	for _, to := range s.o.To {
		if err := c.Rcpt(to, nil); err != nil {
			return &phaseError{PhaseRcpt, err}
		}
	}
	w, err := c.Data()
	if err != nil {
		return &phaseError{PhaseData, err}
	}
	// go-smtp's client bounds commands but not the writes of the message.
	_ = s.raw.SetDeadline(time.Now().Add(s.o.Timeout))
	if _, err = w.Write(header); err == nil {
		_, err = w.Write(body)
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		return &phaseError{PhaseMessage, err}
	}
	return nil
}

// recover makes the session usable after a failed message: a refusal is
// followed by RSET, unless it announced that the server closes (421). It
// reports whether the session may go on.
func (s *session) recover(err error) bool {
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code == 421 {
		return false
	}
	return s.c.Reset() == nil
}

// quit ends the session politely.
func (s *session) quit() {
	_ = s.c.Quit()
	s.close()
}

func (s *session) close() {
	s.stop()
	if s.c != nil {
		_ = s.c.Close()
	}
	_ = s.raw.Close()
}

// watchConn remembers whether anything was written, and whether STARTTLS
// was.
type watchConn struct {
	net.Conn
	wrote, starttls bool
}

func (w *watchConn) Write(p []byte) (int, error) {
	w.wrote = true
	if !w.starttls && bytes.HasPrefix(p, []byte("STARTTLS")) {
		w.starttls = true
	}
	return w.Conn.Write(p)
}
