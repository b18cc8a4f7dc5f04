package acme_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"

	"mailroom/internal/acme"
	"mailroom/internal/testkit"
)

// txtAt asks the server for the TXT values at name.
func txtAt(t *testing.T, server, name string) []string {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeTXT)
	r, err := dns.Exchange(m, server)
	if err != nil {
		t.Fatalf("query %s: %v", name, err)
	}
	var out []string
	for _, rr := range r.Answer {
		if txt, ok := rr.(*dns.TXT); ok {
			out = append(out, strings.Join(txt.Txt, ""))
		}
	}
	return out
}

// TestRFC2136_AppendDelete: the provider adds the _acme-challenge TXT
// record by dynamic UPDATE and deletes exactly that value, unsigned and
// signed with TSIG; a wrong secret, a wrong key name and an unsigned
// update to a zone wanting a key are refused and change nothing.
func TestRFC2136_AppendDelete(t *testing.T) {
	const secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg==" // base64
	for _, tc := range []struct {
		name, zone, key string
	}{
		{"unsigned", "open.test", ""},
		{"tsig", "signed.test", "mailroom-acme"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := testkit.StartDNS(t)
			d.AllowUpdate(tc.zone, tc.key, secret)
			name := "_acme-challenge.mail." + tc.zone
			d.AddTXT(name, "keep-me")
			p := &acme.RFC2136{Server: d.Addr, TSIGName: tc.key, TSIGSecret: secret}
			ctx := context.Background()
			rec := libdns.RR{Type: "TXT", Name: "_acme-challenge.mail", Data: "token-1", TTL: time.Minute}
			got, err := p.AppendRecords(ctx, tc.zone+".", []libdns.Record{rec})
			if err != nil {
				t.Fatalf("append: %v", err)
			}
			if _, ok := got[0].(libdns.TXT); len(got) != 1 || !ok {
				t.Fatalf("append returned %#v, want one libdns.TXT", got)
			}
			if v := strings.Join(txtAt(t, d.Addr, name), ","); v != "keep-me,token-1" {
				t.Fatalf("after append TXT = %q", v)
			}
			if _, err := p.DeleteRecords(ctx, tc.zone+".", []libdns.Record{rec}); err != nil {
				t.Fatalf("delete: %v", err)
			}
			if v := strings.Join(txtAt(t, d.Addr, name), ","); v != "keep-me" {
				t.Fatalf("after delete TXT = %q", v)
			}
		})
	}

	d := testkit.StartDNS(t)
	d.AllowUpdate("signed.test", "mailroom-acme", secret)
	rec := libdns.RR{Type: "TXT", Name: "_acme-challenge", Data: "token-2"}
	for _, tc := range []struct {
		name string
		p    *acme.RFC2136
		want string
	}{
		{"wrong secret", &acme.RFC2136{Server: d.Addr, TSIGName: "mailroom-acme", TSIGSecret: "d3Jvbmctc2VjcmV0"}, "NOTAUTH"},
		{"wrong key name", &acme.RFC2136{Server: d.Addr, TSIGName: "other", TSIGSecret: secret}, "NOTAUTH"},
		{"unsigned", &acme.RFC2136{Server: d.Addr}, "NOTAUTH"},
		{"other zone", &acme.RFC2136{Server: d.Addr, Zone: "elsewhere.test", TSIGName: "mailroom-acme", TSIGSecret: secret}, "not in zone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.p.AppendRecords(context.Background(), "signed.test.", []libdns.Record{rec})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if v := txtAt(t, d.Addr, "_acme-challenge.signed.test"); len(v) != 0 || d.Updates() != 0 {
		t.Fatalf("refused updates changed the zone: TXT %q, %d applied", v, d.Updates())
	}
	if _, err := (&acme.RFC2136{Server: d.Addr}).AppendRecords(context.Background(), "signed.test.", []libdns.Record{libdns.RR{Type: "A", Name: "x", Data: "192.0.2.1"}}); err == nil || !strings.Contains(err.Error(), "only TXT") {
		t.Fatalf("A record: err = %v", err)
	}
}
