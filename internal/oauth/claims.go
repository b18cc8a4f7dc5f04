package oauth

import (
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

// claims are the token claims mailroom reads, from the providers it
// documents: Entra ID (v1 and v2), Keycloak, Google, Authentik, Dex.
type claims struct {
	Issuer    string           `json:"iss"`
	Subject   string           `json:"sub"`
	Audience  jwt.Audience     `json:"aud"`
	Expiry    *jwt.NumericDate `json:"exp"`
	NotBefore *jwt.NumericDate `json:"nbf"`
	IssuedAt  *jwt.NumericDate `json:"iat"`
	JTI       string           `json:"jti"`

	AZP      string `json:"azp"`       // OIDC, Entra v2, Keycloak
	ClientID string `json:"client_id"` // RFC 9068, Keycloak service accounts
	AppID    string `json:"appid"`     // Entra v1
	IDType   string `json:"idtyp"`     // Entra's optional claim: "app" or "user"

	Scp   *string   `json:"scp"`   // Entra: space-separated delegated scopes
	Scope *string   `json:"scope"` // RFC 8693 / 9068, Keycloak
	Roles *[]string `json:"roles"` // Entra app roles

	Email             string `json:"email"`
	EmailVerified     *bool  `json:"email_verified"`
	PreferredUsername string `json:"preferred_username"`
	UPN               string `json:"upn"`
}

// check validates the claims of a token whose signature verified.
func (c *claims) check(is Issuer, now time.Time) error {
	if !slices.Contains(c.Audience, is.Audience) {
		return invalid("the token's audience %s is not %s", clip(strings.Join(c.Audience, " ")), is.Audience)
	}
	if c.Expiry == nil {
		return invalid("the token has no exp (expiry) claim")
	}
	if exp := c.Expiry.Time(); !now.Before(exp.Add(Skew)) {
		return invalid("the token expired at %s; request a new one", exp.UTC().Format(time.RFC3339))
	}
	if c.NotBefore != nil {
		if nbf := c.NotBefore.Time(); now.Add(Skew).Before(nbf) {
			return invalid("the token is not valid before %s; check the clocks of this server and of the identity provider", nbf.UTC().Format(time.RFC3339))
		}
	}
	if c.IssuedAt != nil {
		if iat := c.IssuedAt.Time(); now.Add(Skew).Before(iat) {
			return invalid("the token was issued in the future (%s); check the clocks of this server and of the identity provider", iat.UTC().Format(time.RFC3339))
		}
	}
	if is.UsernameClaim == "email" && c.EmailVerified != nil && !*c.EmailVerified {
		return invalid("the token's email %s is not verified (email_verified is false), so it cannot name a mailbox", clip(c.Email))
	}
	return nil
}

// identity is the Identity of checked claims.
func (c *claims) identity(is Issuer) *Identity {
	id := &Identity{Issuer: c.Issuer, Subject: c.Subject, JTI: c.JTI, Expiry: c.Expiry.Time(),
		ClientID: firstOf(c.AZP, c.ClientID, c.AppID), ClaimName: is.UsernameClaim, Username: c.username(is.UsernameClaim),
		RequiredScopes: is.RequiredScopes, RequiredRoles: is.RequiredRoles}
	switch {
	case c.Scp != nil:
		id.Scopes = strings.Fields(*c.Scp)
	case c.Scope != nil:
		id.Scopes = strings.Fields(*c.Scope)
	}
	if c.Roles != nil {
		id.Roles, id.HasRoles = *c.Roles, true
	}
	id.AppOnly = c.appOnly(id.Username)
	return id
}

// appOnly tells a client-credentials token from a person's: Entra's idtyp
// when the tenant emits it; else a token with scp is delegated (Entra
// never puts scp in an app token); else a token whose user claim holds an
// address is a person's. Anything else acts for its client: Entra's app
// tokens (no scp, no upn), Keycloak's service accounts (no email;
// preferred_username "service-account-…", not an address).
func (c *claims) appOnly(username string) bool {
	switch c.IDType {
	case "app":
		return true
	case "user":
		return false
	}
	if c.Scp != nil {
		return false
	}
	return !strings.Contains(username, "@")
}

// username is the value of the named user claim.
func (c *claims) username(name string) string {
	switch name {
	case "preferred_username":
		return c.PreferredUsername
	case "upn":
		return c.UPN
	}
	return c.Email
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
