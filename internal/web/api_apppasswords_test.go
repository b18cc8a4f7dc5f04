package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"mailroom/internal/admin"
)

// TestAPI_AppPasswordNetworks: PATCH changes an app password's networks
// and keeps its password; an empty list lifts the restriction.
func TestAPI_AppPasswordNetworks(t *testing.T) {
	srv, tok, a := apiServerWithMailbox(t)
	ctx := context.Background()
	if _, _, err := a.AddAppPassword(ctx, admin.NewAppPassword{Mailbox: "app@example.com", Label: "printer", Networks: []string{"192.0.2.7"}}); err != nil {
		t.Fatal(err)
	}
	hash := func() string {
		aps, err := a.AppPasswords(ctx, "app@example.com")
		if err != nil || len(aps) != 1 {
			t.Fatalf("app passwords: %v %v", aps, err)
		}
		return aps[0].PasswordHash
	}
	before := hash()
	const path = "/api/v1/mailboxes/app@example.com/app-passwords/printer"
	var ap appPasswordJSON
	if got := call(t, srv, tok, "PATCH", path, `{"networks":["198.51.100.0/24","192.0.2.8"]}`, &ap); got != http.StatusOK ||
		!slices.Equal(ap.Networks, []string{"198.51.100.0/24", "192.0.2.8/32"}) || ap.Label != "printer" {
		t.Fatalf("patch: %d %+v", got, ap)
	}
	if hash() != before {
		t.Fatal("changing the networks reissued the password")
	}
	if got := call(t, srv, tok, "PATCH", path, `{"networks":[]}`, &ap); got != http.StatusOK || len(ap.Networks) != 0 {
		t.Fatalf("patch to no networks: %d %+v", got, ap)
	}
	wantError(t, srv, tok, "PATCH", path, `{}`, http.StatusBadRequest, "invalid")
	wantError(t, srv, tok, "PATCH", path, `{"networks":["not-a-network"]}`, http.StatusBadRequest, "invalid")
	wantError(t, srv, tok, "PATCH", "/api/v1/mailboxes/app@example.com/app-passwords/laptop", `{"networks":[]}`, http.StatusNotFound, "not_found")
}

// TestAPI_DurationsTakeDays: API durations read days as the CLI and the
// configuration do.
func TestAPI_DurationsTakeDays(t *testing.T) {
	srv, tok, _ := apiServerWithMailbox(t)
	var m mailboxJSON
	if got := call(t, srv, tok, "PATCH", "/api/v1/mailboxes/app@example.com", `{"sent_retention":"30d"}`, &m); got != http.StatusOK || m.SentRetention != "720h0m0s" {
		t.Errorf("sent_retention 30d: %d %+v", got, m)
	}
	if got := call(t, srv, tok, "GET", "/api/v1/trace?since=1d", "", nil); got != http.StatusOK {
		t.Errorf("trace since=1d: %d", got)
	}
}

// apiServerWithMailbox is apiServerAdmin with example.com and its mailbox
// app@.
func apiServerWithMailbox(t *testing.T) (*httptest.Server, string, *admin.Service) {
	t.Helper()
	srv, tok, a := apiServerAdmin(t)
	ctx := context.Background()
	if _, err := a.AddDomain(ctx, "example.com"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.AddMailbox(ctx, admin.NewMailbox{Address: "app@example.com", Password: "long-enough-password"}); err != nil {
		t.Fatal(err)
	}
	return srv, tok, a
}
