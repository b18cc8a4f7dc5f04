package resolver_test

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"mailroom/internal/resolver"
	"mailroom/internal/testkit"
)

func TestResolver_Answers(t *testing.T) {
	d := testkit.StartDNS(t)
	d.Add(t,
		"remote.test. MX 20 mx2.remote.test.",
		"remote.test. MX 10 mx1.remote.test.",
		"mx1.remote.test. A 127.0.0.2",
		"mx1.remote.test. AAAA ::1",
		"nullmx.test. MX 0 .",
		"nomx.test. A 127.0.0.3",
	)
	long := strings.Repeat("k", 600)
	d.AddTXT("sel._domainkey.remote.test", "v=DKIM1; p="+long)
	d.Fail("broken.test", dns.RcodeServerFailure)
	r, err := resolver.New(d.Addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	mx, err := r.MX(ctx, "remote.test")
	if err != nil || len(mx) != 2 || mx[0] != (resolver.MX{Host: "mx1.remote.test", Pref: 10}) || mx[1].Host != "mx2.remote.test" {
		t.Fatalf("MX remote.test: %+v, %v", mx, err)
	}
	if mx, err := r.MX(ctx, "nullmx.test"); err != nil || len(mx) != 1 || mx[0].Host != "." {
		t.Fatalf("MX of a null-MX domain: %+v, %v", mx, err)
	}
	if mx, err := r.MX(ctx, "nomx.test"); err != nil || len(mx) != 0 {
		t.Fatalf("MX of a domain without MX (NODATA): %+v, %v", mx, err)
	}
	if _, err := r.MX(ctx, "nowhere.test"); !errors.Is(err, resolver.ErrNXDomain) {
		t.Fatalf("MX of a missing domain: %v, want ErrNXDomain", err)
	}
	if _, err := r.MX(ctx, "broken.test"); !errors.Is(err, resolver.ErrTemporary) {
		t.Fatalf("MX with SERVFAIL: %v, want ErrTemporary", err)
	}
	ips, err := r.IPs(ctx, "mx1.remote.test")
	if err != nil || !slices.Equal(ips, []netip.Addr{netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("::1")}) {
		t.Fatalf("IPs: %v, %v", ips, err)
	}
	if _, err := r.IPs(ctx, "nowhere.test"); !errors.Is(err, resolver.ErrNXDomain) {
		t.Fatalf("IPs of a missing host: %v", err)
	}
	// A TXT record longer than a UDP answer of 512 octets arrives whole.
	txt, err := r.TXT(ctx, "sel._domainkey.remote.test")
	if err != nil || len(txt) != 1 || txt[0] != "v=DKIM1; p="+long {
		t.Fatalf("TXT: %q, %v", txt, err)
	}
}
