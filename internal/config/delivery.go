package config

import (
	"fmt"
	"net"
	"strings"
	"time"
)

// Delivery configures outbound delivery: the queue's retry schedule and
// notices, and how remote recipients are reached.
type Delivery struct {
	// Smarthost, "host:port", sends all remote mail through that relay
	// instead of looking up each domain's MX. Default "" (deliver by MX).
	Smarthost string `toml:"smarthost"`
	// SmarthostUsername and SmarthostPassword log in to the smarthost
	// (AUTH PLAIN) when the username is set. Default "" (no AUTH).
	SmarthostUsername string `toml:"smarthost_username"`
	SmarthostPassword string `toml:"smarthost_password"`
	// SmarthostTLS is "starttls" (required, certificate verified),
	// "implicit" (TLS from the first byte, as on port 465, verified) or
	// "none" (plain text; not allowed with a username). Default "starttls".
	SmarthostTLS string `toml:"smarthost_tls"`
	// Routes are the ordered [[delivery.routes]]: each carries some
	// recipient domains (a relay domain's, or any remote ones) to one
	// upstream; the smarthost (or MX) carries what no route names. At
	// most 100. Default none.
	Routes []Route `toml:"routes"`

	// Postmaster, an address such as "it@example.com", receives a copy of
	// every DSN that reports a failed recipient, and the mail to
	// postmaster@ of every served domain that has no mailbox or alias of
	// that name (RFC 5321 §4.5.1 requires every domain to accept it; it
	// must then be a mailbox or alias of a hosted domain). "" sends no
	// copies, and each domain's postmaster@ goes to its oldest mailbox
	// (a domain with none refuses it). Default "".
	Postmaster string `toml:"postmaster"`

	// Resolver, "host:port", sends DNS queries (MX, A/AAAA, TXT) to that
	// server. Default "": the servers of /etc/resolv.conf.
	Resolver string `toml:"resolver"`
	// MXPort is the port remote MX hosts are reached on. Default 25; tests
	// point it at receiving servers on loopback.
	MXPort int `toml:"mx_port"`
	// RequireTLS refuses to deliver by MX without STARTTLS and a
	// certificate valid for the MX host name (a failure is retried).
	// Default false: STARTTLS whenever offered, certificate not verified
	// (opportunistic TLS, RFC 7435).
	RequireTLS bool `toml:"require_tls"`
	// TLSCAFile is a PEM file of certificates trusted, besides the system
	// roots, when a certificate is verified (smarthost, require_tls).
	// Default "".
	TLSCAFile string `toml:"tls_ca_file"`

	// RetrySchedule is the wait after each transient failure: the first
	// retry waits the first value, and so on; the last value repeats.
	// Default ["1m", "5m", "15m", "30m", "1h", "2h", "4h"].
	RetrySchedule []Duration `toml:"retry_schedule"`
	// MaxAge is how long a message is retried before its remaining
	// recipients fail with a DSN. Default "48h".
	MaxAge Duration `toml:"max_age"`
	// DelayNotice sends the sender one delay notice (a DSN with
	// Action: delayed) when a recipient is still not delivered this long
	// after acceptance; "0s" sends none. Default "4h".
	DelayNotice Duration `toml:"delay_notice"`
	// Workers bounds the delivery attempts in progress at once. Default 16.
	Workers int `toml:"workers"`
	// DestinationConnections bounds the simultaneous connections to one
	// destination (a recipient domain, or the smarthost). Default 4.
	DestinationConnections int `toml:"destination_connections"`
	// AttemptTimeout bounds one attempt to one destination (all its MX
	// hosts); a worker that dies holds its recipients for AttemptTimeout
	// plus a minute before they are tried again. Default "20m".
	AttemptTimeout Duration `toml:"attempt_timeout"`
	// QueuePoll is how often the queue looks for due rows it was not told
	// about (retries made by `mailroom queue retry` from another process).
	// Mail accepted by this server is attempted at once. Default "1s".
	QueuePoll Duration `toml:"queue_poll"`
}

// SmarthostTLS modes.
const (
	TLSStartTLS = "starttls"
	TLSImplicit = "implicit"
	TLSNone     = "none"
)

