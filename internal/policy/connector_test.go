package policy

import (
	"net/netip"
	"testing"
)

func TestMatchConnector(t *testing.T) {
	pfx := func(s ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, x := range s {
			out = append(out, netip.MustParsePrefix(x))
		}
		return out
	}
	const fp = "0a1b2c"
	cs := []Connector{
		{Name: "printers", Mailbox: "printer@example.com", Networks: pfx("10.1.0.0/16")},
		{Name: "front-desk", Mailbox: "desk@example.com", Networks: pfx("10.1.2.0/24", "192.168.7.7/32"), LegacyTLS: true},
		{Name: "scanner", Mailbox: "scanner@example.com", Fingerprints: []string{fp}},
		{Name: "b-same", Mailbox: "b@example.com", Networks: pfx("172.16.0.0/12")},
		{Name: "a-same", Mailbox: "a@example.com", Networks: pfx("172.16.0.0/12")},
		{Name: "v6", Mailbox: "v6@example.com", Networks: pfx("2001:db8::/64")},
	}
	for _, tc := range []struct {
		name, remote, fp string
		want, by         string
		legacy           string
	}{
		{"no match", "192.0.2.1", "", "", "", ""},
		{"network", "10.1.9.9", "", "printers", MatchNetwork, ""},
		{"most specific prefix wins", "10.1.2.3", "", "front-desk", MatchNetwork, "front-desk"},
		{"second network of a connector", "192.168.7.7", "", "front-desk", MatchNetwork, "front-desk"},
		{"v4-mapped address", "::ffff:10.1.2.3", "", "front-desk", MatchNetwork, "front-desk"},
		{"certificate from anywhere", "192.0.2.1", fp, "scanner", MatchCertificate, ""},
		{"certificate wins over network", "10.1.2.3", fp, "scanner", MatchCertificate, "front-desk"},
		{"certificate as openssl prints it", "192.0.2.1", "0A:1B:2C", "scanner", MatchCertificate, ""},
		{"unknown certificate falls back to network", "10.1.9.9", "ffff", "printers", MatchNetwork, ""},
		{"tie goes to the first name", "172.16.1.1", "", "a-same", MatchNetwork, ""},
		{"ipv6", "2001:db8::5", "", "v6", MatchNetwork, ""},
		{"ipv6 outside", "2001:db8:1::5", "", "", "", ""},
		{"no address, no certificate", "", "", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var remote netip.Addr
			if tc.remote != "" {
				remote = netip.MustParseAddr(tc.remote)
			}
			m := MatchConnector(cs, remote, tc.fp)
			got := ""
			if m.Connector != nil {
				got = m.Connector.Name
			}
			if got != tc.want || m.By != tc.by {
				t.Errorf("MatchConnector = %q by %q, want %q by %q", got, m.By, tc.want, tc.by)
			}
			if l := LegacyTLS(cs, remote); l != tc.legacy {
				t.Errorf("LegacyTLS = %q, want %q", l, tc.legacy)
			}
		})
	}
}

func TestNormalizeFingerprint(t *testing.T) {
	for in, want := range map[string]string{
		"AB:CD:EF":   "abcdef",
		" ab cd ef ": "abcdef",
		"ab-cd-ef":   "abcdef",
		"":           "",
	} {
		if got := NormalizeFingerprint(in); got != want {
			t.Errorf("NormalizeFingerprint(%q) = %q, want %q", in, got, want)
		}
	}
}
