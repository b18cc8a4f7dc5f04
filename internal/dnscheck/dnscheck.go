// Package dnscheck owns `mailroom doctor`: it compares what a domain
// publishes in DNS (MX, SPF, each DKIM key record, DMARC) with what
// mailroom needs, and says for each what is there, what is missing or
// wrong, and the record to publish. It only reads DNS; it changes nothing.
package dnscheck

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"mailroom/internal/message"
	"mailroom/internal/resolver"
)

// Status is the verdict of one check.
type Status string

// Verdicts.
const (
	OK      Status = "ok"
	Missing Status = "missing" // nothing published; Publish says what to add
	Wrong   Status = "wrong"   // published but unusable; Publish says what it should be
	Warn    Status = "warn"    // works, but Note says what to improve
	Failed  Status = "error"   // DNS did not answer; try again
)

// Check is one verdict.
type Check struct {
	Name    string // "MX", "SPF", "DKIM mailroom-rsa", "DMARC"
	Status  Status
	Found   []string // the records DNS has
	Publish string   // a zone-file line to publish, when not OK
	Note    string
}

// Problem reports whether the check needs an administrator.
func (c Check) Problem() bool { return c.Status == Missing || c.Status == Wrong || c.Status == Failed }

// DKIMKey is a DKIM key record the domain should publish.
type DKIMKey struct {
	Selector string
	Record   string // "v=DKIM1; k=…; p=…"
}

// Expect is what mailroom needs of a domain.
type Expect struct {
	Domain   string
	Hostname string // this server: the SPF suggestion names it
	DKIM     []DKIMKey
}

// Resolver is the DNS access the checks need.
type Resolver interface {
	MX(ctx context.Context, domain string) ([]resolver.MX, error)
	TXT(ctx context.Context, name string) ([]string, error)
}

// Run checks e.Domain's records.
func Run(ctx context.Context, r Resolver, e Expect) []Check {
	out := []Check{checkMX(ctx, r, e), checkSPF(ctx, r, e)}
	out = append(out, checkDKIM(ctx, r, e)...)
	return append(out, checkDMARC(ctx, r, e))
}

func dnsFailed(name string, err error) Check {
	return Check{Name: name, Status: Failed, Note: "DNS lookup failed: " + err.Error()}
}

func checkMX(ctx context.Context, r Resolver, e Expect) Check {
	c := Check{Name: "MX"}
	mxs, err := r.MX(ctx, e.Domain)
	if err != nil && !errors.Is(err, resolver.ErrNXDomain) {
		return dnsFailed(c.Name, err)
	}
	for _, m := range mxs {
		c.Found = append(c.Found, fmt.Sprintf("%s. MX %d %s.", e.Domain, m.Pref, strings.TrimSuffix(m.Host, ".")))
	}
	switch {
	case errors.Is(err, resolver.ErrNXDomain):
		c.Status, c.Note = Missing, e.Domain+" does not exist in DNS: nobody can reply to its mail, and receivers reject mail from it."
		c.Publish = fmt.Sprintf("%s. MX 10 %s.", e.Domain, e.Hostname)
	case len(mxs) == 1 && mxs[0].Host == ".":
		c.Status, c.Note = Warn, "null MX (RFC 7505): the domain receives no mail, so replies and DSNs to its senders are lost, and some receivers refuse mail from it."
	case len(mxs) == 0:
		c.Status, c.Note = Missing, "no MX: mail to "+e.Domain+" goes to its A/AAAA address, if any; publish the host that receives its mail."
		c.Publish = fmt.Sprintf("%s. MX 10 %s.", e.Domain, e.Hostname)
	default:
		c.Status = OK
	}
	return c
}

