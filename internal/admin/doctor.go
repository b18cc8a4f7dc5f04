package admin

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"time"

	"mailroom/internal/address"
	"mailroom/internal/config"
	"mailroom/internal/dnscheck"
	"mailroom/internal/store"
)

// DefaultDoctorTimeout bounds one doctor run, every DNS lookup and the
// certificate check together, unless Service.DoctorTimeout says otherwise.
const DefaultDoctorTimeout = 20 * time.Second

// CheckDomain runs Doctor for a domain with the Service's DNS resolver and
// doctor options (the console's "Check DNS"); without a resolver it
// refuses.
func (s *Service) CheckDomain(ctx context.Context, domain string) ([]dnscheck.Check, error) {
	if s.DNS == nil {
		return nil, fmt.Errorf("%w: no DNS resolver is configured for the doctor", ErrInvalid)
	}
	return s.Doctor(ctx, s.DNS, domain, s.DoctorOptions)
}

// DoctorOptions is what the doctor needs of the configuration.
type DoctorOptions struct {
	// Hostname is this server's name (hostname).
	Hostname string
	// Upstream is the host that carries every remote recipient (a "*"
	// route, else the smarthost), "" when mailroom delivers by MX.
	Upstream string
	// Postmaster is delivery.postmaster: where DMARC reports are proposed
	// to go.
	Postmaster string
	// TLSListen is submission.listen_tls, where the served certificate is
	// fetched (an empty or unspecified host is this machine); "" skips
	// the certificate check.
	TLSListen string
	// CertNames are the names besides Hostname the certificate must cover
	// (tls.acme_names).
	CertNames []string
	// Roots the certificate should chain to; nil is the system's roots.
	Roots *x509.CertPool
}

// DoctorOptionsOf reads DoctorOptions from a configuration.
func DoctorOptionsOf(c config.Config) DoctorOptions {
	o := DoctorOptions{Hostname: c.Hostname, Postmaster: c.Delivery.Postmaster, TLSListen: c.Submission.ListenTLS}
	if c.TLS.ACME {
		o.CertNames = c.ACMEDomains()[1:]
	}
	up := c.Delivery.Smarthost
	for _, r := range c.Delivery.Routes {
		if len(r.Domains) > 0 && r.Domains[0] == "*" {
			up = r.Host
		}
	}
	if h, _, err := net.SplitHostPort(up); err == nil {
		o.Upstream = h
	}
	return o
}

// Doctor checks a domain's DNS records against what this server needs:
// its MX, SPF naming the host mail leaves from, a record for each DKIM
// key in the store, and DMARC with reports to an address that receives
// mail; then the certificate the server presents on its implicit-TLS port:
// its names and expiry. The domain need not be served here (then there are
// no keys).
//
// The whole run ends within s.DoctorTimeout (DefaultDoctorTimeout when
// 0): a DNS server that does not answer makes those checks fail, and the
// caller (a console page) does not wait for ever.
func (s *Service) Doctor(ctx context.Context, r dnscheck.Resolver, domain string, o DoctorOptions) ([]dnscheck.Check, error) {
	limit := s.DoctorTimeout
	if limit <= 0 {
		limit = DefaultDoctorTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	d, err := address.Domain(domain)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	recs, err := s.DKIMRecords(ctx, d)
	if err != nil {
		return nil, err
	}
	e := dnscheck.Expect{Domain: d, Hostname: o.Hostname, Upstream: o.Upstream, Reports: o.Postmaster}
	if e.Relay, err = s.relayDomain(ctx, d); err != nil {
		return nil, err
	}
	for _, rec := range recs {
		e.DKIM = append(e.DKIM, dnscheck.DKIMKey{Selector: rec.Selector, Record: rec.Value})
	}
	if e.Reports == "" {
		// postmaster@ of a domain served here reaches its oldest mailbox;
		// one with no mailbox (or not served) receives nothing here.
		mbs, err := s.st.Mailboxes(ctx, d)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if len(mbs) > 0 {
			e.Reports = "postmaster@" + d
		}
	}
	checks := dnscheck.Run(ctx, r, e)
	if o.TLSListen != "" {
		names := append([]string{o.Hostname}, o.CertNames...)
		checks = append(checks, dnscheck.ServedCertificate(ctx, localAddr(o.TLSListen), names, o.Roots, time.Now()))
	}
	return checks, nil
}

// relayDomain reports whether d is served here as a relay domain (its MX
// names the upstream, not this server).
func (s *Service) relayDomain(ctx context.Context, d string) (bool, error) {
	ds, err := s.st.Domains(ctx)
	if err != nil {
		return false, err
	}
	for _, dom := range ds {
		if dom.Name == d {
			return dom.Role == store.DomainRelay, nil
		}
	}
	return false, nil
}

func localAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	switch ip := net.ParseIP(host); {
	case host == "" || ip != nil && ip.Equal(net.IPv4zero):
		host = "127.0.0.1"
	case ip != nil && ip.Equal(net.IPv6unspecified):
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}
