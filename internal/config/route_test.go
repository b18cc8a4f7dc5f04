package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLoad_Routes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "mailroom.toml")
	body := `[delivery]
postmaster = "it@example.com"

[[delivery.routes]]
domains = ["Example.COM."]
host = "smtp.office365.com:587"
auth = "xoauth2"
oauth_token_url = "https://login.microsoftonline.com/tenant/oauth2/v2.0/token"
oauth_client_id = "app"
oauth_client_secret_file = "secret.txt"
oauth_scope = "https://outlook.office365.com/.default"

[[delivery.routes]]
domains = ["*"]
host = "127.0.0.1:2525"
tls = "none"
auth = "plain"
username = "relay"
password_file = "/run/secrets/relay"
`
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	rs := c.Delivery.Routes
	if len(rs) != 2 || !slices.Equal(rs[0].Domains, []string{"example.com"}) || rs[0].TLS != TLSStartTLS || rs[0].Auth != AuthXOAUTH2 ||
		rs[0].OAuthClientSecretFile != "secret.txt" || rs[1].Domains[0] != "*" || rs[1].Auth != AuthPlain || c.Delivery.Postmaster != "it@example.com" {
		t.Fatalf("loaded routes %+v", rs)
	}
	if rs[0].Username != "" {
		t.Errorf("xoauth2 username %q, want \"\" (the envelope sender)", rs[0].Username)
	}
}

func TestValidate_Routes(t *testing.T) {
	xo := func() Route {
		return Route{Domains: []string{"example.com"}, Host: "smtp.office365.com:587", Auth: AuthXOAUTH2,
			OAuthTokenURL: "https://login.example.com/token", OAuthClientID: "app", OAuthClientSecret: "s", OAuthScope: "x/.default"}
	}
	for _, tc := range []struct {
		name   string
		routes func() []Route
		key    string // "" = valid
	}{
		{"xoauth2", func() []Route { return []Route{xo()} }, ""},
		{"no auth", func() []Route { return []Route{{Domains: []string{"*"}, Host: "relay.example.com:25"}} }, ""},
		{"clear text to loopback with a password", func() []Route {
			return []Route{{Domains: []string{"*"}, Host: "127.0.0.1:25", TLS: TLSNone, Auth: AuthPlain, Username: "u", Password: "p"}}
		}, ""},
		{"clear text to localhost with a token", func() []Route { r := xo(); r.Host, r.TLS = "localhost:25", TLSNone; return []Route{r} }, ""},
		{"no domains", func() []Route { r := xo(); r.Domains = nil; return []Route{r} }, "delivery.routes[0].domains"},
		{"bad domain", func() []Route { r := xo(); r.Domains = []string{"exa mple.com"}; return []Route{r} }, "delivery.routes[0].domains"},
		{"wildcard subdomain", func() []Route { r := xo(); r.Domains = []string{"*.example.com"}; return []Route{r} }, "delivery.routes[0].domains"},
		{"host without port", func() []Route { r := xo(); r.Host = "smtp.office365.com"; return []Route{r} }, "delivery.routes[0].host"},
		{"unknown tls", func() []Route { r := xo(); r.TLS = "tls"; return []Route{r} }, "delivery.routes[0].tls"},
		{"unknown auth", func() []Route { r := xo(); r.Auth = "login"; return []Route{r} }, "delivery.routes[0].auth"},
		{"token in clear text", func() []Route { r := xo(); r.TLS = TLSNone; return []Route{r} }, "delivery.routes[0].tls"},
		{"password in clear text", func() []Route {
			return []Route{{Domains: []string{"*"}, Host: "relay.example.com:25", TLS: TLSNone, Auth: AuthPlain, Username: "u", Password: "p"}}
		}, "delivery.routes[0].tls"},
		{"plain without username", func() []Route {
			return []Route{{Domains: []string{"*"}, Host: "relay.example.com:587", Auth: AuthPlain, Password: "p"}}
		}, "delivery.routes[0].username"},
		{"plain without password", func() []Route {
			return []Route{{Domains: []string{"*"}, Host: "relay.example.com:587", Auth: AuthPlain, Username: "u"}}
		}, "delivery.routes[0].password"},
		{"password and its file", func() []Route {
			return []Route{{Domains: []string{"*"}, Host: "relay.example.com:587", Auth: AuthPlain, Username: "u", Password: "p", PasswordFile: "f"}}
		}, "delivery.routes[0].password_file"},
		{"credentials without auth", func() []Route {
			return []Route{{Domains: []string{"*"}, Host: "relay.example.com:587", Username: "u", Password: "p"}}
		}, "delivery.routes[0].auth"},
		{"token url http", func() []Route { r := xo(); r.OAuthTokenURL = "http://login.example.com/token"; return []Route{r} }, "delivery.routes[0].oauth_token_url"},
		{"token url loopback http", func() []Route { r := xo(); r.OAuthTokenURL = "http://127.0.0.1:8080/token"; return []Route{r} }, ""},
		{"no client id", func() []Route { r := xo(); r.OAuthClientID = ""; return []Route{r} }, "delivery.routes[0].oauth_client_id"},
		{"no secret", func() []Route { r := xo(); r.OAuthClientSecret = ""; return []Route{r} }, "delivery.routes[0].oauth_client_secret"},
		{"secret file", func() []Route {
			r := xo()
			r.OAuthClientSecret, r.OAuthClientSecretFile = "", "s.txt"
			return []Route{r}
		}, ""},
		{"no scope", func() []Route { r := xo(); r.OAuthScope = ""; return []Route{r} }, "delivery.routes[0].oauth_scope"},
		{"domain twice", func() []Route {
			a, b := xo(), xo()
			b.Domains = []string{"other.com", "EXAMPLE.com"}
			return []Route{a, b}
		}, "delivery.routes[1].domains"},
		{"route after *", func() []Route { a, b := xo(), xo(); a.Domains = []string{"*"}; return []Route{a, b} }, "delivery.routes[1]"},
		{"too many routes", func() []Route { return make([]Route, 101) }, "delivery.routes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			c.Delivery.Routes = tc.routes()
			err := c.Validate()
			if tc.key == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || !strings.HasPrefix(fe.Key, tc.key) {
				t.Fatalf("got %v, want a FieldError on %s", err, tc.key)
			}
		})
	}
}
