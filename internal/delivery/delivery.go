// Package delivery owns one delivery attempt of one message to the
// recipients of one domain: into local Inboxes when the domain is served
// here, else over SMTP to the domain's MX hosts (or the configured
// smarthost), with STARTTLS, DKIM signing of the From: domain, reused
// connections and a cap on connections per destination. It reports a
// queue.Result per recipient and leaves retries to package queue.
//
// Remote routing follows RFC 5321 §5.1: MX hosts by preference, the
// domain's own A/AAAA when it has no MX, and an immediate permanent failure
// for a domain that does not exist or publishes a null MX (RFC 7505).
// Connection-level failures (refused, greeting or EHLO refused, TLS
// required but not possible) move on to the next address and host; a reply
// to MAIL, RCPT or DATA decides the recipients it concerns.
package delivery

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"mailroom/internal/blob"
	"mailroom/internal/directory"
	"mailroom/internal/message"
	"mailroom/internal/queue"
	"mailroom/internal/resolver"
	"mailroom/internal/store"
)

// TLS modes of a connection.
const (
	TLSOpportunistic = "opportunistic" // STARTTLS when offered, not verified
	TLSRequired      = "required"      // STARTTLS, verified
	TLSImplicit      = "implicit"      // TLS from the first byte, verified
	TLSNone          = "none"          // never
)

// Options are the dependencies and settings of a Deliverer.
type Options struct {
	// Hostname is said in EHLO.
	Hostname  string
	Directory *directory.Directory
	Blobs     blob.Store
	Keys      store.DKIMKeys
	Resolver  *resolver.Resolver
	Log       *slog.Logger

	// Smarthost, "host:port", receives all remote mail when set, in
	// SmarthostTLS mode (TLSRequired, TLSImplicit or TLSNone), logging in
	// with SmarthostUsername/SmarthostPassword when the username is set.
	Smarthost         string
	SmarthostTLS      string
	SmarthostUsername string
	SmarthostPassword string
	// Routes carry the recipients of the domains they name to their
	// upstream ([[delivery.routes]]), in order; the smarthost is a last
	// route for every domain, and MX serves what none carries.
	Routes []Route
	// Postmaster is delivery.postmaster: the user= of an XOAUTH2 login
	// for a notice (which has no sender) on a route without a username.
	Postmaster string

	// MXPort is the port of MX hosts. Default 25.
	MXPort int
	// RequireTLS insists on verified STARTTLS with MX hosts.
	RequireTLS bool
	// RootCAs verifies certificates; nil means the system roots.
	RootCAs *x509.CertPool

	// DestinationConnections caps the connections open to one destination
	// (a recipient domain, or the smarthost). Default 4.
	DestinationConnections int
	// DialTimeout bounds a TCP connect. Default 30s.
	DialTimeout time.Duration
	// CommandTimeout bounds the wait for a reply (RFC 5321 §4.5.3.2
	// recommends 5 minutes). Default 5m.
	CommandTimeout time.Duration
	// DataTimeout bounds the wait for the reply to the final dot (RFC 5321
	// §4.5.3.2.6: 10 minutes). Default 10m.
	DataTimeout time.Duration
	// WriteTimeout bounds one write of the message (RFC 5321 §4.5.3.2.5:
	// 3 minutes per data block). Default 3m.
	WriteTimeout time.Duration
	// IdleTimeout is how long a connection waits for the next message to
	// its destination before QUIT. Default 30s.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the header read from a stored message to sign
	// it ([submission] max_header_bytes). A message whose header is longer
	// fails permanently (552 5.3.4): it cannot shrink on a retry, and sent
	// unsigned it would fail its domain's DMARC. Default
	// message.DefaultMaxHeaderBytes.
	MaxHeaderBytes int
}

// Deliverer implements queue.Deliverer.
type Deliverer struct {
	o      Options
	log    *slog.Logger
	dests  *destinations
	routes []Route // Options.Routes, then the smarthost
}

var _ queue.Deliverer = (*Deliverer)(nil)

