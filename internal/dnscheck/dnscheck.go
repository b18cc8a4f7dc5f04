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
	// Relay is a domain whose mail lives upstream (role relay): its MX
	// names the upstream, never mailroom.
	Relay bool
	// Upstream is the host every remote recipient leaves through (a "*"
	// route, or the smarthost), "" when mailroom delivers by MX itself:
	// then SPF must authorise the upstream, not this server.
	Upstream string
	// Reports is the address a proposed DMARC record sends aggregate
	// reports to (rua); "" proposes none: a rua at an address that
	// receives no mail loses every report.
	Reports string
}

// Resolver is the DNS access the checks need.
type Resolver interface {
	MX(ctx context.Context, domain string) ([]resolver.MX, error)
	TXT(ctx context.Context, name string) ([]string, error)
}

// Run checks e.Domain's records.
func Run(ctx context.Context, r Resolver, e Expect) []Check {
	var out []Check
	if c, ok := checkHostname(e); !ok {
		out = append(out, c)
	}
	out = append(out, checkMX(ctx, r, e), checkSPF(ctx, r, e))
	out = append(out, checkDKIM(ctx, r, e)...)
	return append(out, checkDMARC(ctx, r, e))
}

func dnsFailed(name string, err error) Check {
	return Check{Name: name, Status: Failed, Note: "DNS lookup failed: " + err.Error()}
}

// checkHostname warns when hostname is not a fully qualified name:
// receivers check the EHLO name and SPF's a: needs a name in DNS.
func checkHostname(e Expect) (Check, bool) {
	h := strings.ToLower(strings.TrimSuffix(e.Hostname, "."))
	if strings.Contains(h, ".") && !strings.HasSuffix(h, ".local") && !strings.HasSuffix(h, ".localdomain") && !strings.HasSuffix(h, ".lan") {
		return Check{}, true
	}
	return Check{Name: "hostname", Status: Warn, Found: []string{e.Hostname},
		Note: "hostname " + e.Hostname + " is not a fully qualified name in DNS: receivers (and upstreams) refuse or score down an EHLO they cannot resolve; set hostname = \"mail." + e.Domain + "\" (or another name with an A record) in mailroom.toml."}, false
}

func checkMX(ctx context.Context, r Resolver, e Expect) Check {
	if e.Relay {
		return checkRelayMX(ctx, r, e)
	}
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

// checkRelayMX checks the MX of a relay domain: it must exist (the
// domain's mail lives upstream) and must not name this server.
func checkRelayMX(ctx context.Context, r Resolver, e Expect) Check {
	c := Check{Name: "MX"}
	mxs, err := r.MX(ctx, e.Domain)
	if err != nil && !errors.Is(err, resolver.ErrNXDomain) {
		return dnsFailed(c.Name, err)
	}
	self := false
	for _, m := range mxs {
		host := strings.TrimSuffix(m.Host, ".")
		c.Found = append(c.Found, fmt.Sprintf("%s. MX %d %s.", e.Domain, m.Pref, host))
		self = self || strings.EqualFold(host, strings.TrimSuffix(e.Hostname, "."))
	}
	switch {
	case len(mxs) == 0 || len(mxs) == 1 && mxs[0].Host == ".":
		c.Status, c.Note = Missing, e.Domain+" is a relay domain: its mail lives upstream, so its MX must name the upstream's inbound host (Microsoft 365: TENANT.mail.protection.outlook.com; Google: smtp.google.com), as the upstream's admin center shows; never mailroom."
	case self:
		c.Status, c.Note = Wrong, e.Domain+" is a relay domain: mailroom keeps no Inbox for it, so its MX must name the upstream's inbound host, not "+e.Hostname+"."
	default:
		c.Status = OK
	}
	return c
}

// spfInclude is the SPF include of a well-known upstream host, "" when
// unknown.
func spfInclude(upstream string) string {
	h := strings.ToLower(upstream)
	switch {
	case strings.HasSuffix(h, ".office365.com") || strings.HasSuffix(h, ".outlook.com"):
		return "include:spf.protection.outlook.com"
	case strings.HasSuffix(h, ".gmail.com") || strings.HasSuffix(h, ".google.com"):
		return "include:_spf.google.com"
	}
	return ""
}

func checkSPF(ctx context.Context, r Resolver, e Expect) Check {
	c := Check{Name: "SPF"}
	// The hosts mail from the domain leaves through: this server, or the
	// upstream that carries every remote recipient.
	mech, sender := "a:"+e.Hostname, e.Hostname
	if e.Upstream != "" {
		sender = e.Upstream
		if mech = spfInclude(e.Upstream); mech == "" {
			mech = "include:SPF-OF-" + e.Upstream
		}
	}
	mx := " mx"
	if e.Relay {
		mx = "" // the upstream's inbound hosts send nothing for mailroom
	}
	want := fmt.Sprintf("%s. TXT %s", e.Domain, quote("v=spf1 "+mech+mx+" ~all"))
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
		c.Note = "receivers cannot tell which hosts may send for " + e.Domain + "; mail from it leaves through " + sender + "."
	case len(c.Found) > 1:
		c.Status, c.Publish = Wrong, want
		c.Note = "more than one SPF record is an error for every receiver (RFC 7208 §4.5); merge them into one."
	case strings.HasSuffix(strings.ToLower(c.Found[0]), "+all") || strings.HasSuffix(strings.ToLower(c.Found[0]), " all"):
		c.Status, c.Note = Warn, "\"+all\" lets any host send as "+e.Domain+"; end with ~all or -all."
	default:
		c.Status = OK
		if got := strings.ToLower(c.Found[0]); e.Upstream == "" && !strings.Contains(got, strings.ToLower(e.Hostname)) {
			c.Note = "check that it covers this server (" + e.Hostname + "): mail from " + e.Domain + " leaves from it."
		} else if inc := spfInclude(e.Upstream); e.Upstream != "" && (inc == "" || !strings.Contains(got, inc)) {
			c.Note = "check that it covers " + e.Upstream + ": every remote recipient leaves through it."
			if inc != "" {
				c.Status, c.Publish, c.Note = Wrong, want, "mail from "+e.Domain+" leaves through "+e.Upstream+", which this record does not authorise ("+inc+")."
			}
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
	rec := "v=DMARC1; p=none"
	if e.Reports != "" {
		rec += "; rua=mailto:" + e.Reports
	}
	want := fmt.Sprintf("%s. TXT %s", name, quote(rec))
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
		if e.Reports == "" {
			c.Note += " No rua is proposed: no address here receives mail for " + e.Domain + "; add rua=mailto: an address that does (or set [delivery] postmaster)."
		}
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
