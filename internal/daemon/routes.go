package daemon

import (
	"fmt"
	"os"
	"strings"

	"mailroom/internal/config"
	"mailroom/internal/delivery"
	"mailroom/internal/oauth"
)

// maxSecretFile bounds a password_file or oauth_client_secret_file.
const maxSecretFile = 4096

// deliveryRoutes turns [[delivery.routes]] into delivery's routes: TLS
// modes translated, secrets read from their files, one token source per
// XOAUTH2 route.
func deliveryRoutes(cfg *config.Config) ([]delivery.Route, error) {
	tlsMode := map[string]string{config.TLSStartTLS: delivery.TLSRequired, config.TLSImplicit: delivery.TLSImplicit, config.TLSNone: delivery.TLSNone}
	var out []delivery.Route
	for i, r := range cfg.Delivery.Routes {
		key := fmt.Sprintf("delivery.routes[%d]", i)
		dr := delivery.Route{Domains: r.Domains, Host: r.Host, TLS: tlsMode[r.TLS], Auth: r.Auth, Username: r.Username}
		switch r.Auth {
		case config.AuthPlain:
			pw, err := secret(cfg, key+".password_file", r.Password, r.PasswordFile)
			if err != nil {
				return nil, err
			}
			dr.Password = pw
		case config.AuthXOAUTH2:
			cs, err := secret(cfg, key+".oauth_client_secret_file", r.OAuthClientSecret, r.OAuthClientSecretFile)
			if err != nil {
				return nil, err
			}
			dr.Tokens = oauth.NewTokenSource(oauth.ClientCredentials{TokenURL: r.OAuthTokenURL, ClientID: r.OAuthClientID, ClientSecret: cs, Scope: r.OAuthScope})
		}
		out = append(out, dr)
	}
	return out, nil
}

// secret is value, or the content of file (relative to the config file)
// without its trailing newline.
func secret(cfg *config.Config, key, value, file string) (string, error) {
	if file == "" {
		return value, nil
	}
	b, err := os.ReadFile(cfg.Path(file))
	if err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" || len(s) > maxSecretFile {
		return "", fmt.Errorf("%s %s: want 1 to %d octets, has %d", key, file, maxSecretFile, len(s))
	}
	return s, nil
}