// New returns a Deliverer. Close it to end its idle connections.
func New(o Options) *Deliverer {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.MXPort == 0 {
		o.MXPort = 25
	}
	if o.DestinationConnections <= 0 {
		o.DestinationConnections = 4
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 30 * time.Second
	}
	if o.CommandTimeout <= 0 {
		o.CommandTimeout = 5 * time.Minute
	}
	if o.DataTimeout <= 0 {
		o.DataTimeout = 10 * time.Minute
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 3 * time.Minute
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 30 * time.Second
	}
	if o.SmarthostTLS == "" {
		o.SmarthostTLS = TLSRequired
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = message.DefaultMaxHeaderBytes
	}
	d := &Deliverer{o: o, log: o.Log, routes: o.Routes}
	if o.Smarthost != "" {
		sh := Route{Domains: []string{"*"}, Host: o.Smarthost, TLS: o.SmarthostTLS, Auth: AuthNone}
		if o.SmarthostUsername != "" {
			sh.Auth, sh.Username, sh.Password = AuthPlain, o.SmarthostUsername, o.SmarthostPassword
		}
		d.routes = append(d.routes, sh)
	}
	d.dests = newDestinations(o.DestinationConnections, o.IdleTimeout, o.Log)
	return d
}

// Close ends idle connections (QUIT). Attempts in progress are not
// affected; their context ends them.
func (d *Deliverer) Close() { d.dests.closeIdle() }

// Deliver makes one attempt for rcpts of domain.
func (d *Deliverer) Deliver(ctx context.Context, env queue.Envelope, domain string, rcpts []string) []queue.Result {
	// A relay domain's mail lives upstream: remote, by its route.
	if d.o.Directory != nil && d.o.Directory.Snapshot().Hosts(domain) {
		return d.local(env, rcpts)
	}
	return d.remote(ctx, env, domain, rcpts)
}

// hop is one host to try, with how to talk to it.
type hop struct {
	host string // name for TLS verification and logs
	port int
	tls  string
	// route is the route the hop belongs to (nil for an MX host); user is
	// the user= of its XOAUTH2 login.
	route *Route
	user  string
}

// route returns the destination key and the hops for domain: the first
// route that carries it, else its MX hosts; or results that settle every
// recipient at once (NXDOMAIN, null MX, DNS failure).
func (d *Deliverer) route(ctx context.Context, env queue.Envelope, domain string, rcpts []string) (string, []hop, *queue.Result) {
	if i := SelectRoute(d.routes, domain); i >= 0 {
		key, h := d.routeHop(i, env, rcpts)
		return key, []hop{h}, nil
	}
	mode := TLSOpportunistic
	if d.o.RequireTLS {
		mode = TLSRequired
	}
	mxs, err := d.o.Resolver.MX(ctx, domain)
	switch {
	case errors.Is(err, resolver.ErrNXDomain):
		return "", nil, &queue.Result{Status: queue.Permanent, Code: 550, Enhanced: "5.1.2", Text: "domain " + domain + " does not exist (DNS NXDOMAIN)"}
	case err != nil:
		return "", nil, &queue.Result{Status: queue.Transient, Code: 451, Enhanced: "4.4.3", Text: "DNS lookup of MX for " + domain + " failed: " + err.Error()}
	}
	if len(mxs) == 1 && mxs[0].Host == "." {
		return "", nil, &queue.Result{Status: queue.Permanent, Code: 556, Enhanced: "5.1.10", Text: "domain " + domain + " accepts no mail (null MX, RFC 7505)"}
	}
	var hops []hop
	for _, mx := range mxs {
		if mx.Host != "." {
			hops = append(hops, hop{host: mx.Host, port: d.o.MXPort, tls: mode})
		}
	}
	switch {
	case len(mxs) == 0:
		// RFC 5321 §5.1: no MX, the domain is its own mail host.
		hops = []hop{{host: domain, port: d.o.MXPort, tls: mode}}
	case len(hops) == 0:
		// Several records, all ".": a malformed null MX, read as one.
		return "", nil, &queue.Result{Status: queue.Permanent, Code: 556, Enhanced: "5.1.10", Text: "domain " + domain + " accepts no mail (null MX, RFC 7505)"}
	}
	return "domain " + domain, hops, nil
}

// tlsConfig returns the client TLS configuration for host in mode.
func (d *Deliverer) tlsConfig(host, mode string) *tls.Config {
	c := &tls.Config{ServerName: host, RootCAs: d.o.RootCAs, MinVersion: tls.VersionTLS12}
	if mode == TLSOpportunistic {
		// RFC 7435: encrypt when possible, do not authenticate; a failed
		// verification would only push the mail to plain text.
		c.InsecureSkipVerify = true
		c.MinVersion = tls.VersionTLS10
	}
	return c
}

