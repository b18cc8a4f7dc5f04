package dnscheck_test

import (
	"context"
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
	for _, c := range dnscheck.Run(context.Background(), r, dnscheck.Expect{Domain: "bad.test", Hostname: "mail.example.test", DKIM: keys}) {
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
