package submission

import (
	"errors"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"mailroom/internal/address"
	"mailroom/internal/policy"
)

// AuthMechanisms lists PLAIN and LOGIN under TLS and nothing before it, so
// EHLO advertises AUTH only once the password would be encrypted.
func (s *Session) AuthMechanisms() []string {
	if !s.tls {
		return nil
	}
	return []string{sasl.Plain, sasl.Login}
}

// Auth starts a SASL exchange. Before TLS every mechanism is refused with
// 538 5.7.11 (RFC 4954 §4), which go-smtp writes verbatim.
func (s *Session) Auth(mech string) (sasl.Server, error) {
	if !s.tls {
		s.log.Info("refused", "cmd", "AUTH", "reason", "no_tls", "code", 538)
		return nil, replyEncryptionRequired()
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, username, password string) error {
			if identity != "" && identity != username {
				// Logging in as one user to act as another is what grants are for.
				return s.login("", password)
			}
			return s.login(username, password)
		}), nil
	case sasl.Login:
		return &loginServer{authenticate: s.login}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

// login verifies the credentials and applies the login policy.
func (s *Session) login(username, password string) error {
	user, err := address.Normalize(username)
	if err != nil {
		user = ""
	}
	mb, ok := s.b.o.Directory.Verify(user, password)
	acct := policy.Account{Address: user}
	if mb != nil {
		acct = policy.Account{Address: mb.Address, Exists: true, Shared: mb.Shared, SMTPAuth: mb.SMTPAuth}
	}
	d := policy.Login(acct, ok)
	if !d.Allow {
		s.log.Info("auth failed", "user", username, "reason", d.Reason)
		if d.Reason == policy.ReasonBadCredentials {
			return replyBadCredentials()
		}
		return replyLoginRefused(d.Detail)
	}
	s.mailbox = mb.Address
	s.log = s.log.With("mailbox", mb.Address)
	s.log.Info("auth ok")
	return nil
}

// loginServer is the server side of the LOGIN mechanism
// (draft-murchison-sasl-login), which go-sasl only implements as a client.
// Many devices and older clients offer nothing else.
type loginServer struct {
	authenticate func(username, password string) error
	username     string
	step         int
}

var _ sasl.Server = (*loginServer)(nil)

func (l *loginServer) Next(response []byte) (challenge []byte, done bool, err error) {
	switch l.step {
	case 0:
		l.step = 1
		if response == nil {
			return []byte("Username:"), false, nil
		}
		fallthrough // initial response carries the user name
	case 1:
		l.username = string(response)
		l.step = 2
		return []byte("Password:"), false, nil
	case 2:
		l.step = 3
		return nil, true, l.authenticate(l.username, string(response))
	}
	return nil, true, errors.New("unexpected LOGIN response")
}
