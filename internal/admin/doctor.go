package admin

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"time"

	"mailroom/internal/address"
	"mailroom/internal/dnscheck"
)

// DoctorServer is this server as Doctor checks it.
type DoctorServer struct {
	// Hostname is the name SPF should allow and the certificate must cover.
	Hostname string
	// TLSListen is submission.listen_tls, where the served certificate is
	// fetched (an empty or unspecified host is this machine); "" skips
	// the certificate check.
	TLSListen string
	// CertNames are the names besides Hostname the certificate must cover
	// (tls.acme_names).
	CertNames []string
	// Roots the certificate should chain to; nil is the system's roots.
	Roots *x509.CertPool
}

// Doctor checks a domain's DNS records against what this server needs:
// its MX, SPF naming hostname, a record for each DKIM key in the store,
// and DMARC; then the certificate the server presents on its implicit-TLS
// port: its names and expiry. The domain need not be served here (then
// there are no keys).
func (s *Service) Doctor(ctx context.Context, r dnscheck.Resolver, domain string, srv DoctorServer) ([]dnscheck.Check, error) {
	d, err := address.Domain(domain)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	recs, err := s.DKIMRecords(ctx, d)
	if err != nil {
		return nil, err
	}
	e := dnscheck.Expect{Domain: d, Hostname: srv.Hostname}
	for _, rec := range recs {
		e.DKIM = append(e.DKIM, dnscheck.DKIMKey{Selector: rec.Selector, Record: rec.Value})
	}
	checks := dnscheck.Run(ctx, r, e)
	if srv.TLSListen != "" {
		names := append([]string{srv.Hostname}, srv.CertNames...)
		checks = append(checks, dnscheck.ServedCertificate(ctx, localAddr(srv.TLSListen), names, srv.Roots, time.Now()))
	}
	return checks, nil
}

// localAddr turns a listen address into one to dial on this machine:
// ":465" and "0.0.0.0:465" are 127.0.0.1:465, "[::]:465" is [::1]:465.
func localAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	switch ip := net.ParseIP(host); {
	case host == "" || ip != nil && ip.Equal(net.IPv4zero):
		host = "127.0.0.1"
	case ip != nil && ip.Equal(net.IPv6unspecified):
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}
