package config

import (
	"fmt"
	"net"
	"strings"
)

// Route carries the mail of some recipient domains to one upstream host,
// [[delivery.routes]]: a relay such as Microsoft 365 or Google Workspace,
// reached with no AUTH, a password, or OAuth client credentials (SASL
// XOAUTH2). Routes are tried in order, the first whose Domains hold a
// recipient's domain carries it; the smarthost keys (or MX when empty)
// carry the rest.
type Route struct {
	// Domains are the recipient domains the route carries, e.g.
	// ["example.com"]; "*" is every remote domain. Required, at most 1000.
	Domains []string `toml:"domains"`
	// Host is the upstream, "host:port", e.g. "smtp.office365.com:587".
	// Required.
	Host string `toml:"host"`
	// TLS is "starttls" (required, certificate verified), "implicit" (TLS
	// from the first byte, as on port 465, verified) or "none" (plain
	// text: refused with credentials unless Host is a loopback address).
	// Default "starttls".
	TLS string `toml:"tls"`
	// Auth is "none", "plain" (Username and Password) or "xoauth2" (an
	// access token from the OAuth keys, SASL XOAUTH2). Default "none".
	Auth string `toml:"auth"`
	// Username is the login with auth = "plain"; with auth = "xoauth2" the
	// user= field, "" meaning each message's envelope sender (the mailbox
	// the upstream checks Send As against). Default "".
	Username string `toml:"username"`
	// Password is the password with auth = "plain"; PasswordFile names a
	// file holding it instead (its trailing newline dropped), so the
	// config file need hold no secret. Set one of them.
	Password     string `toml:"password"`
	PasswordFile string `toml:"password_file"`
	// OAuthTokenURL is the token endpoint of the client-credentials grant
	// (RFC 6749 §4.4), e.g.
	// "https://login.microsoftonline.com/TENANT/oauth2/v2.0/token"; https,
	// or http on a loopback address. Required with auth = "xoauth2".
	OAuthTokenURL string `toml:"oauth_token_url"`
	// OAuthClientID is the application (client) id. Required with
	// auth = "xoauth2".
	OAuthClientID string `toml:"oauth_client_id"`
	// OAuthClientSecret is the client secret; OAuthClientSecretFile names
	// a file holding it instead. Set one of them with auth = "xoauth2".
	OAuthClientSecret     string `toml:"oauth_client_secret"`
	OAuthClientSecretFile string `toml:"oauth_client_secret_file"`
	// OAuthScope is the scope asked for, e.g.
	// "https://outlook.office365.com/.default". Required with
	// auth = "xoauth2".
	OAuthScope string `toml:"oauth_scope"`
}

// Route AUTH kinds.
const (
	AuthNone    = "none"
	AuthPlain   = "plain"
	AuthXOAUTH2 = "xoauth2"
)

// Bounds of [[delivery.routes]].
const (
	maxRoutes       = 100
	maxRouteDomains = 1000
	maxSecret       = 4096
)

