package imap

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-sasl"

	"mailroom/internal/address"
	"mailroom/internal/limits"
	"mailroom/internal/policy"
	"mailroom/internal/store"
	"mailroom/internal/trace"
)

// maxUserBytes bounds a user name before it is normalized, logged or
// traced: the longest address RFC 5321 allows.
const maxUserBytes = 320

// Login answers LOGIN (imapserver refuses it before TLS, and advertises
// LOGINDISABLED there).
func (ss *session) Login(username, password string) error {
	return ss.login("LOGIN", username, password, true)
}

// AuthenticateMechanisms lists PLAIN; imapserver offers it under TLS only.
func (ss *session) AuthenticateMechanisms() []string { return []string{sasl.Plain} }

// Authenticate starts AUTHENTICATE PLAIN. An authorization identity other
// than the user fails as a wrong password does, after the same hash (as
// SMTP AUTH): acting as another mailbox is what full access is for.
func (ss *session) Authenticate(mech string) (sasl.Server, error) {
	if !strings.EqualFold(mech, sasl.Plain) {
		return nil, &goimap.Error{Type: goimap.StatusResponseTypeNo, Code: goimap.ResponseCodeCannot, Text: "Unsupported authentication mechanism; use PLAIN"}
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		return ss.login("AUTHENTICATE", username, password, identity == "" || address.Same(identity, username))
	}), nil
}

// Login refusals. Only a correct password learns that IMAP is off, the
// mailbox is shared or the network not allowed (AUTHORIZATIONFAILED,
// naming the fix); anything else is AUTHENTICATIONFAILED with one text.
var (
	errBadCredentials = &goimap.Error{Type: goimap.StatusResponseTypeNo, Code: goimap.ResponseCodeAuthenticationFailed, Text: "Authentication failed"}
	errAuthBusy       = &goimap.Error{Type: goimap.StatusResponseTypeNo, Code: goimap.ResponseCodeUnavailable, Text: "Temporary authentication failure, try again later"}
)

// reasonAuthBusy and reasonLoginBlocked are the trace reasons of a login
// held back (as submission's tokens).
const (
	reasonAuthBusy     = "auth_busy"
	reasonLoginBlocked = "login_blocked"
)

// login is the one login path of LOGIN and AUTHENTICATE PLAIN, the same
// steps as SMTP AUTH's: the shared login guard counts the attempt before
// the password is checked (directory.Verify: one hash whether or not the
// user exists), then policy.Login decides for IMAP. authz false (another
// authorization identity) checks the password against no user.
func (ss *session) login(cmd, username, password string, authz bool) (err error) {
	if len(username) > maxUserBytes {
		username = trace.Clip(username, maxUserBytes)
	}
	reason := policy.ReasonNone
	var detail string
	defer func() { ss.traceLogin(cmd, username, reason, detail, err) }()
	o := &ss.s.o
	user, nerr := address.Normalize(username)
	name := user
	if nerr != nil {
		user, name = "", strings.ToLower(username)
	}
	if !authz {
		user = ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.HashWait)
	defer cancel()
	now := o.Now()
	attempt, err := o.Logins.Begin(ctx, ss.remote, name, now)
	if err != nil {
		reason, err = ss.held(err, now)
		return err
	}
	cred, ok, err := o.Directory.Verify(ctx, user, password)
	if err != nil {
		attempt.Cancel()
		ss.log.Info("auth refused", "user", username, "reason", reasonAuthBusy, "err", err)
		reason = reasonAuthBusy
		return errAuthBusy
	}
	snap := o.Directory.Snapshot()
	acct := policy.Account{Address: user, Remote: ss.remote, Service: policy.ServiceIMAP}
	if mb := cred.Mailbox; mb != nil {
		acct = policy.Account{Address: mb.Address, Domain: mb.Domain, Exists: true, Shared: mb.Shared, Service: policy.ServiceIMAP, IMAP: imapEnabled(mb),
			Remote: ss.remote, DomainNetworks: snap.Networks("@" + mb.Domain), MailboxNetworks: snap.Networks(mb.Address)}
		if ap := cred.AppPassword; ap != nil {
			acct.AppPassword = ap.Label
			acct.AppNetworks = policy.ParsePrefixes(ap.Networks)
			detail = "app_password=" + ap.Label
		}
	}
	d := policy.Login(acct, ok)
	if !d.Allow {
		reason = d.Reason
		ss.log.Info("auth failed", "user", username, "reason", d.Reason)
		if d.Reason == policy.ReasonBadCredentials {
			if lock := attempt.Fail(o.Now()); lock != nil {
				reason, err = ss.held(lock, o.Now())
				return err
			}
			return errBadCredentials
		}
		attempt.Cancel() // a correct credential: no failure, and no trust
		return &goimap.Error{Type: goimap.StatusResponseTypeNo, Code: goimap.ResponseCodeAuthorizationFailed, Text: d.Detail}
	}
	attempt.Succeed(o.Now())
	if err := ss.open(ctx, cred.Mailbox); err != nil {
		ss.log.Error("open mailbox", "mailbox", cred.Mailbox.Address, "err", err)
		reason = "local_error"
		return &goimap.Error{Type: goimap.StatusResponseTypeNo, Code: goimap.ResponseCodeServerBug, Text: "The mailbox cannot be opened now; try again later"}
	}
	if ss.guard != nil {
		ss.guard.loggedIn()
	}
	ss.log = ss.log.With("mailbox", ss.mb.Address)
	ss.log.Info("auth ok", "cmd", cmd, "shared", len(ss.shared))
	return nil
}