func checkSPF(ctx context.Context, r Resolver, e Expect) Check {
	c := Check{Name: "SPF"}
	want := fmt.Sprintf("%s. TXT %s", e.Domain, quote("v=spf1 a:"+e.Hostname+" mx ~all"))
	txts, err := r.TXT(ctx, e.Domain)
	if err != nil && !errors.Is(err, resolver.ErrNXDomain) {
		return dnsFailed(c.Name, err)
	}
	for _, t := range txts {
		if f := strings.Fields(strings.ToLower(t)); len(f) > 0 && f[0] == "v=spf1" {
			c.Found = append(c.Found, t)
		}
	}
	switch {
	case len(c.Found) == 0:
		c.Status, c.Publish = Missing, want
		c.Note = "receivers cannot tell which hosts may send for " + e.Domain + " (if mail leaves through a smarthost, include the smarthost's SPF instead of a:" + e.Hostname + ")."
	case len(c.Found) > 1:
		c.Status, c.Publish = Wrong, want
		c.Note = "more than one SPF record is an error for every receiver (RFC 7208 §4.5); merge them into one."
	case strings.HasSuffix(strings.ToLower(c.Found[0]), "+all") || strings.HasSuffix(strings.ToLower(c.Found[0]), " all"):
		c.Status, c.Note = Warn, "\"+all\" lets any host send as "+e.Domain+"; end with ~all or -all."
	default:
		c.Status = OK
		if !strings.Contains(strings.ToLower(c.Found[0]), strings.ToLower(e.Hostname)) {
			c.Note = "check that it covers this server (" + e.Hostname + ") or its smarthost."
		}
	}
	return c
}

func checkDKIM(ctx context.Context, r Resolver, e Expect) []Check {
	if len(e.DKIM) == 0 {
		return []Check{{Name: "DKIM", Status: Missing, Note: "no DKIM keys: mail from " + e.Domain + " goes out unsigned; run: mailroom domain dkim " + e.Domain}}
	}
	var out []Check
	for _, k := range e.DKIM {
		name := k.Selector + "._domainkey." + e.Domain
		c := Check{Name: "DKIM " + k.Selector, Publish: fmt.Sprintf("%s. TXT %s", name, quote(k.Record))}
		txts, err := r.TXT(ctx, name)
		if err != nil && !errors.Is(err, resolver.ErrNXDomain) {
			out = append(out, dnsFailed(c.Name, err))
			continue
		}
		c.Found = txts
		wk, wp := message.DKIMRecordKey(k.Record)
		switch {
		case len(txts) == 0:
			c.Status, c.Note = Missing, "mail signed with this key fails DKIM at every receiver until the record is published."
		case len(txts) > 1:
			c.Status, c.Note = Wrong, "more than one TXT record at "+name+"; keep only this key's."
		default:
			if gk, gp := message.DKIMRecordKey(txts[0]); gk == wk && gp == wp {
				c.Status, c.Publish = OK, ""
			} else {
				c.Status, c.Note = Wrong, "the published key is not this key (an old key, or a copy cut short)."
			}
		}
		out = append(out, c)
	}
	return out
}

func checkDMARC(ctx context.Context, r Resolver, e Expect) Check {
	name := "_dmarc." + e.Domain
	c := Check{Name: "DMARC"}
	want := fmt.Sprintf("%s. TXT %s", name, quote("v=DMARC1; p=none; rua=mailto:postmaster@"+e.Domain))
	txts, err := r.TXT(ctx, name)
	if err != nil && !errors.Is(err, resolver.ErrNXDomain) {
		return dnsFailed(c.Name, err)
	}
	for _, t := range txts {
		if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(t)), "V=DMARC1") {
			c.Found = append(c.Found, t)
		}
	}
	switch {
	case len(c.Found) == 0:
		c.Status, c.Publish = Missing, want
		c.Note = "without DMARC, large receivers (Gmail, Outlook) file or refuse bulk mail; start with p=none and read the reports."
	case len(c.Found) > 1:
		c.Status, c.Publish, c.Note = Wrong, want, "more than one DMARC record: receivers ignore them all (RFC 7489 §6.6.3)."
	default:
		c.Status = OK
		if strings.Contains(strings.ReplaceAll(strings.ToLower(c.Found[0]), " ", ""), "p=none") {
			c.Note = "p=none only monitors; move to p=quarantine or p=reject once SPF and DKIM pass."
		}
	}
	return c
}

// quote writes a TXT value as zone-file strings of at most 255 octets
// (RFC 1035 §3.3.14), which DNS providers accept for long DKIM keys.
func quote(v string) string {
	var parts []string
	for len(v) > 255 {
		parts, v = append(parts, v[:255]), v[255:]
	}
	parts = append(parts, v)
	for i, p := range parts {
		parts[i] = `"` + strings.ReplaceAll(p, `"`, `\"`) + `"`
	}
	return strings.Join(parts, " ")
}

// Quote is quote for callers that print records (`mailroom domain dkim`).
func Quote(v string) string { return quote(v) }
