package web

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
)

// TestAPI_OAuthClients: add (and extend), list, take a mailbox and remove
// an app-only OAuth client; invalid input is 400, unknown names 404.
func TestAPI_OAuthClients(t *testing.T) {
	const iss = "https://login.example.com/realms/acme"
	srv, tok, a := apiServerAdmin(t)
	a.OAuthIssuers = []string{iss}
	call(t, srv, tok, "POST", "/api/v1/domains", `{"name":"example.com"}`, nil)
	for _, m := range []string{"alice@example.com", "bob@example.com"} {
		if got := call(t, srv, tok, "POST", "/api/v1/mailboxes", `{"address":"`+m+`","password":"long-enough"}`, nil); got != http.StatusCreated {
			t.Fatalf("add mailbox %s: %d", m, got)
		}
	}
	var c oauthClientJSON
	if got := call(t, srv, tok, "POST", "/api/v1/oauth-clients", `{"issuer":"`+iss+`","client_id":"billing","mailboxes":["alice@example.com"]}`, &c); got != http.StatusCreated ||
		c.Issuer != iss || c.ClientID != "billing" || !slices.Equal(c.Mailboxes, []string{"alice@example.com"}) || c.CreatedAt.IsZero() {
		t.Fatalf("add: %d %+v", got, c)
	}
	if got := call(t, srv, tok, "POST", "/api/v1/oauth-clients", `{"issuer":"`+iss+`","client_id":"billing","mailboxes":["Bob@example.com"]}`, &c); got != http.StatusCreated ||
		!slices.Equal(c.Mailboxes, []string{"alice@example.com", "bob@example.com"}) {
		t.Fatalf("extend: %d %+v", got, c)
	}
	wantError(t, srv, tok, "POST", "/api/v1/oauth-clients", `{"issuer":"https://evil.example","client_id":"x","mailboxes":["alice@example.com"]}`, http.StatusBadRequest, "invalid")
	wantError(t, srv, tok, "POST", "/api/v1/oauth-clients", `{"issuer":"`+iss+`","client_id":"has space","mailboxes":["alice@example.com"]}`, http.StatusBadRequest, "invalid")
	wantError(t, srv, tok, "POST", "/api/v1/oauth-clients", `{"issuer":"`+iss+`","client_id":"x","mailboxes":[]}`, http.StatusBadRequest, "invalid")
	wantError(t, srv, tok, "POST", "/api/v1/oauth-clients", `{"issuer":"`+iss+`","client_id":"x","mailboxes":["nobody@example.com"]}`, http.StatusNotFound, "not_found")

	var cs []oauthClientJSON
	if got := call(t, srv, tok, "GET", "/api/v1/oauth-clients", "", &cs); got != http.StatusOK || len(cs) != 1 || len(cs[0].Mailboxes) != 2 {
		t.Fatalf("list: %d %+v", got, cs)
	}
	q := url.Values{"issuer": {iss}, "client_id": {"billing"}, "mailbox": {"alice@example.com"}}
	if got := call(t, srv, tok, "DELETE", "/api/v1/oauth-clients?"+q.Encode(), "", nil); got != http.StatusNoContent {
		t.Fatalf("take alice: %d", got)
	}
	wantError(t, srv, tok, "DELETE", "/api/v1/oauth-clients?"+q.Encode(), "", http.StatusNotFound, "not_found")
	q.Del("mailbox")
	if got := call(t, srv, tok, "DELETE", "/api/v1/oauth-clients?"+q.Encode(), "", nil); got != http.StatusNoContent {
		t.Fatalf("remove client: %d", got)
	}
	wantError(t, srv, tok, "DELETE", "/api/v1/oauth-clients?"+q.Encode(), "", http.StatusNotFound, "not_found")
	cs = nil
	if got := call(t, srv, tok, "GET", "/api/v1/oauth-clients", "", &cs); got != http.StatusOK || len(cs) != 0 {
		t.Fatalf("list after removal: %d %+v", got, cs)
	}
}
