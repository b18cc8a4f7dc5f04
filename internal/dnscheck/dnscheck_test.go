package dnscheck_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"mailroom/internal/dnscheck"
	"mailroom/internal/message"
	"mailroom/internal/resolver"
	"mailroom/internal/testkit"
)

func key(t *testing.T, alg string) string {
	t.Helper()
	der, err := message.NewDKIMKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := message.DKIMRecord(der)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestRun(t *testing.T) {
	d := testkit.StartDNS(t)
	ed, rsa, other := key(t, message.DKIMEd25519), key(t, message.DKIMRSA), key(t, message.DKIMEd25519)
	// good.test publishes everything, the RSA key split into 255-octet strings.
	d.Add(t,
		"good.test. MX 10 mail.good.test.",
		`good.test. TXT "v=spf1 a:mail.example.test mx ~all"`,
		`_dmarc.good.test. TXT "v=DMARC1; p=reject"`,
	)
	d.AddTXT("s-ed25519._domainkey.good.test", ed)
	d.AddTXT("s-rsa._domainkey.good.test", rsa)
	// bad.test: two SPF records, an old DKIM key, nothing else.
	d.Add(t,
		`bad.test. TXT "v=spf1 -all"`,
		`bad.test. TXT "v=spf1 mx -all"`,
	)
	d.AddTXT("s-ed25519._domainkey.bad.test", other)
	r, err := resolver.New(d.Addr)
	if err != nil {
		t.Fatal(err)
	}
	keys := []dnscheck.DKIMKey{{Selector: "s-ed25519", Record: ed}, {Selector: "s-rsa", Record: rsa}}

	got := map[string]dnscheck.Check{}
	for _, c := range dnscheck.Run(context.Background(), r, dnscheck.Expect{Domain: "good.test", Hostname: "mail.example.test", DKIM: keys}) {
		got[c.Name] = c
		if c.Status != dnscheck.OK {
			t.Errorf("good.test %s: %+v, want ok", c.Name, c)
		}
	}
	if len(got) != 5 {
		t.Errorf("good.test checks %v, want MX, SPF, two DKIM and DMARC", got)
	}

	got = map[string]dnscheck.Check{}
	for _, c := range dnscheck.Run(context.Background(), r, dnscheck.Expect{Domain: "bad.test", Hostname: "mail.example.test", DKIM: keys, Reports: "postmaster@bad.test"}) {
		got[c.Name] = c
	}
	for name, want := range map[string]struct {
		status  dnscheck.Status
		publish string
	}{
		"MX":             {dnscheck.Missing, "bad.test. MX 10 mail.example.test."},
		"SPF":            {dnscheck.Wrong, `bad.test. TXT "v=spf1 a:mail.example.test mx ~all"`},
		"DKIM s-ed25519": {dnscheck.Wrong, "s-ed25519._domainkey.bad.test. TXT \"" + ed + "\""},
		"DKIM s-rsa":     {dnscheck.Missing, "s-rsa._domainkey.bad.test. TXT \"" + rsa[:255] + "\" \""},
		"DMARC":          {dnscheck.Missing, `_dmarc.bad.test. TXT "v=DMARC1; p=none; rua=mailto:postmaster@bad.test"`},
	} {
		c, ok := got[name]
		if !ok {
			t.Errorf("no %s check for bad.test", name)
			continue
		}
		if c.Status != want.status || !strings.HasPrefix(c.Publish, want.publish) || !c.Problem() {
			t.Errorf("bad.test %s: %+v, want %s publishing %q…", name, c, want.status, want.publish)
		}
	}

	// A domain without keys is told how to make them; a failing server is
	// an error, not "missing".
	d.Fail("down.test", 2)
	for _, c := range dnscheck.Run(context.Background(), r, dnscheck.Expect{Domain: "down.test", Hostname: "mail.example.test"}) {
		switch c.Name {
		case "DKIM":
			if c.Status != dnscheck.Missing || !strings.Contains(c.Note, "mailroom domain dkim down.test") {
				t.Errorf("no-keys DKIM check %+v", c)
			}
		case "MX", "SPF":
			if c.Status != dnscheck.Failed {
				t.Errorf("%s with SERVFAIL: %+v, want error", c.Name, c)
			}
		}
	}
}

// TestRun_Gateway: a relay domain's MX names the upstream, never this
// server; SPF authorises the upstream that carries every remote
// recipient; DMARC proposes reports only to an address that receives
// mail; a hostname that is not fully qualified is a warning.
func TestRun_Gateway(t *testing.T) {
	d := testkit.StartDNS(t)
	d.Add(t,
		"corp.test. MX 0 corp-test.mail.protection.outlook.com.",
		`corp.test. TXT "v=spf1 include:spf.protection.outlook.com -all"`,
		"self.test. MX 10 mail.example.test.",
		`self.test. TXT "v=spf1 a:mail.example.test ~all"`,
	)
	r, err := resolver.New(d.Addr)
	if err != nil {
		t.Fatal(err)
	}
	const up = "smtp.office365.com"
	for _, tc := range []struct {
		name   string
		e      dnscheck.Expect
		check  string
		status dnscheck.Status
		want   string // in Publish, or in Note when nothing is to publish
	}{
		{"relay MX at the upstream", dnscheck.Expect{Domain: "corp.test", Relay: true, Upstream: up}, "MX", dnscheck.OK, ""},
		{"relay MX at mailroom", dnscheck.Expect{Domain: "self.test", Relay: true, Upstream: up}, "MX", dnscheck.Wrong, "not mail.example.test"},
		{"relay without MX: no MX at mailroom proposed", dnscheck.Expect{Domain: "none.test", Relay: true}, "MX", dnscheck.Missing, "mail.protection.outlook.com"},
		{"hosted without MX: mailroom proposed", dnscheck.Expect{Domain: "none.test"}, "MX", dnscheck.Missing, "none.test. MX 10 mail.example.test."},
		{"SPF of the upstream", dnscheck.Expect{Domain: "corp.test", Relay: true, Upstream: up}, "SPF", dnscheck.OK, ""},
		{"SPF naming mailroom while mail leaves upstream", dnscheck.Expect{Domain: "self.test", Relay: true, Upstream: up}, "SPF", dnscheck.Wrong, `"v=spf1 include:spf.protection.outlook.com ~all"`},
		{"missing SPF, by MX", dnscheck.Expect{Domain: "none.test"}, "SPF", dnscheck.Missing, `"v=spf1 a:mail.example.test mx ~all"`},
		{"missing SPF, Google upstream", dnscheck.Expect{Domain: "none.test", Relay: true, Upstream: "smtp-relay.gmail.com"}, "SPF", dnscheck.Missing, `"v=spf1 include:_spf.google.com ~all"`},
		{"DMARC with reports to the postmaster", dnscheck.Expect{Domain: "none.test", Reports: "it@corp.test"}, "DMARC", dnscheck.Missing, `"v=DMARC1; p=none; rua=mailto:it@corp.test"`},
		{"DMARC without an address that receives mail", dnscheck.Expect{Domain: "none.test", Relay: true}, "DMARC", dnscheck.Missing, `TXT "v=DMARC1; p=none"`},
		{"short hostname", dnscheck.Expect{Domain: "corp.test", Hostname: "printgw"}, "hostname", dnscheck.Warn, "not a fully qualified name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.e.Hostname == "" {
				tc.e.Hostname = "mail.example.test"
			}
			var got *dnscheck.Check
			names := []string{}
			for _, c := range dnscheck.Run(context.Background(), r, tc.e) {
				names = append(names, c.Name)
				if c.Name == tc.check {
					got = &c
				}
			}
			if got == nil {
				t.Fatalf("no %s check in %v", tc.check, names)
			}
			text := got.Publish
			if text == "" {
				text = got.Note
			}
			if got.Status != tc.status || !strings.Contains(text, tc.want) || tc.status == dnscheck.OK && got.Publish != "" {
				t.Fatalf("%s: %+v, want %s with %q", tc.check, got, tc.status, tc.want)
			}
			if tc.check != "hostname" && slices.Contains(names, "hostname") {
				t.Errorf("a hostname check for %s", tc.e.Hostname)
			}
		})
	}
}
