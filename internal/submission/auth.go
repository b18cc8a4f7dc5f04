package submission

import (
	"context"
	"errors"
	"net/netip"
	"time"

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
		return nil, s.answer("AUTH", "", nil, replyEncryptionRequired())
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

// login verifies the credentials and applies the login protection and the
// login policy.
func (s *Session) login(username, password string) (err error) {
	defer s.traceLogin(username, &err)
	o := &s.b.o
	user, err := address.Normalize(username)
	if err != nil {
		user = ""
	}
	remote := remoteAddr(s.c)
	now := o.Now()
	snap := o.Directory.Snapshot()
	known := ""
	if _, ok := snap.Mailbox(user); ok {
		known = user // only real mailboxes get a per-mailbox counter
	}
	if blocked, until := o.Logins.Blocked(remote, known, now); blocked {
		s.log.Info("auth refused", "user", username, "reason", "login_blocked", "until", until)
		s.tc.closeAfterWrite.Store(true)
		return replyLoginBlocked(until, now)
	}
	cred, ok := o.Directory.Verify(user, password)
	acct := policy.Account{Address: user, Remote: remote}
	if mb := cred.Mailbox; mb != nil {
		acct = policy.Account{Address: mb.Address, Domain: mb.Domain, Exists: true, Shared: mb.Shared, SMTPAuth: mb.SMTPAuth, Remote: remote,
			DomainNetworks: snap.Networks("@" + mb.Domain), MailboxNetworks: snap.Networks(mb.Address)}
		if ap := cred.AppPassword; ap != nil {
			acct.AppPassword = ap.Label
			acct.AppNetworks = parsePrefixes(ap.Networks)
		}
	}
	d := policy.Login(acct, ok)
	if !d.Allow {
		s.log.Info("auth failed", "user", username, "reason", d.Reason)
		if d.Reason == policy.ReasonBadCredentials {
			if o.Logins.Failure(remote, known, now) {
				until := now.Add(o.Logins.Cooloff)
				s.tc.closeAfterWrite.Store(true)
				return replyLoginBlocked(until, now)
			}
			return replyBadCredentials()
		}
		return replyLoginRefused(d.Reason, d.Detail)
	}
	o.Logins.Success(remote, cred.Mailbox.Address, now)
	s.mailbox = cred.Mailbox.Address
	s.log = s.log.With("mailbox", s.mailbox)
	if ap := cred.AppPassword; ap != nil {
		s.log = s.log.With("app_password", ap.Label)
		s.b.touchAppPassword(ap.ID, now, remote.String())
	}
	s.log.Info("auth ok")
	return nil
}

// touchAppPassword records an app password's use, at most once a minute
// per app password, without delaying the login.
func (b *Backend) touchAppPassword(id int64, now time.Time, from string) {
	b.touchMu.Lock()
	if last, ok := b.touched[id]; ok && now.Sub(last) < time.Minute {
		b.touchMu.Unlock()
		return
	}
	b.touched[id] = now
	b.touchMu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		defer cancel()
		if err := b.o.Store.TouchAppPassword(ctx, id, now, from); err != nil {
			b.log.Warn("record app password use", "id", id, "err", err)
		}
	}()
}

// remoteAddr is the client's IP address.
func remoteAddr(c *smtp.Conn) netip.Addr {
	if ap, err := netip.ParseAddrPort(c.Conn().RemoteAddr().String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// parsePrefixes parses CIDR prefixes, skipping unreadable ones (admin
// validates them on the way in).
func parsePrefixes(nets []string) []netip.Prefix {
	var out []netip.Prefix
	for _, n := range nets {
		if p, err := netip.ParsePrefix(n); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out
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
