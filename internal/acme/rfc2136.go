package acme

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

// RFC2136 is a libdns provider that adds and removes TXT records (the
// dns-01 challenge's _acme-challenge records) by DNS dynamic UPDATE (RFC
// 2136) sent to one primary server over TCP, signed with TSIG
// (hmac-sha256, RFC 8945) when a key is set. It is what certmagic's
// DNS01Solver calls.
type RFC2136 struct {
	// Server is the primary's host:port.
	Server string
	// Zone is the zone updated ("example.com."); "" is the zone
	// certmagic found by asking the resolvers for the name's SOA.
	Zone string
	// TSIGName and TSIGSecret (base64) sign each UPDATE; "" for none.
	TSIGName   string
	TSIGSecret string
	// Timeout bounds one exchange; 0 is 10 s.
	Timeout time.Duration
}

// maxTXT bounds one TXT value added: a key authorization digest is 43
// octets.
const maxTXT = 4096

// AppendRecords adds each TXT record to the zone; other types are
// refused.
func (p *RFC2136) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	zone, rrs, err := p.txts(zone, recs)
	if err != nil {
		return nil, err
	}
	m := new(dns.Msg)
	m.SetUpdate(zone)
	m.Insert(rrs)
	if err := p.exchange(ctx, m); err != nil {
		return nil, fmt.Errorf("rfc2136: add %d records to %s: %w", len(rrs), zone, err)
	}
	return txtResults(recs), nil
}

// DeleteRecords removes each TXT record (name and value) from the zone.
func (p *RFC2136) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	zone, rrs, err := p.txts(zone, recs)
	if err != nil {
		return nil, err
	}
	m := new(dns.Msg)
	m.SetUpdate(zone)
	m.Remove(rrs)
	if err := p.exchange(ctx, m); err != nil {
		return nil, fmt.Errorf("rfc2136: delete %d records from %s: %w", len(rrs), zone, err)
	}
	return txtResults(recs), nil
}

// txts turns recs into TXT RRs with absolute names inside the zone
// updated.
func (p *RFC2136) txts(zone string, recs []libdns.Record) (string, []dns.RR, error) {
	given := dns.Fqdn(zone)
	if p.Zone != "" {
		zone = dns.Fqdn(p.Zone)
	} else {
		zone = given
	}
	var rrs []dns.RR
	for _, r := range recs {
		rr := r.RR()
		if rr.Type != "TXT" {
			return "", nil, fmt.Errorf("rfc2136: record type %s: only TXT", rr.Type)
		}
		if len(rr.Data) > maxTXT {
			return "", nil, fmt.Errorf("rfc2136: TXT value of %d octets: at most %d", len(rr.Data), maxTXT)
		}
		name := strings.ToLower(libdns.AbsoluteName(rr.Name, given))
		if !dns.IsSubDomain(strings.ToLower(zone), name) {
			return "", nil, fmt.Errorf("rfc2136: name %s is not in zone %s", name, zone)
		}
		ttl := uint32(rr.TTL / time.Second)
		if ttl == 0 {
			ttl = 60
		}
		rrs = append(rrs, &dns.TXT{
			Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: ttl},
			Txt: split255(rr.Data),
		})
	}
	return zone, rrs, nil
}

// split255 splits a TXT value into the 255-octet strings DNS requires
// (RFC 1035 §3.3.14).
func split255(v string) []string {
	var parts []string
	for len(v) > 255 {
		parts, v = append(parts, v[:255]), v[255:]
	}
	return append(parts, v)
}

// txtResults returns recs as libdns.TXT values, as libdns asks.
func txtResults(recs []libdns.Record) []libdns.Record {
	out := make([]libdns.Record, 0, len(recs))
	for _, r := range recs {
		rr := r.RR()
		out = append(out, libdns.TXT{Name: rr.Name, TTL: rr.TTL, Text: rr.Data})
	}
	return out
}

// exchange sends the UPDATE over TCP, signed when a key is set, and
// wants NOERROR.
func (p *RFC2136) exchange(ctx context.Context, m *dns.Msg) error {
	timeout := p.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	c := &dns.Client{Net: "tcp", Timeout: timeout}
	if p.TSIGName != "" {
		name := dns.Fqdn(strings.ToLower(p.TSIGName))
		c.TsigSecret = map[string]string{name: p.TSIGSecret}
		m.SetTsig(name, dns.HmacSHA256, 300, time.Now().Unix())
	}
	r, _, err := c.ExchangeContext(ctx, m, p.Server)
	if err != nil {
		return fmt.Errorf("update via %s: %w", p.Server, err)
	}
	if r.Rcode != dns.RcodeSuccess {
		return fmt.Errorf("update via %s: server answered %s", p.Server, dns.RcodeToString[r.Rcode])
	}
	return nil
}
