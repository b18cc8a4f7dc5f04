package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// LetsEncrypt is the default tls.acme_directory: Let's Encrypt production.
const LetsEncrypt = "https://acme-v02.api.letsencrypt.org/directory"

// tls.acme_challenge values.
const (
	ChallengeTLSALPN = "tls-alpn-01" // RFC 8737: the CA connects to port 443
	ChallengeHTTP    = "http-01"     // RFC 8555 §8.3: the CA connects to port 80
	ChallengeDNS     = "dns-01"      // RFC 8555 §8.4: a TXT record, added by RFC 2136 UPDATE
)

// maxACMENames bounds tls.acme_names: with hostname, Let's Encrypt's 100
// names a certificate.
const maxACMENames = 99

// validate checks [tls]: a certificate from files or from ACME, not both;
// with ACME, a usable directory URL, challenge and names.
func (t TLS) validate(hostname string) error {
	if (t.CertFile == "") != (t.KeyFile == "") {
		return &FieldError{"tls.cert_file", t.CertFile, "set both tls.cert_file and tls.key_file, or neither for a self-signed certificate"}
	}
	if !t.ACME {
		return nil
	}
	if t.CertFile != "" {
		return &FieldError{"tls.acme", true, "tls.cert_file is set too: remove cert_file and key_file to have ACME obtain the certificate, or set acme = false"}
	}
	if u, err := url.Parse(t.ACMEDirectory); err != nil || u.Scheme != "https" || u.Host == "" {
		return &FieldError{"tls.acme_directory", fmt.Sprintf("%q", t.ACMEDirectory), "want the CA's https:// directory URL, e.g. \"" + LetsEncrypt + "\""}
	}
	if t.ACMEEmail != "" && (len(t.ACMEEmail) > 254 || !strings.Contains(t.ACMEEmail, "@") || strings.ContainsAny(t.ACMEEmail, " \t\r\n<>")) {
		return &FieldError{"tls.acme_email", fmt.Sprintf("%q", t.ACMEEmail), "want an address such as \"admin@example.com\", or \"\" for none"}
	}
	switch t.ACMEChallenge {
	case ChallengeTLSALPN, ChallengeHTTP:
	case ChallengeDNS:
	default:
		return &FieldError{"tls.acme_challenge", fmt.Sprintf("%q", t.ACMEChallenge), `want "tls-alpn-01" (default; the CA connects to port 443), "http-01" (port 80) or "dns-01" (a TXT record by DNS UPDATE)`}
	}
	if err := t.validateDNS(); err != nil {
		return err
	}
	if t.ACMEChallengeListen != "" {
		if _, port, err := net.SplitHostPort(t.ACMEChallengeListen); err != nil || port == "" {
			return &FieldError{"tls.acme_challenge_listen", fmt.Sprintf("%q", t.ACMEChallengeListen), `want host:port, e.g. ":8443", or "" for the challenge's own port`}
		}
	}
	if len(t.ACMENames) > maxACMENames {
		return &FieldError{"tls.acme_names", fmt.Sprintf("(%d names)", len(t.ACMENames)), fmt.Sprintf("want at most %d names besides hostname", maxACMENames)}
	}
	for _, n := range append([]string{hostname}, t.ACMENames...) {
		if !certName(n) {
			key := "tls.acme_names"
			if n == hostname {
				key = "hostname"
			}
			return &FieldError{key, fmt.Sprintf("%q", n), "ACME needs DNS names such as \"mail.example.com\" (no addresses, no \"localhost\", at most one leading \"*.\")"}
		}
	}
	return nil
}

// certName reports whether a CA could issue for n: a DNS name of at least
// two labels, letters, digits and hyphens, at most one leading wildcard
// label, no address.
func certName(n string) bool {
	if len(n) > 253 || net.ParseIP(n) != nil || strings.EqualFold(n, "localhost") {
		return false
	}
	labels := strings.Split(strings.TrimPrefix(n, "*."), ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// ACMEDomains returns the names the ACME certificate covers: hostname
// first, then tls.acme_names without repeats.
func (c Config) ACMEDomains() []string {
	out := []string{strings.ToLower(c.Hostname)}
	for _, n := range c.TLS.ACMENames {
		n = strings.ToLower(n)
		dup := false
		for _, o := range out {
			dup = dup || o == n
		}
		if !dup {
			out = append(out, n)
		}
	}
	return out
}