// settle fills every recipient without a result with r.
func settle(out []queue.Result, done []bool, r queue.Result) {
	for i := range out {
		if !done[i] {
			out[i] = r
			done[i] = true
		}
	}
}

// connError words a failure to reach or talk to a host as a transient
// result.
func connError(h hop, err error) queue.Result {
	var ae *authError
	if errors.As(err, &ae) {
		return authResult(h, err)
	}
	return queue.Result{Status: queue.Transient, Code: 451, Enhanced: "4.4.1", Text: fmt.Sprintf("%s:%d: %v", h.host, h.port, err), Remote: h.host}
}

// remote delivers over SMTP: an idle connection to the destination if
// there is one, else a new one through the hops in order. Results of a
// route's hops (the smarthost's too) are marked Upstream.
func (d *Deliverer) remote(ctx context.Context, env queue.Envelope, domain string, rcpts []string) []queue.Result {
	key, hops, settled := d.route(ctx, env, domain, rcpts)
	if settled != nil {
		out := make([]queue.Result, len(rcpts))
		settle(out, make([]bool, len(rcpts)), *settled)
		return out
	}
	out := d.send(ctx, env, key, hops, rcpts)
	if len(hops) > 0 && hops[0].route != nil {
		for i := range out {
			out[i].Upstream = true
		}
	}
	return out
}

// send delivers to the destination key through hops.
func (d *Deliverer) send(ctx context.Context, env queue.Envelope, key string, hops []hop, rcpts []string) []queue.Result {
	out := make([]queue.Result, len(rcpts))
	done := make([]bool, len(rcpts))
	msg, err := d.prepare(ctx, env)
	if errors.Is(err, message.ErrHeaderTooLarge) {
		d.log.Warn("message header over the bound; not sent", "queue_id", env.QueueID, "max_header_bytes", d.o.MaxHeaderBytes)
		settle(out, done, queue.Result{Status: queue.Permanent, Code: 552, Enhanced: "5.3.4",
			Text: fmt.Sprintf("message header is over %d bytes (max_header_bytes); not sent", d.o.MaxHeaderBytes)})
		return out
	}
	if err != nil {
		d.log.Error("prepare message for delivery", "queue_id", env.QueueID, "err", err)
		settle(out, done, queue.Result{Status: queue.Transient, Code: 451, Enhanced: "4.3.0", Text: "local error reading the message: " + err.Error()})
		return out
	}
	for try := 0; try < 2; try++ {
		c, err := d.dests.acquire(ctx, key)
		if err != nil {
			settle(out, done, queue.Result{Status: queue.Transient, Code: 451, Enhanced: "4.4.1", Text: "interrupted waiting for a connection to " + key})
			return out
		}
		reused := c != nil
		if c == nil {
			var last queue.Result
			for _, h := range hops {
				if c, err = d.dial(ctx, h); err == nil {
					break
				}
				last = connError(h, err)
				if h.route != nil {
					// mailroom's own upstream: nothing leaves for its
					// domains until an administrator looks.
					d.log.Warn("upstream unreachable or refused the login; mail for its domains waits in the queue",
						"queue_id", env.QueueID, "host", h.host, "port", h.port, "domains", strings.Join(h.route.Domains, ","), "err", err)
				} else {
					d.log.Info("smtp connect failed", "queue_id", env.QueueID, "host", h.host, "err", err)
				}
				if ctx.Err() != nil {
					break
				}
			}
			if c == nil {
				d.dests.release(key)
				settle(out, done, last)
				return out
			}
		}
		stop := context.AfterFunc(ctx, func() { c.raw.Close() })
		healthy, stale := d.transact(c, env, msg, rcpts, out, done)
		if !stop() {
			healthy = false
		}
		if healthy {
			d.dests.put(key, c)
		} else {
			c.raw.Close()
			d.dests.release(key)
		}
		if stale && reused {
			// An idle connection the server had closed: dial afresh.
			continue
		}
		if stale {
			settle(out, done, queue.Result{Status: queue.Transient, Code: 451, Enhanced: "4.4.2", Text: "connection to " + c.host + " lost before MAIL FROM was answered", Remote: c.host})
		}
		break
	}
	settle(out, done, queue.Result{Status: queue.Transient, Code: 451, Enhanced: "4.4.2", Text: "no reply for this recipient"})
	return out
}
