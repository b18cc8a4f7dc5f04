package daemon

import (
	"log/slog"

	"mailroom/internal/config"
	"mailroom/internal/oauth"
)

// newOAuth is the token verifier of the [[oauth.issuers]]; with none,
// XOAUTH2 and OAUTHBEARER are not offered.
func newOAuth(c config.OAuth, log *slog.Logger) (*oauth.Verifier, error) {
	var issuers []oauth.Issuer
	for _, is := range c.Issuers {
		issuers = append(issuers, oauth.Issuer{Issuer: is.Issuer, Audience: is.Audience, JWKSURL: is.JWKSURL, UsernameClaim: is.UsernameClaim,
			RequiredScopes: is.RequiredScopes, RequiredRoles: is.RequiredRoles})
	}
	return oauth.New(oauth.Options{Issuers: issuers, Log: log})
}
