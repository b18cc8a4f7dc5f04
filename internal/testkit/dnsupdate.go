package testkit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"github.com/miekg/dns"
)

// AllowUpdate makes the server accept DNS dynamic UPDATEs (RFC 2136) for
// zone, as a primary does: signed with TSIG (hmac-sha256) by keyName
// with the base64 secret, or unsigned when keyName is "". Updates to
// other zones are REFUSED, unsigned or badly signed ones NOTAUTH. Only
// the RR additions and deletions ACME's dns-01 needs are applied
// (prerequisites are not checked).
func (d *DNS) AllowUpdate(zone, keyName, secret string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.zones == nil {
		d.zones = map[string]string{}
		d.keys = map[string]string{}
	}
	keyName = strings.ToLower(dns.Fqdn(keyName))
	if keyName == "." {
		keyName = ""
	}
	d.zones[strings.ToLower(dns.Fqdn(zone))] = keyName
	if keyName != "" {
		d.keys[keyName] = secret
	}
}

// Updates returns how many UPDATEs the server applied.
func (d *DNS) Updates() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.applied
}

// serveUpdate answers one UPDATE.
func (d *DNS) serveUpdate(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	if t := req.IsTsig(); t != nil && w.TsigStatus() == nil {
		// Sign the answer with the request's key (RFC 8945 §5.3); a
		// request whose signature failed is answered unsigned.
		m.SetTsig(t.Hdr.Name, t.Algorithm, 300, int64(t.TimeSigned))
	}
	m.Rcode = d.applyUpdate(w, req)
	_ = w.WriteMsg(m)
}

// applyUpdate checks the zone and the signature and applies the update
// section; it returns the response code.
func (d *DNS) applyUpdate(w dns.ResponseWriter, req *dns.Msg) int {
	if len(req.Question) != 1 {
		return dns.RcodeFormatError
	}
	zone := strings.ToLower(req.Question[0].Name)
	d.mu.Lock()
	defer d.mu.Unlock()
	key, ok := d.zones[zone]
	if !ok {
		return dns.RcodeRefused
	}
	if key != "" {
		t := req.IsTsig()
		if t == nil || strings.ToLower(t.Hdr.Name) != key || w.TsigStatus() != nil {
			return dns.RcodeNotAuth
		}
	}
	for _, rr := range req.Ns {
		h := rr.Header()
		name := strings.ToLower(h.Name)
		if !dns.IsSubDomain(zone, name) {
			return dns.RcodeNotZone
		}
		h.Name = name
		switch h.Class {
		case dns.ClassINET: // add, to a new slice: queries read the old one unlocked
			d.rrs[name] = append(append([]dns.RR(nil), d.rrs[name]...), rr)
		case dns.ClassNONE: // delete this RR
			var keep []dns.RR // a new slice: queries read the old one unlocked
			for _, o := range d.rrs[name] {
				c := dns.Copy(rr)
				c.Header().Class, c.Header().Ttl = dns.ClassINET, o.Header().Ttl
				if !dns.IsDuplicate(o, c) {
					keep = append(keep, o)
				}
			}
			d.rrs[name] = keep
		case dns.ClassANY: // delete the RRset, or every RRset at name
			var keep []dns.RR // a new slice: queries read the old one unlocked
			for _, o := range d.rrs[name] {
				if h.Rrtype != dns.TypeANY && o.Header().Rrtype != h.Rrtype {
					keep = append(keep, o)
				}
			}
			d.rrs[name] = keep
		default:
			return dns.RcodeFormatError
		}
		if len(d.rrs[name]) == 0 {
			delete(d.rrs, name)
		}
	}
	d.applied++
	return dns.RcodeSuccess
}

// dnsKeys verifies and generates hmac-sha256 TSIGs with the keys
// AllowUpdate registered.
type dnsKeys struct{ d *DNS }

// Generate implements dns.TsigProvider.
func (k dnsKeys) Generate(msg []byte, t *dns.TSIG) ([]byte, error) {
	k.d.mu.Lock()
	secret, ok := k.d.keys[strings.ToLower(t.Hdr.Name)]
	k.d.mu.Unlock()
	if !ok {
		return nil, dns.ErrSecret
	}
	if dns.CanonicalName(t.Algorithm) != dns.HmacSHA256 {
		return nil, dns.ErrKeyAlg
	}
	raw, err := base64.StdEncoding.DecodeString(secret)
	if err != nil {
		return nil, err
	}
	h := hmac.New(sha256.New, raw)
	h.Write(msg)
	return h.Sum(nil), nil
}

// Verify implements dns.TsigProvider.
func (k dnsKeys) Verify(msg []byte, t *dns.TSIG) error {
	want, err := k.Generate(msg, t)
	if err != nil {
		return err
	}
	mac, err := hex.DecodeString(t.MAC)
	if err != nil {
		return err
	}
	if !hmac.Equal(want, mac) {
		return dns.ErrSig
	}
	return nil
}

// maxUpdateRRs bounds the RRs of one UPDATE the server reads.
const maxUpdateRRs = 64

// acceptUpdate is dns.Server.MsgAcceptFunc: miekg/dns's default, which
// answers NOTIMP to UPDATE, plus UPDATEs of at most maxUpdateRRs RRs.
func acceptUpdate(h dns.Header) dns.MsgAcceptAction {
	const qr, opcodeShift = 1 << 15, 11
	if h.Bits&qr == 0 && int(h.Bits>>opcodeShift)&0xF == dns.OpcodeUpdate {
		if h.Qdcount != 1 || int(h.Ancount)+int(h.Nscount) > maxUpdateRRs || h.Arcount > 2 {
			return dns.MsgReject
		}
		return dns.MsgAccept
	}
	return dns.DefaultMsgAcceptFunc(h)
}
