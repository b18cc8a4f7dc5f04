package acme_test

import (
	"context"
	"crypto/x509"
	"os"
	"testing"

	"github.com/caddyserver/certmagic"

	"mailroom/internal/acme"
	"mailroom/internal/testkit"
)

// TestDNS01_Issues runs Pebble with the test DNS server as its resolver:
// the manager answers dns-01 by adding the _acme-challenge TXT record
// through a TSIG-signed dynamic UPDATE, Pebble finds it and issues, and
// the record is deleted afterwards.
func TestDNS01_Issues(t *testing.T) {
	const secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg=="
	d := testkit.StartDNS(t)
	d.Add(t, "example.test. SOA ns.example.test. admin.example.test. 1 60 60 60 60")
	d.AllowUpdate("example.test", "mailroom-acme", secret)
	peb := testkit.StartPebble(t, testkit.PebbleOptions{DNS: d.Addr})
	ca, err := os.ReadFile(peb.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca)
	m, err := acme.Start(context.Background(), acme.Options{
		Names: []string{"mail.example.test"}, Directory: peb.Directory, Challenge: acme.DNS01, Roots: roots,
		DNS:          &acme.RFC2136{Server: d.Addr, TSIGName: "mailroom-acme", TSIGSecret: secret},
		DNSResolvers: []string{d.Addr},
		Storage:      &certmagic.FileStorage{Path: t.TempDir()},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	testkit.Eventually(t, "a certificate for mail.example.test", func() bool { return m.Leaf("mail.example.test") != nil })
	if d.Updates() < 2 {
		t.Fatalf("%d updates applied, want the add and the delete", d.Updates())
	}
	if v := txtAt(t, d.Addr, "_acme-challenge.mail.example.test"); len(v) != 0 {
		t.Fatalf("challenge record left behind: %q", v)
	}
}
