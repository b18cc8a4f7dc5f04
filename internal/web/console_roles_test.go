package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestConsole_DomainRoles: the domains page lists each domain with its
// role.
func TestConsole_DomainRoles(t *testing.T) {
	srv, a := consoleServer(t)
	if _, err := a.AddDomainWithRole(context.Background(), "relay.example", "relay"); err != nil {
		t.Fatal(err)
	}
	c := newConsoleClient(t, srv)
	c.login("root", "correct-horse-battery")
	status, _, body := c.do("GET", "/domains", nil)
	if status != http.StatusOK || !strings.Contains(body, `>example.test</a></td><td>hosted</td>`) ||
		!strings.Contains(body, `>relay.example</a></td><td>relay (mail lives upstream)</td>`) {
		t.Fatalf("domains page: %d\n%s", status, body)
	}
}
