package dnscheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"
)

// CertWarnBefore is how close to its expiry the served certificate makes
// doctor warn: ACME renews at a third of the lifetime left (30 days of
// Let's Encrypt's 90), so 14 days left means renewal has been failing.
const CertWarnBefore = 14 * 24 * time.Hour

// CertCheckName names the served-certificate check.
const CertCheckName = "TLS certificate"

// ServedCertificate connects to addr with implicit TLS, asking for
// names[0], and judges the certificate it presents (JudgeCertificate).
// roots nil is the system's roots. A server that is not running is a
// warning, not a problem: the DNS checks stand on their own.
func ServedCertificate(ctx context.Context, addr string, names []string, roots *x509.CertPool, now time.Time) Check {
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second},
		// Verified below, to say what is wrong instead of failing.
		Config: &tls.Config{ServerName: names[0], InsecureSkipVerify: true}} //nolint:gosec
	c, err := d.DialContext(ctx, "tcp", addr)
	if errors.Is(err, syscall.ECONNREFUSED) {
		return Check{Name: CertCheckName, Status: Warn, Note: fmt.Sprintf("nothing answers on %s (submission.listen_tls): start mailroom serve to check the certificate it serves", addr)}
	}
	if err != nil {
		return Check{Name: CertCheckName, Status: Failed, Note: fmt.Sprintf("TLS handshake with %s: %v", addr, err)}
	}
	defer c.Close()
	return JudgeCertificate(c.(*tls.Conn).ConnectionState().PeerCertificates, names, roots, now)
}

// JudgeCertificate judges a served chain (leaf first): Wrong when it does
// not cover every name or has expired, Warn when it expires within
// CertWarnBefore or does not chain to roots (a self-signed certificate
// that clients must be told to trust), else OK.
func JudgeCertificate(chain []*x509.Certificate, names []string, roots *x509.CertPool, now time.Time) Check {
	c := Check{Name: CertCheckName}
	if len(chain) == 0 {
		c.Status, c.Note = Wrong, "the server presented no certificate"
		return c
	}
	leaf := chain[0]
	c.Found = []string{fmt.Sprintf("for %s, issued by %q, expires %s", strings.Join(leaf.DNSNames, ", "), leaf.Issuer.CommonName, leaf.NotAfter.UTC().Format(time.RFC3339))}
	var missing []string
	for _, n := range names {
		if leaf.VerifyHostname(n) != nil {
			missing = append(missing, n)
		}
	}
	left := leaf.NotAfter.Sub(now)
	inter := x509.NewCertPool()
	for _, ic := range chain[1:] {
		inter.AddCert(ic)
	}
	_, verr := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now})
	switch {
	case len(missing) > 0:
		c.Status, c.Note = Wrong, fmt.Sprintf("does not cover %s, which clients connect to: set [tls] acme = true (README \"Automatic certificates\"), or cert_file to a certificate for it", strings.Join(missing, ", "))
	case left <= 0:
		c.Status, c.Note = Wrong, fmt.Sprintf("expired %s ago: clients that verify refuse it; with ACME, the log says why renewal failed (\"acme certificate not obtained\")", (-left).Round(time.Minute))
	case left < CertWarnBefore:
		c.Status, c.Note = Warn, fmt.Sprintf("expires in %s: with ACME it should have been renewed by now; the log says why not (\"acme certificate not obtained\")", left.Round(time.Hour))
	case verr != nil:
		c.Status, c.Note = Warn, fmt.Sprintf("not trusted (%v): clients must be told to trust it or not to verify; [tls] acme = true gets one they trust", verr)
	default:
		c.Status = OK
	}
	return c
}
