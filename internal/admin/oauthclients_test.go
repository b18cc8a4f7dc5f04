package admin

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestOAuthClient_Validation: each bad input is refused with the error
// kind callers branch on and a message naming the fix; nothing is written.
func TestOAuthClient_Validation(t *testing.T) {
	const iss = "https://login.example.com/realms/acme"
	a := testService(t)
	ctx := t.Context()
	if _, err := a.AddDomain(ctx, "example.com"); err != nil {
		t.Fatal(err)
	}
	for _, n := range []NewMailbox{{Address: "app@example.com", Password: "long-enough"}, {Address: "info@example.com", Shared: true}} {
		if _, _, err := a.AddMailbox(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	spec := func(iss, id string, mbs ...string) OAuthClientSpec {
		return OAuthClientSpec{Issuer: iss, ClientID: id, Mailboxes: mbs}
	}
	if _, err := a.AddOAuthClient(ctx, spec(iss, "billing", "app@example.com")); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "no [[oauth.issuers]]") {
		t.Errorf("no issuer configured: %v", err)
	}
	a.OAuthIssuers = []string{iss}
	for _, tc := range []struct {
		name string
		spec OAuthClientSpec
		kind error
		text string
	}{
		{"unknown issuer", spec("https://evil.example", "billing", "app@example.com"), ErrInvalid, "is not one of the [[oauth.issuers]] (" + iss + ")"},
		{"empty client id", spec(iss, "", "app@example.com"), ErrInvalid, "Application (client) ID"},
		{"client id with a space", spec(iss, "bill ing", "app@example.com"), ErrInvalid, "without spaces"},
		{"client id with a control", spec(iss, "bill\ning", "app@example.com"), ErrInvalid, "printable"},
		{"client id too long", spec(iss, strings.Repeat("x", MaxClientIDLen+1), "app@example.com"), ErrInvalid, "1 to 256"},
		{"no mailbox", spec(iss, "billing"), ErrInvalid, "--mailbox"},
		{"unknown mailbox", spec(iss, "billing", "app@example.com", "nobody@example.com"), ErrNotFound, "mailroom mailbox list"},
		{"shared mailbox", spec(iss, "billing", "info@example.com"), ErrInvalid, "send-as grant on info@example.com"},
		{"bad address", spec(iss, "billing", "not an address"), ErrInvalid, ""},
	} {
		_, err := a.AddOAuthClient(ctx, tc.spec)
		if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s: %v; want %v naming %q", tc.name, err, tc.kind, tc.text)
		}
	}
	if cs, err := a.OAuthClients(ctx); err != nil || len(cs) != 0 {
		t.Fatalf("clients after refusals: %+v, %v", cs, err)
	}

	// An exact client id of Entra's form, a mailbox in any case.
	c, err := a.AddOAuthClient(ctx, spec(iss, strings.Repeat("x", MaxClientIDLen), "App@Example.COM"))
	if err != nil || !slices.Equal(c.Mailboxes, []string{"app@example.com"}) {
		t.Fatalf("add: %+v, %v", c, err)
	}
	err = a.RemoveOAuthClient(ctx, spec(iss, "billing"))
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "mailroom oauth-client list") {
		t.Errorf("remove unknown client: %v", err)
	}
	err = a.RemoveOAuthClient(ctx, spec("", "billing"))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "--issuer") {
		t.Errorf("remove without issuer: %v", err)
	}
	// An issuer no longer configured still lets its clients be removed.
	a.OAuthIssuers = nil
	if err := a.RemoveOAuthClient(ctx, spec(iss, c.ClientID, "APP@example.com")); err != nil {
		t.Errorf("remove mailbox of a client whose issuer went: %v", err)
	}
}
