package policy

import (
	"slices"
	"strings"
	"testing"
)

func TestTokenLogin(t *testing.T) {
	alice := Token{Issuer: "https://idp", ClaimName: "email", Claim: "Alice@Example.test", Claimed: "alice@example.test",
		Scopes: []string{"openid", "SMTP.Send"}, Required: []string{"SMTP.Send"}, RequiredRoles: []string{"SMTP.SendAsApp"}}
	app := Token{Issuer: "https://idp", AppOnly: true, Client: "c1", Mailboxes: []string{"noreply@example.test", "alerts@example.test"},
		Roles: []string{"SMTP.SendAsApp"}, HasRoles: true, Required: []string{"SMTP.Send"}, RequiredRoles: []string{"SMTP.SendAsApp"}}
	with := func(t Token, f func(*Token)) Token { f(&t); return t }
	for _, tc := range []struct {
		name    string
		t       Token
		mailbox string
		reason  Reason
		detail  string
	}{
		{"delegated, no user", alice, "alice@example.test", ReasonNone, ""},
		{"delegated, user names the mailbox", with(alice, func(t *Token) { t.Asked, t.Requested = "alice.smith@example.test", "alice@example.test" }), "alice@example.test", ReasonNone, ""},
		{"delegated, user names another", with(alice, func(t *Token) { t.Asked, t.Requested = "bob@example.test", "bob@example.test" }), "", ReasonInvalidToken, "logs in only as its own mailbox, not as bob@example.test"},
		{"delegated, user names nothing", with(alice, func(t *Token) { t.Asked, t.Requested = "nobody@example.test", "" }), "", ReasonInvalidToken, "not as nobody@example.test"},
		{"delegated, claim names no mailbox", with(alice, func(t *Token) { t.Claimed = "" }), "", ReasonInvalidToken, "email claim Alice@Example.test names no mailbox"},
		{"delegated, no claim", with(alice, func(t *Token) { t.Claim, t.Claimed = "", "" }), "", ReasonInvalidToken, "has no email claim"},
		{"delegated, scope missing", with(alice, func(t *Token) { t.Scopes = []string{"openid"} }), "", ReasonInsufficientScope, "lacks the scope SMTP.Send (in its scp/scope claim)"},
		{"delegated, role is no scope", with(alice, func(t *Token) { t.Scopes, t.Roles, t.HasRoles = nil, []string{"SMTP.Send"}, true }), "", ReasonInsufficientScope, "scope SMTP.Send"},
		{"app-only", with(app, func(t *Token) { t.Asked, t.Requested = "alerts@example.test", "alerts@example.test" }), "alerts@example.test", ReasonNone, ""},
		{"app-only, not its mailbox", with(app, func(t *Token) { t.Asked, t.Requested = "ceo@example.test", "ceo@example.test" }), "", ReasonInvalidToken, "client c1 (issuer https://idp) may not act as ceo@example.test; it may act as noreply@example.test, alerts@example.test"},
		{"app-only, no user", app, "", ReasonInvalidToken, "needs the mailbox to act as in the SASL user"},
		{"app-only, unregistered client", with(app, func(t *Token) { t.Mailboxes, t.Asked, t.Requested = nil, "alerts@example.test", "alerts@example.test" }), "", ReasonInvalidToken, "mailroom oauth-client add c1 --issuer https://idp"},
		{"app-only, role missing", with(app, func(t *Token) { t.Roles = []string{"Other"} }), "", ReasonInsufficientScope, "lacks the role SMTP.SendAsApp (in its roles claim)"},
		{"app-only, scope is no role", with(app, func(t *Token) { t.Roles, t.Scopes = []string{}, []string{"SMTP.SendAsApp"} }), "", ReasonInsufficientScope, "role SMTP.SendAsApp"},
		{"app-only without a roles claim: its scope", with(app, func(t *Token) {
			t.Roles, t.HasRoles, t.Scopes, t.Asked, t.Requested = nil, false, []string{"SMTP.SendAsApp"}, "alerts@example.test", "alerts@example.test"
		}), "alerts@example.test", ReasonNone, ""},
	} {
		mb, d := TokenLogin(tc.t)
		if mb != tc.mailbox || d.Reason != tc.reason || d.Allow != (tc.reason == ReasonNone) || !strings.Contains(d.Detail, tc.detail) {
			t.Errorf("%s: got %q %+v, want %q %s %q", tc.name, mb, d, tc.mailbox, tc.reason, tc.detail)
		}
	}
}

func TestMissingScopes(t *testing.T) {
	tk := Token{Scopes: []string{"a", "b"}, Required: []string{"c", "a", "d"}}
	if got := MissingScopes(tk); !slices.Equal(got, []string{"c", "d"}) {
		t.Errorf("MissingScopes = %q", got)
	}
	if got := MissingScopes(Token{}); got != nil {
		t.Errorf("nothing required: %q", got)
	}
}
