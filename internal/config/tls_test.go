package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestTLS_ACME: ACME is off by default with Let's Encrypt production and
// tls-alpn-01 as its defaults; acme_names extend hostname; every bad value
// is a FieldError naming its key and saying what to write instead.
func TestTLS_ACME(t *testing.T) {
	d := Default()
	if d.TLS.ACME || d.TLS.ACMEDirectory != LetsEncrypt || d.TLS.ACMEChallenge != ChallengeTLSALPN {
		t.Fatalf("defaults: %+v", d.TLS)
	}
	c, err := Load(write(t, "hostname = \"mail.example.com\"\n[tls]\nacme = true\nacme_email = \"admin@example.com\"\nacme_names = [\"smtp.example.com\", \"MAIL.example.com\"]\nacme_challenge = \"http-01\"\nacme_challenge_listen = \":8080\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(c.ACMEDomains()); got != "[mail.example.com smtp.example.com]" {
		t.Fatalf("ACMEDomains() = %s", got)
	}

	tooMany := strings.TrimSuffix(strings.Repeat(`"a.example.com",`, maxACMENames+1), ",")
	for _, tc := range []struct{ name, toml, key, reason string }{
		{"with cert_file", "cert_file = \"c.pem\"\nkey_file = \"k.pem\"", "tls.acme", "remove cert_file"},
		{"http directory", `acme_directory = "http://ca.example/dir"`, "tls.acme_directory", "https://"},
		{"no directory", `acme_directory = ""`, "tls.acme_directory", "https://"},
		{"bad email", `acme_email = "admin"`, "tls.acme_email", "want an address"},
		{"dns-01 without server", `acme_challenge = "dns-01"`, "tls.acme_dns_server", "host:port"},
		{"unknown challenge", `acme_challenge = "tls-sni-01"`, "tls.acme_challenge", "tls-alpn-01"},
		{"challenge listen", `acme_challenge_listen = "8443"`, "tls.acme_challenge_listen", "host:port"},
		{"address name", `acme_names = ["192.0.2.1"]`, "tls.acme_names", "DNS names"},
		{"one label", `acme_names = ["mail"]`, "tls.acme_names", "DNS names"},
		{"two wildcards", `acme_names = ["*.*.example.com"]`, "tls.acme_names", "DNS names"},
		{"too many", "acme_names = [" + tooMany + "]", "tls.acme_names", "at most 99"},
		{"localhost hostname", "", "hostname", "DNS names"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host := "mail.example.com"
			if tc.key == "hostname" {
				host = "localhost"
			}
			_, err := Load(write(t, "hostname = \""+host+"\"\n[tls]\nacme = true\n"+tc.toml+"\n"))
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Key != tc.key || !strings.Contains(fe.Reason, tc.reason) {
				t.Fatalf("err = %v, want FieldError on %s saying %q", err, tc.key, tc.reason)
			}
		})
	}
	if _, err := Load(write(t, "hostname = \"mail.example.com\"\n[tls]\nacme_names = [\"x\"]\n")); err != nil {
		t.Fatalf("acme off: acme_names are not checked: %v", err)
	}
}