// validate checks route i and fills its defaults (tls, auth, lower-case
// domains without a trailing dot).
func (r *Route) validate(i int) error {
	key := fmt.Sprintf("delivery.routes[%d]", i)
	if len(r.Domains) == 0 || len(r.Domains) > maxRouteDomains {
		return &FieldError{key + ".domains", len(r.Domains), fmt.Sprintf(`want 1 to %d recipient domains, e.g. ["example.com"], or ["*"] for every remote domain`, maxRouteDomains)}
	}
	for j, d := range r.Domains {
		d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
		if d != "*" && !domainShaped(d) {
			return &FieldError{key + ".domains", fmt.Sprintf("%q", r.Domains[j]), `want a domain name such as "example.com", or "*"`}
		}
		r.Domains[j] = d
	}
	h, p, err := net.SplitHostPort(r.Host)
	if err != nil || h == "" || p == "" || len(r.Host) > 300 {
		return &FieldError{key + ".host", fmt.Sprintf("%q", r.Host), `want host:port, e.g. "smtp.office365.com:587"`}
	}
	if r.TLS == "" {
		r.TLS = TLSStartTLS
	}
	if r.Auth == "" {
		r.Auth = AuthNone
	}
	switch r.TLS {
	case TLSStartTLS, TLSImplicit, TLSNone:
	default:
		return &FieldError{key + ".tls", fmt.Sprintf("%q", r.TLS), "want starttls, implicit or none"}
	}
	if len(r.Username) > 320 {
		return &FieldError{key + ".username", fmt.Sprintf("(%d octets)", len(r.Username)), "want at most 320 octets"}
	}
	switch r.Auth {
	case AuthNone:
		if r.Username != "" || r.Password != "" || r.PasswordFile != "" || r.OAuthClientSecret != "" || r.OAuthClientSecretFile != "" {
			return &FieldError{key + ".auth", `"none"`, `credentials are set but unused: set auth = "plain" or "xoauth2", or remove them`}
		}
	case AuthPlain:
		if r.Username == "" {
			return &FieldError{key + ".username", `""`, `required with auth = "plain"`}
		}
		if err := oneSecret(key, "password", r.Password, r.PasswordFile); err != nil {
			return err
		}
	case AuthXOAUTH2:
		if err := checkIssuerURL(r.OAuthTokenURL); err != nil {
			return &FieldError{key + ".oauth_token_url", fmt.Sprintf("%q", r.OAuthTokenURL), err.Error()}
		}
		if r.OAuthClientID == "" || len(r.OAuthClientID) > 256 {
			return &FieldError{key + ".oauth_client_id", fmt.Sprintf("%q", r.OAuthClientID), "required (at most 256 octets): the application (client) id"}
		}
		if err := oneSecret(key, "oauth_client_secret", r.OAuthClientSecret, r.OAuthClientSecretFile); err != nil {
			return err
		}
		if r.OAuthScope == "" || len(r.OAuthScope) > 1024 {
			return &FieldError{key + ".oauth_scope", fmt.Sprintf("%q", r.OAuthScope), `required (at most 1024 octets), e.g. "https://outlook.office365.com/.default"`}
		}
	default:
		return &FieldError{key + ".auth", fmt.Sprintf("%q", r.Auth), "want none, plain or xoauth2"}
	}
	if r.TLS == TLSNone && r.Auth != AuthNone && !isLoopbackHost(h) {
		return &FieldError{key + ".tls", `"none"`, "the credentials would cross the network in clear text; use \"starttls\" or \"implicit\" (\"none\" only with a loopback host)"}
	}
	return nil
}

// oneSecret wants exactly one of a secret and the file holding it.
func oneSecret(key, name, value, file string) error {
	switch {
	case value == "" && file == "":
		return &FieldError{key + "." + name, `""`, fmt.Sprintf("set %s or %s_file", name, name)}
	case value != "" && file != "":
		return &FieldError{key + "." + name + "_file", fmt.Sprintf("%q", file), fmt.Sprintf("set %s or %s_file, not both", name, name)}
	case len(value) > maxSecret:
		return &FieldError{key + "." + name, "(set)", fmt.Sprintf("at most %d octets", maxSecret)}
	}
	return nil
}

// domainShaped reports whether d looks like a domain name: dot-separated
// labels of letters, digits, hyphens (and UTF-8), 1 to 63 octets each,
// 253 in all.
func domainShaped(d string) bool {
	if d == "" || len(d) > 253 {
		return false
	}
	for _, l := range strings.Split(d, ".") {
		if l == "" || len(l) > 63 || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return false
		}
		for _, c := range []byte(l) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c >= 0x80) {
				return false
			}
		}
	}
	return true
}

// isLoopbackHost reports whether host is "localhost" or a loopback IP
// address: clear text to it never leaves the machine.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
