package admin

import (
	"context"

	"fmt"
	"mailroom/internal/address"
	"mailroom/internal/dnscheck"
)

// Doctor checks a domain's DNS records against what this server needs:
// its MX, SPF naming hostname, a record for each DKIM key in the store,
// and DMARC. The domain need not be served here (then there are no keys).
func (s *Service) Doctor(ctx context.Context, r dnscheck.Resolver, domain, hostname string) ([]dnscheck.Check, error) {
	d, err := address.Domain(domain)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	recs, err := s.DKIMRecords(ctx, d)
	if err != nil {
		return nil, err
	}
	e := dnscheck.Expect{Domain: d, Hostname: hostname}
	for _, rec := range recs {
		e.DKIM = append(e.DKIM, dnscheck.DKIMKey{Selector: rec.Selector, Record: rec.Value})
	}
	return dnscheck.Run(ctx, r, e), nil
}
