package daemon_test

import (
	"crypto/tls"
	"testing"
	"time"

	"mailroom/internal/testkit"
)

// TestACME_ClusterSharesCertificate: two nodes on one PostgreSQL database
// with tls.acme on keep the ACME account, certificate and locks in it
// (acme.DBStorage): one orders the certificate while the other waits on
// the lock, and both serve that one certificate.
func TestACME_ClusterSharesCertificate(t *testing.T) {
	dns := testkit.StartDNS(t)
	dns.Add(t, "mail.example.test. A 127.0.0.1")
	peb := testkit.StartPebble(t, testkit.PebbleOptions{DNS: dns.Addr, Validity: time.Hour})
	c := startCluster(t, fixture, withPebble(peb))
	client := &tls.Config{RootCAs: peb.Roots(t), ServerName: "mail.example.test"}
	a := awaitServed(t, c.a, client, nil)
	b := awaitServed(t, c.b, client, nil)
	if !a.Equal(b) {
		t.Fatalf("node A serves serial %s, node B %s: want one certificate", a.SerialNumber, b.SerialNumber)
	}
}
