package web

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"mailroom/internal/admin"
)

// TestAPI_Connectors: a connector added, listed, changed and removed
// through the API; admin's refusals keep their wording and their status.
func TestAPI_Connectors(t *testing.T) {
	srv, tok, a := apiServerAdmin(t)
	ctx := context.Background()
	if _, err := a.AddDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.AddMailbox(ctx, admin.NewMailbox{Address: "scanner@example.test", Password: "scanner-password-1"}); err != nil {
		t.Fatal(err)
	}
	fp := strings.Repeat("AB:", 31) + "AB"
	var c connectorJSON
	if got := call(t, srv, tok, "POST", "/api/v1/connectors", `{"name":"printers","mailbox":"Scanner@example.test","networks":["192.0.2.7"],"fingerprints":["`+fp+`"],"legacy_tls":true}`, &c); got != http.StatusCreated ||
		c.Name != "printers" || c.Mailbox != "scanner@example.test" || strings.Join(c.Networks, ",") != "192.0.2.7/32" ||
		len(c.Fingerprints) != 1 || c.Fingerprints[0] != strings.Repeat("ab", 32) || !c.LegacyTLS || c.CreatedAt.IsZero() {
		t.Fatalf("add: %d %+v", got, c)
	}
	wantError(t, srv, tok, "POST", "/api/v1/connectors", `{"name":"printers","mailbox":"scanner@example.test","networks":["192.0.2.8"]}`, http.StatusConflict, "exists")
	wantError(t, srv, tok, "POST", "/api/v1/connectors", `{"name":"x","mailbox":"nobody@example.test","networks":["192.0.2.8"]}`, http.StatusNotFound, "not_found")
	wantError(t, srv, tok, "POST", "/api/v1/connectors", `{"name":"x","mailbox":"scanner@example.test","netwroks":["192.0.2.8"]}`, http.StatusBadRequest, "invalid")

	// An invalid network is refused with admin's own message.
	var e apiErr
	if got := call(t, srv, tok, "POST", "/api/v1/connectors", `{"name":"open","mailbox":"scanner@example.test","networks":["0.0.0.0/0"]}`, &e); got != http.StatusBadRequest ||
		e.Code != "invalid" || !strings.Contains(e.Error, "admits every address: a connector must never be an open relay") {
		t.Fatalf("open network: %d %+v", got, e)
	}
	if got := call(t, srv, tok, "PATCH", "/api/v1/connectors/printers", `{"networks":["not-a-network"]}`, &e); got != http.StatusBadRequest ||
		e.Code != "invalid" || !strings.Contains(e.Error, "not-a-network") {
		t.Fatalf("patch with a bad network: %d %+v", got, e)
	}

	var cs []connectorJSON
	if got := call(t, srv, tok, "GET", "/api/v1/connectors", "", &cs); got != http.StatusOK || len(cs) != 1 || cs[0].Name != "printers" {
		t.Fatalf("list: %d %+v", got, cs)
	}
	if got := call(t, srv, tok, "PATCH", "/api/v1/connectors/printers", `{"networks":["198.51.100.0/24"],"fingerprints":[],"legacy_tls":false}`, &c); got != http.StatusOK ||
		strings.Join(c.Networks, ",") != "198.51.100.0/24" || len(c.Fingerprints) != 0 || c.Fingerprints == nil || c.LegacyTLS || c.Mailbox != "scanner@example.test" {
		t.Fatalf("patch: %d %+v", got, c)
	}
	if got := call(t, srv, tok, "GET", "/api/v1/connectors", "", &cs); got != http.StatusOK || len(cs) != 1 || cs[0].Networks[0] != "198.51.100.0/24" || cs[0].LegacyTLS {
		t.Fatalf("list after patch: %d %+v", got, cs)
	}
	wantError(t, srv, tok, "PATCH", "/api/v1/connectors/nothing", `{"legacy_tls":false}`, http.StatusNotFound, "not_found")
	if got := call(t, srv, tok, "DELETE", "/api/v1/connectors/printers", "", nil); got != http.StatusNoContent {
		t.Fatalf("remove: %d", got)
	}
	wantError(t, srv, tok, "DELETE", "/api/v1/connectors/printers", "", http.StatusNotFound, "not_found")
	if got := call(t, srv, tok, "GET", "/api/v1/connectors", "", &cs); got != http.StatusOK || len(cs) != 0 {
		t.Fatalf("list after remove: %d %+v", got, cs)
	}
}
