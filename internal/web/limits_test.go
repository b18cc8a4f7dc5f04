package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestAPI_ListLimitBounded: a listing's limit is 1 to 1000; 0 or a
// negative one once listed the whole queue.
func TestAPI_ListLimitBounded(t *testing.T) {
	srv, tok := apiServer(t)
	for _, path := range []string{"/api/v1/queue", "/api/v1/trace"} {
		for _, limit := range []string{"1001", "0", "-1", "99999999"} {
			wantError(t, srv, tok, "GET", path+"?limit="+limit, "", http.StatusBadRequest, "invalid")
		}
		for _, limit := range []string{"", "?limit=1", "?limit=1000"} {
			if got := call(t, srv, tok, "GET", path+limit, "", nil); got != http.StatusOK {
				t.Errorf("GET %s%s: %d, want 200", path, limit, got)
			}
		}
	}
}

// TestAPI_BodyTooLarge: every endpoint that takes a body refuses one over
// maxBody with 413 and the JSON error.
func TestAPI_BodyTooLarge(t *testing.T) {
	srv, tok := apiServer(t)
	big := `{"name":"` + strings.Repeat("a", maxBody) + `"}`
	for _, rt := range routes {
		if rt.method != "POST" && rt.method != "PATCH" {
			continue
		}
		path := strings.NewReplacer("{name}", "example.com", "{address}", "a@example.com").Replace(rt.path)
		wantError(t, srv, tok, rt.method, path, big, http.StatusRequestEntityTooLarge, "invalid")
	}
}

// TestConsole_BodyTooLarge: a console form over maxBody is refused with
// 413, not read as a form without its CSRF token.
func TestConsole_BodyTooLarge(t *testing.T) {
	srv, _ := consoleServer(t)
	c := newConsoleClient(t, srv)
	c.login("root", "correct-horse-battery")
	tok := c.csrf("/mailboxes")
	status, _, body := c.do("POST", "/mailboxes", url.Values{"csrf": {tok}, "address": {"bob@example.test"}, "display_name": {strings.Repeat("b", maxBody)}})
	if status != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 1 MiB form: %d, want 413\n%.300s", status, body)
	}
}