// open makes the mailbox the session's, with its Inbox and Sent Items
// (and those of the shared mailboxes it has full access to).
func (ss *session) open(ctx context.Context, mb *store.Mailbox) error {
	shared := fullAccess(ss.s.o.Directory.Snapshot(), mb)
	for _, m := range append([]*store.Mailbox{mb}, shared...) {
		if _, err := ss.s.o.Store.EnsureFolder(ctx, m.ID, store.FolderInbox, ""); err != nil {
			return err
		}
		if _, err := ss.s.o.Store.EnsureFolder(ctx, m.ID, store.FolderSent, store.SpecialUseSent); err != nil {
			return err
		}
	}
	ss.mb, ss.shared = mb, shared
	return nil
}

// held is the answer to a login the guard holds back: too many failures
// from the address or for the name, or too many checks in progress.
func (ss *session) held(err error, now time.Time) (policy.Reason, error) {
	var lock *limits.Lockout
	if !errors.As(err, &lock) {
		ss.log.Info("auth refused", "reason", reasonAuthBusy, "err", err)
		return reasonAuthBusy, errAuthBusy
	}
	ss.log.Info("auth refused", "reason", reasonLoginBlocked, "cause", lock.Cause, "until", lock.Until)
	what := "your address"
	if lock.Cause == limits.CauseName {
		what = "this user name"
	}
	wait := max(lock.Until.Sub(now).Round(time.Second), time.Second)
	return reasonLoginBlocked, &goimap.Error{Type: goimap.StatusResponseTypeNo, Code: goimap.ResponseCodeUnavailable,
		Text: fmt.Sprintf("Too many failed logins from %s; try again in %s", what, wait)}
}

// traceLogin records a login attempt: the mailbox on success, the reason
// and the response on refusal.
func (ss *session) traceLogin(cmd, username string, reason policy.Reason, detail string, err error) {
	e := store.TraceEvent{Kind: trace.KindAuth, Command: cmd, Detail: strings.TrimSpace("imap " + detail)}
	if err == nil {
		e.Mailbox = ss.mb.Address
		ss.trace(e)
		return
	}
	// A refused login is a row of the readable trace (admin.TraceAttempts),
	// as a refused SMTP AUTH is; successful logins are events only.
	e.Status, e.Reason, e.Mailbox, e.Attempt = trace.StatusRefused, string(reason), normalizedOr(username), true
	var ie *goimap.Error
	if errors.As(err, &ie) {
		e.Text = fmt.Sprintf("NO [%s] %s", ie.Code, ie.Text)
	}
	ss.trace(e)
}

// trace records an event of the session.
func (ss *session) trace(e store.TraceEvent) {
	if ss.s.o.Trace == nil {
		return
	}
	e.Session = ss.id
	if e.At.IsZero() {
		e.At = ss.s.o.Now()
	}
	e.Remote = ss.remote.String()
	if e.Mailbox == "" && ss.mb != nil {
		e.Mailbox = ss.mb.Address
	}
	ss.s.o.Trace.Record(e)
}

// normalizedOr is addr normalized, or as given when it does not parse.
func normalizedOr(addr string) string {
	if n, err := address.Normalize(addr); err == nil {
		return n
	}
	return addr
}
