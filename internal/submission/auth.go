package submission

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"mailroom/internal/address"
	"mailroom/internal/directory"
	"mailroom/internal/limits"
	"mailroom/internal/policy"
	"mailroom/internal/trace"
)

// AuthMechanisms lists PLAIN and LOGIN under TLS and nothing before it, so
// EHLO advertises AUTH only once the password would be encrypted; and
// XOAUTH2 and OAUTHBEARER when an OAuth issuer is configured.
func (s *Session) AuthMechanisms() []string {
	if !s.tls {
		return nil
	}
	if s.b.o.OAuth.Enabled() {
		return []string{sasl.Plain, sasl.Login, mechXOAuth2, mechOAuthBearer}
	}
	return []string{sasl.Plain, sasl.Login}
}

// Auth starts a SASL exchange. Before TLS every mechanism is refused with
// 538 5.7.11 (RFC 4954 §4), which go-smtp writes verbatim; a mechanism we
// do not offer gets 504 5.5.4.
func (s *Session) Auth(mech string) (sasl.Server, error) {
	s.acted = true
	if !s.tls {
		return nil, s.answer("AUTH", "", nil, replyEncryptionRequired())
	}
	switch mech {
	case sasl.Plain:
		return saslReplies{s: s, Server: sasl.NewPlainServer(func(identity, username, password string) error {
			// Logging in as one user to act as another is what grants are
			// for: a different authorization identity fails as a wrong
			// password does, after the same hash.
			return s.login(username, password, identity == "" || address.Same(identity, username))
		})}, nil
	case sasl.Login:
		return saslReplies{s: s, Server: &loginServer{authenticate: func(u, p string) error { return s.login(u, p, true) }}}, nil
	case mechXOAuth2, mechOAuthBearer:
		if s.b.o.OAuth.Enabled() {
			return saslReplies{s: s, Server: &tokenServer{mech: mech, login: func(u, t string) ([]byte, error) { return s.tokenLogin(mech, u, t) }}}, nil
		}
	}
	return nil, s.answer("AUTH", "", nil, replyUnknownMechanism())
}

// saslReplies answers a SASL message that the mechanism cannot parse (a
// PLAIN message without its two NULs, a LOGIN step too many) with
// 501 5.5.2 (RFC 4954 §4) instead of go-smtp's 454 4.7.0 for any error
// that is not an *smtp.SMTPError. The replies of login pass through.
type saslReplies struct {
	sasl.Server
	s *Session
}

func (w saslReplies) Next(response []byte) ([]byte, bool, error) {
	challenge, done, err := w.Server.Next(response)
	var rp *Reply
	if errors.As(err, &rp) {
		return challenge, done, rp.SMTP()
	}
	var se *smtp.SMTPError
	if err == nil || errors.As(err, &se) {
		return challenge, done, err
	}
	w.s.log.Info("malformed SASL message", "err", err)
	return nil, true, w.s.answer("AUTH", "", nil, replyMalformedAuth("the SASL message does not parse"))
}

// login checks a password login (PLAIN, LOGIN); authz is false when the
// client asked to act as someone else, which fails as a wrong password
// does, after the same hash.
func (s *Session) login(username, password string, authz bool) error {
	return s.authenticate(username, func(ctx context.Context, user string) (checked, error) {
		if !authz {
			user = "" // checked against the dummy hash: one hash, then 535
		}
		cred, ok, err := s.b.o.Directory.Verify(ctx, user, password)
		return checked{cred: cred, ok: ok}, err
	})
}

// checked is what a login's credential check found.
type checked struct {
	cred directory.Credential // Mailbox nil when the credential names none
	ok   bool                 // the credential proves cred.Mailbox
	// bad is the reply to a credential that did not prove a mailbox
	// (default replyBadCredentials).
	bad *Reply
	// detail is what the trace records of the method: "method=xoauth2
	// issuer=... client=... jti=...", never the credential.
	detail string
}

