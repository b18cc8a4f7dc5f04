package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"mailroom/internal/admin"
)

// TestConsole_Connectors: the connectors page lists a connector; the add
// form creates one through admin, a refused one shows admin's reason, and
// the connector's page changes it, and the remove form deletes it.
func TestConsole_Connectors(t *testing.T) {
	srv, a := consoleServer(t)
	ctx := context.Background()
	fp := strings.Repeat("ab", 32)
	if _, err := a.AddConnector(ctx, admin.ConnectorSpec{Name: "printers", Mailbox: "app@example.test", Networks: []string{"192.0.2.0/24"}, Fingerprints: []string{fp}, LegacyTLS: true}); err != nil {
		t.Fatal(err)
	}
	c := newConsoleClient(t, srv)
	if status, loc, _ := c.do("GET", "/connectors", nil); status != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?next=") {
		t.Fatalf("GET /connectors without a session: %d %q", status, loc)
	}
	c.login("root", "correct-horse-battery")
	status, _, body := c.do("GET", "/connectors", nil)
	for _, want := range []string{`href="/connectors" class="on"`, `>printers</a></td>`, "app@example.test", "192.0.2.0/24", fp, "<td>yes</td>"} {
		if status != http.StatusOK || !strings.Contains(body, want) {
			t.Fatalf("connectors page: %d, no %q in\n%s", status, want, body)
		}
	}

	tok := c.csrf("/connectors")
	if status, _, _ := c.do("POST", "/connectors", url.Values{"name": {"x"}, "mailbox": {"app@example.test"}, "networks": {"198.51.100.1"}}); status != http.StatusForbidden {
		t.Errorf("add without a CSRF token: %d, want 403", status)
	}
	status, loc, body := c.do("POST", "/connectors", url.Values{"csrf": {tok}, "name": {"scanners"}, "mailbox": {"support@example.test"},
		"networks": {"198.51.100.0/24\n2001:db8::/48"}, "fingerprints": {""}})
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/connectors?flash=") {
		t.Fatalf("add: %d %q\n%s", status, loc, body)
	}
	cs, err := a.Connectors(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[1].Name != "scanners" || cs[1].Mailbox != "support@example.test" || strings.Join(cs[1].Networks, ",") != "198.51.100.0/24,2001:db8::/48" || cs[1].LegacyTLS {
		t.Fatalf("admin.Connectors after the form: %+v", cs)
	}
	if _, _, body := c.do("GET", loc, nil); !strings.Contains(body, `>scanners</a></td>`) || !strings.Contains(body, "Connector scanners added") {
		t.Fatalf("page after the add:\n%s", body)
	}

	status, _, body = c.do("POST", "/connectors", url.Values{"csrf": {tok}, "name": {"open"}, "mailbox": {"app@example.test"}, "networks": {"0.0.0.0/0"}})
	if status != http.StatusBadRequest || !strings.Contains(body, "a connector must never be an open relay") {
		t.Fatalf("open network: %d\n%s", status, body)
	}

	// The connector's page changes it.
	if status, _, body := c.do("GET", "/connectors/scanners", nil); status != http.StatusOK || !strings.Contains(body, "198.51.100.0/24\n2001:db8::/48</textarea>") {
		t.Fatalf("connector page: %d\n%s", status, body)
	}
	status, loc, body = c.do("POST", "/connectors/scanners/settings", url.Values{"csrf": {tok}, "mailbox": {"app@example.test"}, "networks": {"198.51.100.0/25"}, "legacy_tls": {"on"}})
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/connectors/scanners?flash=") {
		t.Fatalf("set: %d %q\n%s", status, loc, body)
	}
	if cs, _ := a.Connectors(ctx); cs[1].Mailbox != "app@example.test" || strings.Join(cs[1].Networks, ",") != "198.51.100.0/25" || !cs[1].LegacyTLS {
		t.Fatalf("connector after the form: %+v", cs[1])
	}
	if status, _, body := c.do("POST", "/connectors/scanners/settings", url.Values{"csrf": {tok}, "mailbox": {"app@example.test"}, "networks": {"0.0.0.0/0"}}); status != http.StatusBadRequest || !strings.Contains(body, "open relay") {
		t.Fatalf("set an open network: %d\n%s", status, body)
	}
	if status, _, _ := c.do("GET", "/connectors/nothing", nil); status != http.StatusNotFound {
		t.Fatalf("missing connector's page: %d, want 404", status)
	}

	status, loc, _ = c.do("POST", "/connectors/remove", url.Values{"csrf": {tok}, "name": {"printers"}})
	if cs, _ := a.Connectors(ctx); status != http.StatusSeeOther || len(cs) != 1 || cs[0].Name != "scanners" {
		t.Fatalf("remove: %d %q, connectors %+v", status, loc, cs)
	}
	if status, _, body := c.do("POST", "/connectors/remove", url.Values{"csrf": {tok}, "name": {"printers"}}); status != http.StatusNotFound || !strings.Contains(body, "connector printers does not exist") {
		t.Fatalf("remove again: %d\n%s", status, body)
	}
}
