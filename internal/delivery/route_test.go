package delivery_test

import (
	"testing"

	"mailroom/internal/delivery"
)

func TestSelectRoute(t *testing.T) {
	routes := []delivery.Route{
		{Domains: []string{"example.com", "example.org"}},
		{Domains: []string{"partner.test"}},
		{Domains: []string{"*"}},
	}
	for _, tc := range []struct {
		name   string
		routes []delivery.Route
		domain string
		want   int
	}{
		{"first route", routes, "example.com", 0},
		{"second domain of the first route", routes, "example.org", 0},
		{"second route", routes, "partner.test", 1},
		{"anything else takes *", routes, "gmail.com", 2},
		{"a subdomain is another domain", routes[:2], "mail.example.com", -1},
		{"no route: MX", routes[:2], "gmail.com", -1},
		{"no routes at all", nil, "example.com", -1},
		{"* first takes everything", []delivery.Route{{Domains: []string{"*"}}, routes[0]}, "example.com", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := delivery.SelectRoute(tc.routes, tc.domain); got != tc.want {
				t.Errorf("SelectRoute(%s) = %d, want %d", tc.domain, got, tc.want)
			}
		})
	}
}

func TestXOAUTH2User(t *testing.T) {
	for _, tc := range []struct {
		name, username, from, postmaster, rcpt, want string
	}{
		{"the sender", "", "alice@example.com", "it@example.com", "bob@example.com", "alice@example.com"},
		{"the configured username wins", "relay@example.com", "alice@example.com", "it@example.com", "bob@example.com", "relay@example.com"},
		{"a notice logs in as the postmaster", "", "", "it@example.com", "alice@example.com", "it@example.com"},
		{"a notice without a postmaster logs in as its recipient", "", "", "", "alice@example.com", "alice@example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := delivery.XOAUTH2User(tc.username, tc.from, tc.postmaster, tc.rcpt); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