// authenticate is the one login path of every mechanism: check verifies
// the credential for user (username normalized, or "" when it is no
// address), then the login guard and the login policy apply alike.
//
// Every user name goes the same way, whether or not a mailbox has it: it
// is counted by the login guard before its credential is checked (so a
// burst cannot pass before the first failure is recorded), a password
// costs exactly one hash, and names are locked alike; so neither the
// reply, nor its text, nor its timing tells which names exist. A check
// that fails for want of a resource returns its *Reply (or any error: 454
// 4.7.0), and nothing is counted against the client.
func (s *Session) authenticate(username string, check func(ctx context.Context, user string) (checked, error)) (err error) {
	username = trace.Clip(username, maxTraced) // a longer name names no mailbox
	var c checked
	defer func() { s.traceLogin(username, c.detail, &err) }()
	o := &s.b.o
	user, err := address.Normalize(username)
	name := user // the name the login guard counts
	if err != nil {
		user, name = "", strings.ToLower(username)
	}
	remote := remoteAddr(s.c)
	ctx, cancel := context.WithTimeout(context.Background(), o.HashWait)
	defer cancel()
	attempt, err := o.Logins.Begin(ctx, remote, name, o.Now())
	if err != nil {
		return s.loginHeld(username, err)
	}
	c, err = check(ctx, user)
	if err != nil {
		attempt.Cancel()
		var rp *Reply
		if errors.As(err, &rp) {
			return rp
		}
		s.log.Info("auth refused", "user", username, "reason", "auth_busy", "err", err)
		return replyAuthBusy()
	}
	cred := c.cred
	snap := o.Directory.Snapshot()
	acct := policy.Account{Address: user, Remote: remote}
	if mb := cred.Mailbox; mb != nil {
		acct = policy.Account{Address: mb.Address, Domain: mb.Domain, Exists: true, Shared: mb.Shared, SMTPAuth: mb.SMTPAuth, Remote: remote,
			DomainNetworks: snap.Networks("@" + mb.Domain), MailboxNetworks: snap.Networks(mb.Address)}
		if ap := cred.AppPassword; ap != nil {
			acct.AppPassword = ap.Label
			acct.AppNetworks = policy.ParsePrefixes(ap.Networks)
		}
	}
	now := o.Now()
	d := policy.Login(acct, c.ok)
	if !d.Allow {
		s.log.Info("auth failed", "user", username, "reason", d.Reason)
		if d.Reason == policy.ReasonBadCredentials {
			if lock := attempt.Fail(now); lock != nil {
				return s.loginHeld(username, lock)
			}
			if c.bad != nil {
				return c.bad
			}
			return replyBadCredentials()
		}
		attempt.Cancel() // a correct credential: no failure, and no trust
		return replyLoginRefused(d.Reason, d.Detail)
	}
	attempt.Succeed(now)
	s.mailbox = cred.Mailbox.Address
	s.log = s.log.With("mailbox", s.mailbox)
	if ap := cred.AppPassword; ap != nil {
		s.log = s.log.With("app_password", ap.Label)
		s.b.touchAppPassword(ap.ID, now, remote.String())
	}
	if c.detail != "" {
		s.log = s.log.With("auth", c.detail)
	}
	s.log.Info("auth ok")
	return nil
}

// loginHeld is the reply to a login the guard holds back: 421 4.7.0 naming
// whether the address or the user name is locked, and the connection
// closes; or 454 4.7.0 when the address has too many logins in progress.
func (s *Session) loginHeld(username string, err error) error {
	now := s.b.o.Now()
	var lock *limits.Lockout
	if !errors.As(err, &lock) {
		s.log.Info("auth refused", "user", username, "reason", "auth_busy", "err", err)
		return replyAuthBusy()
	}
	s.log.Info("auth refused", "user", username, "reason", "login_blocked", "cause", lock.Cause, "until", lock.Until)
	s.tc.closeAfterWrite.Store(true)
	if lock.Cause == limits.CauseName {
		return replyLoginBlockedName(lock.Until, now)
	}
	return replyLoginBlocked(lock.Until, now)
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
func remoteAddr(c *smtp.Conn) netip.Addr { return addrOf(c.Conn().RemoteAddr()) }

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
