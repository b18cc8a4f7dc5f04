package testkit

import (
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// DNS is an authoritative-looking DNS server on 127.0.0.1 (UDP and TCP on
// one port) that answers from records the test adds: names it has no
// record for are NXDOMAIN, names with records of other types are NODATA.
type DNS struct {
	// Addr is "127.0.0.1:port", for delivery.resolver.
	Addr string

	mu     sync.Mutex
	rrs    map[string][]dns.RR // by lower-case FQDN
	rcodes map[string]int      // forced response codes by lower-case FQDN
	// unknown answers names without records; NXDOMAIN unless SetUnknown.
	unknown int
	// zones maps zones accepting UPDATE to their TSIG key name ("" for
	// unsigned), keys key names to secrets; applied counts UPDATEs.
	zones, keys map[string]string
	applied     int
}

// StartDNS starts a DNS server that stops when the test ends.
func StartDNS(tb testing.TB) *DNS {
	tb.Helper()
	d := &DNS{rrs: map[string][]dns.RR{}, rcodes: map[string]int{}, unknown: dns.RcodeNameError}
	var pc net.PacketConn
	var l net.Listener
	var err error
	// UDP and TCP share the port number; retry if the TCP port is taken.
	for range 20 {
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			tb.Fatalf("dns: listen udp: %v", err)
		}
		l, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
	}
	if err != nil {
		tb.Fatalf("dns: listen tcp: %v", err)
	}
	d.Addr = pc.LocalAddr().String()
	udp := &dns.Server{PacketConn: pc, Handler: d, TsigProvider: dnsKeys{d}, MsgAcceptFunc: acceptUpdate}
	tcp := &dns.Server{Listener: l, Handler: d, TsigProvider: dnsKeys{d}, MsgAcceptFunc: acceptUpdate}
	go udp.ActivateAndServe()
	go tcp.ActivateAndServe()
	tb.Cleanup(func() {
		udp.Shutdown()
		tcp.Shutdown()
	})
	return d
}

// Add adds records in zone-file syntax, one per string:
// "remote.test. MX 10 mx.remote.test.", "mx.remote.test. A 127.0.0.2".
func (d *DNS) Add(tb testing.TB, records ...string) {
	tb.Helper()
	for _, s := range records {
		rr, err := dns.NewRR(s)
		if err != nil || rr == nil {
			tb.Fatalf("dns: record %q: %v", s, err)
		}
		d.mu.Lock()
		name := strings.ToLower(rr.Header().Name)
		d.rrs[name] = append(d.rrs[name], rr)
		d.mu.Unlock()
	}
}

// AddTXT adds a TXT record of any length at name, split into the
// 255-octet strings DNS requires (RFC 1035 §3.3.14).
func (d *DNS) AddTXT(name, value string) {
	var parts []string
	for len(value) > 255 {
		parts, value = append(parts, value[:255]), value[255:]
	}
	parts = append(parts, value)
	rr := &dns.TXT{Hdr: dns.RR_Header{Name: dns.Fqdn(strings.ToLower(name)), Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: parts}
	d.mu.Lock()
	d.rrs[rr.Hdr.Name] = append(d.rrs[rr.Hdr.Name], rr)
	d.mu.Unlock()
}

// Fail makes every query for name answer rcode (dns.RcodeServerFailure).
func (d *DNS) Fail(name string, rcode int) {
	d.mu.Lock()
	d.rcodes[dns.Fqdn(strings.ToLower(name))] = rcode
	d.mu.Unlock()
}

// SetUnknown sets the response code for names without records
// (dns.RcodeServerFailure: the outside world is unreachable).
func (d *DNS) SetUnknown(rcode int) {
	d.mu.Lock()
	d.unknown = rcode
	d.mu.Unlock()
}

// ServeDNS answers one query.
func (d *DNS) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	if req.Opcode == dns.OpcodeUpdate {
		d.serveUpdate(w, req)
		return
	}
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) == 1 {
		q := req.Question[0]
		name := strings.ToLower(q.Name)
		d.mu.Lock()
		rcode, forced := d.rcodes[name]
		rrs, exists := d.rrs[name]
		unknown := d.unknown
		d.mu.Unlock()
		switch {
		case forced:
			m.Rcode = rcode
		case !exists:
			m.Rcode = unknown
		default:
			for _, rr := range rrs {
				if rr.Header().Rrtype == q.Qtype {
					m.Answer = append(m.Answer, rr)
				}
			}
		}
	}
	_ = w.WriteMsg(m)
}
