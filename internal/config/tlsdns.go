package config

import (
	"encoding/base64"
	"fmt"
	"net"
	"strings"
)

// maxTSIGSecret bounds tls.acme_dns_tsig_secret, in base64 characters
// (an hmac-sha256 key is 44).
const maxTSIGSecret = 1024

// validateDNS checks the tls.acme_dns_* keys: set only with dns-01, where
// the server is required; a TSIG key name comes with one base64 secret.
func (t TLS) validateDNS() error {
	if t.ACMEChallenge != ChallengeDNS {
		for _, k := range []struct{ key, v string }{
			{"tls.acme_dns_server", t.ACMEDNSServer}, {"tls.acme_dns_zone", t.ACMEDNSZone},
			{"tls.acme_dns_tsig_name", t.ACMEDNSTSIGName}, {"tls.acme_dns_tsig_secret", t.ACMEDNSTSIGSecret},
			{"tls.acme_dns_tsig_secret_file", t.ACMEDNSTSIGSecretFile},
		} {
			if k.v != "" {
				return &FieldError{k.key, fmt.Sprintf("%q", k.v), `only with acme_challenge = "dns-01": remove it, or set acme_challenge = "dns-01"`}
			}
		}
		return nil
	}
	if t.ACMEChallengeListen != "" {
		return &FieldError{"tls.acme_challenge_listen", fmt.Sprintf("%q", t.ACMEChallengeListen), "dns-01 listens on no port: remove acme_challenge_listen"}
	}
	if host, port, err := net.SplitHostPort(t.ACMEDNSServer); err != nil || host == "" || port == "" || len(t.ACMEDNSServer) > 260 {
		return &FieldError{"tls.acme_dns_server", fmt.Sprintf("%q", t.ACMEDNSServer), `dns-01 needs the primary DNS server accepting dynamic updates, host:port, e.g. "ns1.example.com:53"`}
	}
	if t.ACMEDNSZone != "" && !certName(strings.TrimSuffix(t.ACMEDNSZone, ".")) {
		return &FieldError{"tls.acme_dns_zone", fmt.Sprintf("%q", t.ACMEDNSZone), `want the zone's name, e.g. "example.com", or "" to find it by the names' SOA`}
	}
	secrets := 0
	if t.ACMEDNSTSIGSecret != "" {
		secrets++
	}
	if t.ACMEDNSTSIGSecretFile != "" {
		secrets++
	}
	switch {
	case t.ACMEDNSTSIGName == "" && secrets > 0:
		return &FieldError{"tls.acme_dns_tsig_name", `""`, "a TSIG secret is set: name its key too (acme_dns_tsig_name), as the DNS server names it"}
	case t.ACMEDNSTSIGName != "" && !tsigName(t.ACMEDNSTSIGName):
		return &FieldError{"tls.acme_dns_tsig_name", fmt.Sprintf("%q", t.ACMEDNSTSIGName), `want a key name such as "mailroom-acme" (letters, digits, "-", "_", ".")`}
	case t.ACMEDNSTSIGName != "" && secrets != 1:
		return &FieldError{"tls.acme_dns_tsig_secret", "", "set exactly one of acme_dns_tsig_secret and acme_dns_tsig_secret_file for the key"}
	}
	if s := t.ACMEDNSTSIGSecret; s != "" {
		if _, err := base64.StdEncoding.DecodeString(s); err != nil || len(s) > maxTSIGSecret {
			return &FieldError{"tls.acme_dns_tsig_secret", "(hidden)", fmt.Sprintf("want the key's base64 secret (at most %d characters), as in the DNS server's key file", maxTSIGSecret)}
		}
	}
	return nil
}

// tsigName reports whether n can name a TSIG key: a DNS name of
// letters, digits, "-", "_" and ".".
func tsigName(n string) bool {
	if len(n) > 253 || strings.Contains(n, "..") || strings.HasPrefix(n, ".") {
		return false
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}
