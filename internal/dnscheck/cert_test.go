package dnscheck_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"mailroom/internal/dnscheck"
	"mailroom/internal/testkit"
)

// issue makes a certificate for names expiring at notAfter, signed by
// parent (self-signed when parent is nil).
func issue(t *testing.T, names []string, notAfter time.Time, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "test"},
		NotBefore: notAfter.AddDate(-10, 0, 0), NotAfter: notAfter, DNSNames: names,
		BasicConstraintsValid: true, IsCA: parent == nil, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

// TestJudgeCertificate: a certificate that misses a name or has expired is
// wrong; one expiring within 14 days, or not chaining to the roots, is a
// warning.
func TestJudgeCertificate(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	root, rootKey := issue(t, nil, now.AddDate(5, 0, 0), nil, nil)
	roots := x509.NewCertPool()
	roots.AddCert(root)
	names := []string{"mail.example.test", "smtp.example.test"}
	leaf := func(names []string, notAfter time.Time) []*x509.Certificate {
		c, _ := issue(t, names, notAfter, root, rootKey)
		return []*x509.Certificate{c}
	}
	selfSigned, _ := issue(t, names, now.AddDate(1, 0, 0), nil, nil)
	for _, tc := range []struct {
		name  string
		chain []*x509.Certificate
		want  dnscheck.Status
		note  string
	}{
		{"good", leaf(names, now.AddDate(0, 2, 0)), dnscheck.OK, ""},
		{"wildcard", leaf([]string{"*.example.test"}, now.AddDate(0, 2, 0)), dnscheck.OK, ""},
		{"missing name", leaf(names[:1], now.AddDate(0, 2, 0)), dnscheck.Wrong, "does not cover smtp.example.test"},
		{"expired", leaf(names, now.Add(-time.Hour)), dnscheck.Wrong, "expired 1h0m0s ago"},
		{"13 days left", leaf(names, now.Add(13*24*time.Hour)), dnscheck.Warn, "expires in 312h"},
		{"15 days left", leaf(names, now.Add(15*24*time.Hour)), dnscheck.OK, ""},
		{"self-signed", []*x509.Certificate{selfSigned}, dnscheck.Warn, "not trusted"},
		{"none", nil, dnscheck.Wrong, "no certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dnscheck.JudgeCertificate(tc.chain, names, roots, now)
			if c.Status != tc.want || !strings.Contains(c.Note, tc.note) {
				t.Fatalf("got %s %q, want %s saying %q", c.Status, c.Note, tc.want, tc.note)
			}
		})
	}
}

// TestServedCertificate: the check connects with implicit TLS and judges
// what the server presents (its expiry, its names); a port nobody listens on is a warning that
// says to start the server.
func TestServedCertificate(t *testing.T) {
	cert := testkit.NewCert(t, "mail.example.test")
	l, err := tls.Listen("tcp", "127.0.0.1:0", cert.TLS)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	roots := x509.NewCertPool()
	roots.AddCert(cert.TLS.Certificates[0].Leaf)
	ctx := context.Background()
	// testkit's certificates live for a day.
	if c := dnscheck.ServedCertificate(ctx, l.Addr().String(), []string{"mail.example.test"}, roots, time.Now()); c.Status != dnscheck.Warn ||
		!strings.Contains(c.Note, "expires in 24h") || !strings.Contains(c.Found[0], "for mail.example.test") {
		t.Fatalf("certificate for a day: %+v", c)
	}
	if c := dnscheck.ServedCertificate(ctx, l.Addr().String(), []string{"other.example.test"}, roots, time.Now()); c.Status != dnscheck.Wrong {
		t.Fatalf("other name: %+v", c)
	}
	free, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := free.Addr().String()
	free.Close()
	if c := dnscheck.ServedCertificate(ctx, addr, []string{"mail.example.test"}, roots, time.Now()); c.Status != dnscheck.Warn || !strings.Contains(c.Note, "start mailroom serve") {
		t.Fatalf("nothing listening: %+v", c)
	}
}
