package config

import (
	"errors"
	"slices"
	"testing"
)

func TestLoad_OAuth(t *testing.T) {
	c, err := Load(write(t, `
[[oauth.issuers]]
issuer = "https://login.example.com/realms/acme"
audience = "api://mailroom"
required_scopes = ["SMTP.Send"]

[[oauth.issuers]]
issuer = "http://127.0.0.1:8081/idp"
audience = "mailroom"
username_claim = "upn"
required_roles = ["SMTP.SendAsApp"]
`))
	if err != nil {
		t.Fatal(err)
	}
	a, b := c.OAuth.Issuers[0], c.OAuth.Issuers[1]
	if a.UsernameClaim != "email" || !slices.Equal(a.RequiredRoles, []string{"SMTP.Send"}) {
		t.Errorf("defaults: username_claim %q, required_roles %q", a.UsernameClaim, a.RequiredRoles)
	}
	if b.UsernameClaim != "upn" || len(b.RequiredScopes) != 0 || !slices.Equal(b.RequiredRoles, []string{"SMTP.SendAsApp"}) {
		t.Errorf("second issuer: %+v", b)
	}
}

func TestLoad_OAuthRefused(t *testing.T) {
	for _, tc := range []struct{ toml, key string }{
		{"issuer = \"http://login.example.com\"\naudience = \"a\"", "oauth.issuers[0].issuer"},
		{"issuer = \"http://192.0.2.1/\"\naudience = \"a\"", "oauth.issuers[0].issuer"},
		{"issuer = \"login.example.com\"\naudience = \"a\"", "oauth.issuers[0].issuer"},
		{"issuer = \"https://login.example.com\"", "oauth.issuers[0].audience"},
		{"issuer = \"https://login.example.com\"\naudience = \"a\"\njwks_url = \"http://keys.example.com/\"", "oauth.issuers[0].jwks_url"},
		{"issuer = \"https://login.example.com\"\naudience = \"a\"\nusername_claim = \"sub\"", "oauth.issuers[0].username_claim"},
		{"issuer = \"https://login.example.com\"\naudience = \"a\"\nrequired_scopes = [\"\"]", "oauth.issuers[0].required_scopes"},
		{"issuer = \"https://a.example\"\naudience = \"a\"\n[[oauth.issuers]]\nissuer = \"https://a.example\"\naudience = \"b\"", "oauth.issuers[1].issuer"},
	} {
		_, err := Load(write(t, "[[oauth.issuers]]\n"+tc.toml+"\n"))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Key != tc.key {
			t.Errorf("%s: got %v, want an error on %s", tc.toml, err, tc.key)
		}
	}
}
