package config

import (
	"fmt"
	"net/netip"
)

// maxProxyFrom bounds submission.proxy_from: a few balancers' addresses
// or networks, never a list of clients.
const maxProxyFrom = 256

// validProxyFrom checks submission.proxy_from: each entry a CIDR prefix
// with no host bits set, or a single address; none covering every
// address, which would let any client choose the address it is seen
// from.
func validProxyFrom(list []string) error {
	const key = "submission.proxy_from"
	if len(list) > maxProxyFrom {
		return &FieldError{key, fmt.Sprintf("(%d entries)", len(list)), fmt.Sprintf("want at most %d load balancer addresses or networks", maxProxyFrom)}
	}
	for _, s := range list {
		p, err := parseProxyFrom(s)
		if err != nil {
			return &FieldError{key, fmt.Sprintf("%q", s), `want a network such as "10.0.0.0/8" or an address such as "10.0.0.5"`}
		}
		if p.Masked() != p {
			return &FieldError{key, fmt.Sprintf("%q", s), fmt.Sprintf("host bits set: want the network %q, or the single address %q", p.Masked(), netip.PrefixFrom(p.Addr(), p.Addr().BitLen()))}
		}
		if p.Bits() == 0 {
			return &FieldError{key, fmt.Sprintf("%q", s), "covers every address, so any client could claim any address: list the load balancers' addresses only"}
		}
	}
	return nil
}

// ProxyPrefixes returns submission.proxy_from as prefixes (a single
// address as a /32 or /128). The list must have passed Validate.
func (s Submission) ProxyPrefixes() []netip.Prefix {
	out := make([]netip.Prefix, 0, len(s.ProxyFrom))
	for _, e := range s.ProxyFrom {
		if p, err := parseProxyFrom(e); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// parseProxyFrom reads one proxy_from entry, an IPv4-mapped IPv6 entry
// as its IPv4 form (as the peer addresses it is matched against).
func parseProxyFrom(s string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("zone in %q", s)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("parse %q: %w", s, err)
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p, nil
}
