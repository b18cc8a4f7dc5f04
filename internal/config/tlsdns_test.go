package config

import (
	"errors"
	"strings"
	"testing"
)

// TestTLS_ACMEDNS: dns-01 takes the tls.acme_dns_* keys, which are
// refused with the other challenges; every bad value is a FieldError
// naming its key.
func TestTLS_ACMEDNS(t *testing.T) {
	const head = "hostname = \"mail.example.com\"\n[tls]\nacme = true\n"
	const ok = "acme_challenge = \"dns-01\"\nacme_dns_server = \"ns1.example.com:53\"\n"
	c, err := Load(write(t, head+ok+"acme_dns_zone = \"example.com.\"\nacme_dns_tsig_name = \"mailroom-acme\"\nacme_dns_tsig_secret = \"c2VjcmV0\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.TLS.ACMEDNSServer != "ns1.example.com:53" || c.TLS.ACMEDNSTSIGName != "mailroom-acme" {
		t.Fatalf("tls = %+v", c.TLS)
	}
	if _, err := Load(write(t, head+ok+"acme_dns_tsig_name = \"k\"\nacme_dns_tsig_secret_file = \"tsig.key\"\n")); err != nil {
		t.Fatalf("secret file: %v", err)
	}
	for _, tc := range []struct{ name, toml, key, reason string }{
		{"server without dns-01", `acme_dns_server = "ns1.example.com:53"`, "tls.acme_dns_server", "only with"},
		{"secret without dns-01", `acme_dns_tsig_secret = "c2VjcmV0"`, "tls.acme_dns_tsig_secret", "only with"},
		{"no port", "acme_challenge = \"dns-01\"\nacme_dns_server = \"ns1.example.com\"", "tls.acme_dns_server", "host:port"},
		{"listen", ok + `acme_challenge_listen = ":8443"`, "tls.acme_challenge_listen", "no port"},
		{"bad zone", ok + `acme_dns_zone = "com"`, "tls.acme_dns_zone", "zone's name"},
		{"secret without name", ok + `acme_dns_tsig_secret = "c2VjcmV0"`, "tls.acme_dns_tsig_name", "name its key"},
		{"name without secret", ok + `acme_dns_tsig_name = "k"`, "tls.acme_dns_tsig_secret", "exactly one"},
		{"both secrets", ok + "acme_dns_tsig_name = \"k\"\nacme_dns_tsig_secret = \"c2VjcmV0\"\nacme_dns_tsig_secret_file = \"f\"", "tls.acme_dns_tsig_secret", "exactly one"},
		{"bad name", ok + "acme_dns_tsig_name = \"k y\"\nacme_dns_tsig_secret = \"c2VjcmV0\"", "tls.acme_dns_tsig_name", "key name"},
		{"not base64", ok + "acme_dns_tsig_name = \"k\"\nacme_dns_tsig_secret = \"not base64!\"", "tls.acme_dns_tsig_secret", "base64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(write(t, head+tc.toml+"\n"))
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Key != tc.key || !strings.Contains(fe.Reason, tc.reason) {
				t.Fatalf("err = %v, want FieldError on %s saying %q", err, tc.key, tc.reason)
			}
		})
	}
}