// DefaultDelivery returns the [delivery] defaults.
func DefaultDelivery() Delivery {
	sched := []Duration{}
	for _, d := range []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour} {
		sched = append(sched, Duration(d))
	}
	return Delivery{
		SmarthostTLS:           TLSStartTLS,
		MXPort:                 25,
		RetrySchedule:          sched,
		MaxAge:                 Duration(48 * time.Hour),
		DelayNotice:            Duration(4 * time.Hour),
		Workers:                16,
		DestinationConnections: 4,
		AttemptTimeout:         Duration(20 * time.Minute),
		QueuePoll:              Duration(time.Second),
	}
}

func (d *Delivery) validate() error {
	for key, addr := range map[string]string{"delivery.smarthost": d.Smarthost, "delivery.resolver": d.Resolver} {
		if addr == "" {
			continue
		}
		if h, p, err := net.SplitHostPort(addr); err != nil || h == "" || p == "" {
			return &FieldError{key, fmt.Sprintf("%q", addr), "want host:port, e.g. \"relay.example.com:587\""}
		}
	}
	if err := d.validateRoutes(); err != nil {
		return err
	}
	if err := validPostmaster(d.Postmaster); err != nil {
		return err
	}
	switch d.SmarthostTLS {
	case TLSStartTLS, TLSImplicit:
	case TLSNone:
		if d.SmarthostUsername != "" {
			return &FieldError{"delivery.smarthost_tls", `"none"`, "the smarthost password would cross the network in clear text; use \"starttls\" or \"implicit\""}
		}
	default:
		return &FieldError{"delivery.smarthost_tls", d.SmarthostTLS, "want starttls, implicit or none"}
	}
	if d.MXPort < 1 || d.MXPort > 65535 {
		return &FieldError{"delivery.mx_port", d.MXPort, "want a port number, 25 for the Internet"}
	}
	if len(d.RetrySchedule) == 0 {
		return &FieldError{"delivery.retry_schedule", "[]", "want at least one wait, e.g. [\"1m\", \"5m\", \"1h\"]"}
	}
	for _, w := range d.RetrySchedule {
		if w <= 0 {
			return &FieldError{"delivery.retry_schedule", w.Std(), "every wait must be positive"}
		}
	}
	for key, v := range map[string]Duration{"delivery.max_age": d.MaxAge, "delivery.attempt_timeout": d.AttemptTimeout, "delivery.queue_poll": d.QueuePoll} {
		if v <= 0 {
			return &FieldError{key, v.Std(), "must be positive"}
		}
	}
	if d.DelayNotice < 0 {
		return &FieldError{"delivery.delay_notice", d.DelayNotice.Std(), "must be positive, or \"0s\" for no delay notices"}
	}
	if d.Workers < 1 {
		return &FieldError{"delivery.workers", d.Workers, "must be at least 1"}
	}
	if d.DestinationConnections < 1 {
		return &FieldError{"delivery.destination_connections", d.DestinationConnections, "must be at least 1"}
	}
	return nil
}

// validateRoutes checks every route and that each can carry something: a
// domain named by an earlier route, or any route after a "*" one, would
// never be used.
func (d *Delivery) validateRoutes() error {
	if len(d.Routes) > maxRoutes {
		return &FieldError{"delivery.routes", len(d.Routes), fmt.Sprintf("at most %d routes", maxRoutes)}
	}
	seen := map[string]int{}
	for i := range d.Routes {
		if err := d.Routes[i].validate(i); err != nil {
			return err
		}
		if j, ok := seen["*"]; ok {
			return &FieldError{fmt.Sprintf("delivery.routes[%d]", i), d.Routes[i].Host, fmt.Sprintf("never used: delivery.routes[%d] carries every remote domain (\"*\"); move it last", j)}
		}
		for _, dom := range d.Routes[i].Domains {
			if j, ok := seen[dom]; ok {
				return &FieldError{fmt.Sprintf("delivery.routes[%d].domains", i), fmt.Sprintf("%q", dom), fmt.Sprintf("already carried by delivery.routes[%d]; name each domain once", j)}
			}
			seen[dom] = i
		}
	}
	return nil
}

// validPostmaster checks the shape of delivery.postmaster; the directory
// normalizes it and logs when it names no local mailbox (config imports
// no mailroom package).
func validPostmaster(pm string) error {
	if pm == "" {
		return nil
	}
	at := strings.LastIndexByte(pm, '@')
	if at <= 0 || at == len(pm)-1 || len(pm) > maxAddress || strings.ContainsFunc(pm, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return &FieldError{"delivery.postmaster", fmt.Sprintf("%q", pm), `want an address such as "it@example.com", or "" for no DSN copies (postmaster@ then goes to each domain's oldest mailbox)`}
	}
	return nil
}
