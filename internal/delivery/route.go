package delivery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"mailroom/internal/oauth"
	"mailroom/internal/queue"
)

// AUTH kinds of a Route.
const (
	AuthNone    = "none"
	AuthPlain   = "plain"
	AuthXOAUTH2 = "xoauth2"
)

// Route carries the recipients of some domains to one upstream host
// ([[delivery.routes]]; the smarthost is the last route, for "*").
type Route struct {
	// Domains are the recipient domains it carries, canonical; "*" is
	// every domain not delivered here.
	Domains []string
	// Host is "host:port".
	Host string
	// TLS is TLSRequired, TLSImplicit or TLSNone (only to a loopback host
	// when it logs in).
	TLS string
	// Auth is AuthNone, AuthPlain (Username, Password) or AuthXOAUTH2 (a
	// token of Tokens, as Username or else the message's sender).
	Auth     string
	Username string
	Password string
	Tokens   *oauth.TokenSource
}

// SelectRoute returns the index of the first route that carries domain
// (canonical form), or -1 when none does and MX decides.
func SelectRoute(routes []Route, domain string) int {
	for i, r := range routes {
		for _, d := range r.Domains {
			if d == "*" || d == domain {
				return i
			}
		}
	}
	return -1
}

// XOAUTH2User is the user= of a message's XOAUTH2 login to a route: the
// route's Username when set, else the envelope sender (the mailbox whose
// Send As the upstream checks); a notice, which has no sender, logs in as
// the postmaster, else as its recipient (the one mailbox it concerns).
func XOAUTH2User(username, from, postmaster, firstRcpt string) string {
	for _, u := range []string{username, from, postmaster} {
		if u != "" {
			return u
		}
	}
	return firstRcpt
}

// routeHop returns the destination key and the hop of route i for a
// message from env.From to rcpts. A route that logs in per sender
// (XOAUTH2 without a username) keeps a pool of connections per sender: a
// session logged in as one mailbox cannot send as another.
func (d *Deliverer) routeHop(i int, env queue.Envelope, rcpts []string) (string, hop) {
	r := &d.routes[i]
	host, p, _ := net.SplitHostPort(r.Host)
	port, _ := strconv.Atoi(p)
	h := hop{host: host, port: port, tls: r.TLS, route: r}
	key := fmt.Sprintf("route %d %s", i, r.Host)
	if r.Auth == AuthXOAUTH2 {
		first := ""
		if len(rcpts) > 0 {
			first = rcpts[0]
		}
		h.user = XOAUTH2User(r.Username, env.From, d.o.Postmaster, first)
		key += " as " + h.user
	}
	return key, h
}

// authError is a login refused by a route's upstream, or a token that
// could not be had: the attempt is transient (a configuration to fix, not
// mail to bounce), and the result carries the reason.
type authError struct{ err error }

func (e *authError) Error() string { return e.err.Error() }
func (e *authError) Unwrap() error { return e.err }

// login authenticates c on the route of h.
func (d *Deliverer) login(ctx context.Context, c *smtp.Client, h hop, tlsOn bool) error {
	r := h.route
	if !tlsOn && !isLoopback(h.host) {
		return &authError{fmt.Errorf("refusing to send the credentials of route %s without TLS", r.Host)}
	}
	switch r.Auth {
	case AuthPlain:
		if err := c.Auth(sasl.NewPlainClient("", r.Username, r.Password)); err != nil {
			return &authError{fmt.Errorf("AUTH PLAIN as %s: %w", r.Username, upstreamReply{err})}
		}
	case AuthXOAUTH2:
		tok, err := r.Tokens.Token(ctx)
		if err != nil {
			return &authError{err}
		}
		err = c.Auth(xoauth2Client{user: h.user, token: tok})
		var se *smtp.SMTPError
		if errors.As(err, &se) && se.Code == 535 {
			// The token may have been revoked or rotated before its
			// expiry: one fresh token, then the refusal stands.
			d.log.Info("upstream refused the access token; fetching a new one", "host", h.host, "user", h.user, "reply", err)
			if tok, err = r.Tokens.Refresh(ctx, tok); err != nil {
				return &authError{err}
			}
			err = c.Auth(xoauth2Client{user: h.user, token: tok})
		}
		if err != nil {
			return &authError{fmt.Errorf("AUTH XOAUTH2 as %s: %w", h.user, upstreamReply{err})}
		}
	}
	return nil
}

// upstreamReply words an upstream's refusal as its reply, code and
// enhanced code first ("upstream replied 535 5.7.3 Authentication
// unsuccessful"), for the trace; other errors as they are.
type upstreamReply struct{ err error }

func (u upstreamReply) Error() string {
	var se *smtp.SMTPError
	if !errors.As(u.err, &se) {
		return u.err.Error()
	}
	r := replyResult("", se)
	return "upstream replied " + r.Reply()
}

func (u upstreamReply) Unwrap() error { return u.err }

// authResult words a failed login as a transient result naming the
// upstream's reply (RFC 4954 §6: 454 4.7.0, temporary authentication
// failure).
func authResult(h hop, err error) queue.Result {
	return queue.Result{Status: queue.Transient, Code: 454, Enhanced: "4.7.0",
		Text: fmt.Sprintf("%s:%d: %v; retried", h.host, h.port, err), Remote: h.host}
}

// isLoopback reports whether host is "localhost" or a loopback address:
// clear text to it never leaves the machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// xoauth2Client is the client side of SASL XOAUTH2, as Google and
// Microsoft define it (go-sasl has none): one initial response,
// "user=U\x01auth=Bearer T\x01\x01"; to a refusal the server sends a 334
// with a JSON error, and the client answers with an empty line to get the
// final reply.
type xoauth2Client struct{ user, token string }

// Start implements sasl.Client.
func (c xoauth2Client) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + c.user + "\x01auth=Bearer " + c.token + "\x01\x01"), nil
}

// Next implements sasl.Client.
func (c xoauth2Client) Next([]byte) ([]byte, error) { return []byte{}, nil }

var _ sasl.Client = xoauth2Client{}
