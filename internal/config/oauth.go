package config

import (
	"fmt"
	"net"
	"net/url"
	"slices"
)

// OAuth configures the identity providers whose access tokens log in
// over SMTP AUTH XOAUTH2 and OAUTHBEARER. With no issuer (the default)
// neither mechanism is offered.
type OAuth struct {
	// Issuers are the trusted identity providers, [[oauth.issuers]]; at
	// most 20.
	Issuers []OAuthIssuer `toml:"issuers"`
}

// OAuthIssuer is one trusted identity provider.
type OAuthIssuer struct {
	// Issuer is the iss its tokens carry, e.g.
	// "https://login.microsoftonline.com/TENANT/v2.0"; its discovery
	// document is at Issuer + "/.well-known/openid-configuration". It must
	// be https, except on a loopback address (http://127.0.0.1:8081/...).
	// Required.
	Issuer string `toml:"issuer"`
	// Audience is the aud a token must carry, e.g. "api://mailroom".
	// Required.
	Audience string `toml:"audience"`
	// JWKSURL overrides the jwks_uri of the discovery document (which is
	// then not fetched). Same scheme rule as Issuer. Default "".
	JWKSURL string `toml:"jwks_url"`
	// UsernameClaim is the claim that names the mailbox in a delegated (a
	// person's) token: "email", "preferred_username" or "upn".
	// Default "email".
	UsernameClaim string `toml:"username_claim"`
	// RequiredScopes must all be in a delegated token's scp or scope
	// claim. Default none.
	RequiredScopes []string `toml:"required_scopes"`
	// RequiredRoles must all be in an app-only (client-credentials)
	// token's roles claim (its scope when it has no roles claim).
	// Default: RequiredScopes.
	RequiredRoles []string `toml:"required_roles"`
}

// maxIssuers bounds [[oauth.issuers]].
const maxIssuers = 20

// validate checks every issuer, and fills username_claim and
// required_roles with their defaults.
func (o *OAuth) validate() error {
	if len(o.Issuers) > maxIssuers {
		return &FieldError{"oauth.issuers", len(o.Issuers), fmt.Sprintf("at most %d issuers", maxIssuers)}
	}
	seen := map[string]bool{}
	for i := range o.Issuers {
		is := &o.Issuers[i]
		key := fmt.Sprintf("oauth.issuers[%d]", i)
		if err := checkIssuerURL(is.Issuer); err != nil {
			return &FieldError{key + ".issuer", fmt.Sprintf("%q", is.Issuer), err.Error()}
		}
		if seen[is.Issuer] {
			return &FieldError{key + ".issuer", fmt.Sprintf("%q", is.Issuer), "appears twice; merge the two entries"}
		}
		seen[is.Issuer] = true
		if is.Audience == "" || len(is.Audience) > 1024 {
			return &FieldError{key + ".audience", fmt.Sprintf("%q", is.Audience), `required (at most 1024 octets): the aud its tokens carry, e.g. "api://mailroom"`}
		}
		if is.JWKSURL != "" {
			if err := checkIssuerURL(is.JWKSURL); err != nil {
				return &FieldError{key + ".jwks_url", fmt.Sprintf("%q", is.JWKSURL), err.Error()}
			}
		}
		if is.UsernameClaim == "" {
			is.UsernameClaim = "email"
		}
		if !slices.Contains([]string{"email", "preferred_username", "upn"}, is.UsernameClaim) {
			return &FieldError{key + ".username_claim", fmt.Sprintf("%q", is.UsernameClaim), "want email, preferred_username or upn"}
		}
		if is.RequiredRoles == nil {
			is.RequiredRoles = is.RequiredScopes
		}
		for _, s := range append(slices.Clone(is.RequiredScopes), is.RequiredRoles...) {
			if s == "" || len(s) > 256 {
				return &FieldError{key + ".required_scopes", fmt.Sprintf("%q", s), "a scope or role must be 1 to 256 octets"}
			}
		}
	}
	return nil
}

// checkIssuerURL wants an https URL, or http on a loopback IP address
// (config imports no mailroom package; oauth.CheckURL checks the same).
func checkIssuerURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || len(raw) > 1024 {
		return fmt.Errorf("want an absolute URL with a host and no user, query or fragment, e.g. \"https://login.example.com/realms/acme\"")
	}
	if u.Scheme == "https" {
		return nil
	}
	if ip := net.ParseIP(u.Hostname()); u.Scheme == "http" && ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("want https (http only on a loopback address such as 127.0.0.1, for tests and local identity providers)")
}
