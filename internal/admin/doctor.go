package admin

import (
	"context"
	"errors"
	"fmt"
	"net"

	"mailroom/internal/address"
	"mailroom/internal/config"
	"mailroom/internal/dnscheck"
	"mailroom/internal/store"
)

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
}

// DoctorOptionsOf reads DoctorOptions from a configuration.
func DoctorOptionsOf(c config.Config) DoctorOptions {
	o := DoctorOptions{Hostname: c.Hostname, Postmaster: c.Delivery.Postmaster}
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
// mail. The domain need not be served here (then there are no keys).
func (s *Service) Doctor(ctx context.Context, r dnscheck.Resolver, domain string, o DoctorOptions) ([]dnscheck.Check, error) {
	d, err := address.Domain(domain)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	recs, err := s.DKIMRecords(ctx, d)
	if err != nil {
		return nil, err
	}
	e := dnscheck.Expect{Domain: d, Hostname: o.Hostname, Upstream: o.Upstream, Reports: o.Postmaster}
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
	return dnscheck.Run(ctx, r, e), nil
}
