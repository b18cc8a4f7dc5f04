// Package resolver owns mailroom's DNS questions: the MX, A/AAAA and TXT
// lookups of delivery and `doctor`, sent to the system's name servers or to
// one configured server (delivery.resolver), with the answers that mail
// routing must tell apart kept apart: a name that does not exist
// (NXDOMAIN, permanent), a name without records of the type (NODATA, not
// an error), and a server that could not answer (temporary).
//
// It uses github.com/miekg/dns rather than net.Resolver because routing
// needs the response code: net folds NXDOMAIN and NODATA into one
// "not found".
package resolver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// ErrNXDomain is returned when the name does not exist.
var ErrNXDomain = errors.New("domain does not exist (NXDOMAIN)")

// ErrTemporary is wrapped by errors that may go away on a retry: timeouts,
// SERVFAIL, unreachable servers.
var ErrTemporary = errors.New("temporary DNS failure")

// resolvConf is read when no server is configured.
const resolvConf = "/etc/resolv.conf"

// Resolver sends DNS queries. It is safe for concurrent use.
type Resolver struct {
	servers []string
	// Timeout bounds one query to one server. Default 5s.
	Timeout time.Duration
}

// New returns a Resolver that asks server ("host:port"), or the name
// servers of /etc/resolv.conf when server is "".
func New(server string) (*Resolver, error) {
	if server != "" {
		return &Resolver{servers: []string{server}, Timeout: 5 * time.Second}, nil
	}
	cc, err := dns.ClientConfigFromFile(resolvConf)
	if err != nil || len(cc.Servers) == 0 {
		return nil, fmt.Errorf("read name servers from %s: %v (set delivery.resolver)", resolvConf, err)
	}
	r := &Resolver{Timeout: 5 * time.Second}
	for _, s := range cc.Servers {
		r.servers = append(r.servers, net.JoinHostPort(s, cc.Port))
	}
	return r, nil
}

// MX is one mail exchanger of a domain.
type MX struct {
	Host string // without the trailing dot; "." for a null MX (RFC 7505)
	Pref uint16
}

// MX returns the MX records of domain by preference (lowest first). A
// domain without MX records returns none and no error.
func (r *Resolver) MX(ctx context.Context, domain string) ([]MX, error) {
	rrs, err := r.query(ctx, domain, dns.TypeMX)
	if err != nil {
		return nil, err
	}
	var out []MX
	for _, rr := range rrs {
		if mx, ok := rr.(*dns.MX); ok {
			host := strings.TrimSuffix(mx.Mx, ".")
			if host == "" {
				host = "."
			}
			out = append(out, MX{Host: strings.ToLower(host), Pref: mx.Preference})
		}
	}
	slices.SortStableFunc(out, func(a, b MX) int { return int(a.Pref) - int(b.Pref) })
	return out, nil
}

// IPs returns the IPv4 and IPv6 addresses of host, IPv4 first.
func (r *Resolver) IPs(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, nil
	}
	var out []netip.Addr
	var errs []error
	nx := 0
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		rrs, err := r.query(ctx, host, t)
		if errors.Is(err, ErrNXDomain) {
			nx++
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, rr := range rrs {
			switch v := rr.(type) {
			case *dns.A:
				if ip, ok := netip.AddrFromSlice(v.A.To4()); ok {
					out = append(out, ip)
				}
			case *dns.AAAA:
				if ip, ok := netip.AddrFromSlice(v.AAAA); ok {
					out = append(out, ip)
				}
			}
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	if len(errs) > 0 {
		return nil, errs[0]
	}
	if nx == 2 {
		return nil, fmt.Errorf("address of %s: %w", host, ErrNXDomain)
	}
	return nil, nil
}

// TXT returns the TXT records of name, each record's strings joined.
func (r *Resolver) TXT(ctx context.Context, name string) ([]string, error) {
	rrs, err := r.query(ctx, name, dns.TypeTXT)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, rr := range rrs {
		if t, ok := rr.(*dns.TXT); ok {
			out = append(out, strings.Join(t.Txt, ""))
		}
	}
	return out, nil
}

// query asks each server in turn until one answers, and returns the
// answer's records of type qtype (CNAMEs on the way are followed by the
// recursive server and skipped here).
func (r *Resolver) query(ctx context.Context, name string, qtype uint16) ([]dns.RR, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = true
	m.SetEdns0(4096, false)
	what := dns.TypeToString[qtype] + " " + name
	var last error
	for _, srv := range r.servers {
		resp, err := r.exchange(ctx, m, srv)
		if err != nil {
			last = err
			continue
		}
		switch resp.Rcode {
		case dns.RcodeSuccess:
			var out []dns.RR
			for _, rr := range resp.Answer {
				if rr.Header().Rrtype == qtype {
					out = append(out, rr)
				}
			}
			return out, nil
		case dns.RcodeNameError:
			return nil, fmt.Errorf("%s: %w", what, ErrNXDomain)
		default:
			last = fmt.Errorf("server %s answered %s", srv, dns.RcodeToString[resp.Rcode])
		}
	}
	return nil, fmt.Errorf("%s: %w: %v", what, ErrTemporary, last)
}

// exchange sends m over UDP and repeats it over TCP when the answer was
// truncated. Ending ctx ends the wait (miekg/dns only heeds its deadline).
func (r *Resolver) exchange(ctx context.Context, m *dns.Msg, server string) (*dns.Msg, error) {
	resp, err := r.exchangeNet(ctx, m, server, "udp")
	if err == nil && resp.Truncated {
		resp, err = r.exchangeNet(ctx, m, server, "tcp")
	}
	return resp, err
}

func (r *Resolver) exchangeNet(ctx context.Context, m *dns.Msg, server, network string) (*dns.Msg, error) {
	c := &dns.Client{Net: network, Timeout: r.Timeout, UDPSize: 4096}
	co, err := c.DialContext(ctx, server)
	if err != nil {
		return nil, err
	}
	defer co.Close()
	stop := context.AfterFunc(ctx, func() { co.Close() })
	defer stop()
	resp, _, err := c.ExchangeWithConnContext(ctx, m, co)
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return resp, err
}
