package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// TestProxyFrom: submission.proxy_from is off by default; networks and
// single addresses load as prefixes; every bad entry is a FieldError on
// the key, its reason saying what to write instead.
func TestProxyFrom(t *testing.T) {
	if d := Default(); len(d.Submission.ProxyFrom) != 0 {
		t.Fatalf("proxy_from on by default: %v", d.Submission.ProxyFrom)
	}
	c, err := Load(write(t, "[submission]\nproxy_from = [\"10.0.0.0/8\", \"192.0.2.7\", \"2001:db8::/32\", \"::ffff:198.51.100.0/120\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"),
		netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("198.51.100.0/24")}
	if got := c.Submission.ProxyPrefixes(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("ProxyPrefixes() = %v, want %v", got, want)
	}

	many := strings.Repeat(`"10.0.0.1",`, maxProxyFrom+1)
	for _, tc := range []struct{ name, value, reason string }{
		{"not an address", `["balancer"]`, "want a network"},
		{"host bits set", `["10.0.0.1/8"]`, `"10.0.0.0/8"`},
		{"every address", `["0.0.0.0/0"]`, "covers every address"},
		{"every IPv6 address", `["::/0"]`, "covers every address"},
		{"zone", `["fe80::1%eth0"]`, "want a network"},
		{"too many", "[" + strings.TrimSuffix(many, ",") + "]", "at most 256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(write(t, "[submission]\nproxy_from = "+tc.value+"\n"))
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Key != "submission.proxy_from" || !strings.Contains(fe.Reason, tc.reason) {
				t.Fatalf("err = %v, want a FieldError on submission.proxy_from saying %q", err, tc.reason)
			}
		})
	}
}
