package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"mailroom/internal/admin"
	"mailroom/internal/store/sqlite"
)

// apiServer is the API on httptest with a fresh store and one token.
func apiServer(t *testing.T) (*httptest.Server, string) {
	srv, tok, _ := apiServerAdmin(t)
	return srv, tok
}

func apiServerAdmin(t *testing.T) (*httptest.Server, string, *admin.Service) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "api.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a := admin.New(st)
	a.Params.Time, a.Params.Memory = 1, 1024
	a.DataDir = t.TempDir()
	_, tok, err := a.AddToken(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(Options{Store: st, Admin: a, Log: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	return srv, tok, a
}

// call makes one request and decodes the JSON answer into out (if not nil).
func call(t *testing.T, srv *httptest.Server, tok, method, path, body string, out any) int {
	t.Helper()
	var rb io.Reader
	if body != "" {
		rb = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, rb)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusNoContent && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("%s %s: Content-Type %q", method, path, resp.Header.Get("Content-Type"))
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

// wantError checks an error response's status and JSON shape.
func wantError(t *testing.T, srv *httptest.Server, tok, method, path, body string, status int, code string) {
	t.Helper()
	var e map[string]string
	if got := call(t, srv, tok, method, path, body, &e); got != status || e["code"] != code || e["error"] == "" || len(e) != 2 {
		t.Errorf("%s %s %s: got %d %v, want %d with code %q", method, path, body, got, e, status, code)
	}
}

func TestAPI_TokenRequired(t *testing.T) {
	srv, _ := apiServer(t)
	for _, rt := range routes {
		path := strings.NewReplacer("{name}", "example.com", "{address}", "a@example.com", "{alias}", "b@example.com", "{label}", "x").Replace(rt.path)
		wantError(t, srv, "", rt.method, path, "", http.StatusUnauthorized, "unauthorized")
		wantError(t, srv, "mrt_not-a-real-token", rt.method, path, "", http.StatusUnauthorized, "unauthorized")
	}
	if got := call(t, srv, "", "GET", "/api/v1/openapi.json", "", nil); got != http.StatusOK {
		t.Errorf("openapi.json without a token: %d", got)
	}
}

func TestAPI_RevokedToken(t *testing.T) {
	srv, tok, a := apiServerAdmin(t)
	if got := call(t, srv, tok, "GET", "/api/v1/domains", "", nil); got != http.StatusOK {
		t.Fatalf("with the token: %d", got)
	}
	if err := a.RevokeToken(context.Background(), "test"); err != nil {
		t.Fatal(err)
	}
	wantError(t, srv, tok, "GET", "/api/v1/domains", "", http.StatusUnauthorized, "unauthorized")
}

func TestAPI_DomainMailboxGrantCRUD(t *testing.T) {
	srv, tok := apiServer(t)
	var d domainJSON
	if got := call(t, srv, tok, "POST", "/api/v1/domains", `{"name":"Example.COM"}`, &d); got != http.StatusCreated || d.Name != "example.com" || d.Role != "hosted" {
		t.Fatalf("add domain: %d %+v", got, d)
	}
	if got := call(t, srv, tok, "POST", "/api/v1/domains", `{"name":"relay.example","role":"relay"}`, &d); got != http.StatusCreated || d.Role != "relay" {
		t.Fatalf("add relay domain: %d %+v", got, d)
	}
	wantError(t, srv, tok, "POST", "/api/v1/domains", `{"name":"mx.example","role":"mx"}`, http.StatusBadRequest, "invalid")
	if got := call(t, srv, tok, "PATCH", "/api/v1/domains/relay.example", `{"role":"hosted"}`, &d); got != http.StatusOK || d.Role != "hosted" {
		t.Fatalf("patch domain role: %d %+v", got, d)
	}
	wantError(t, srv, tok, "PATCH", "/api/v1/domains/relay.example", `{"role":"upstream"}`, http.StatusBadRequest, "invalid")
	if got := call(t, srv, tok, "DELETE", "/api/v1/domains/relay.example", "", nil); got != http.StatusNoContent {
		t.Fatalf("remove relay.example: %d", got)
	}
	wantError(t, srv, tok, "POST", "/api/v1/domains", `{"name":"example.com"}`, http.StatusConflict, "exists")
	wantError(t, srv, tok, "POST", "/api/v1/domains", `{"name":"bad domain"}`, http.StatusBadRequest, "invalid")
	wantError(t, srv, tok, "POST", "/api/v1/domains", `{"nmae":"x.com"}`, http.StatusBadRequest, "invalid")
	wantError(t, srv, tok, "POST", "/api/v1/domains", `not json`, http.StatusBadRequest, "invalid")
	if got := call(t, srv, tok, "PATCH", "/api/v1/domains/example.com", `{"display_name":"directory","limits":{"messages_per_minute":5}}`, &d); got != http.StatusOK ||
		d.DisplayName != "directory" || d.Limits.MessagesPerMinute != 5 {
		t.Fatalf("patch domain: %d %+v", got, d)
	}
	wantError(t, srv, tok, "PATCH", "/api/v1/domains/example.com", `{"display_name":"fancy"}`, http.StatusBadRequest, "invalid")
	wantError(t, srv, tok, "PATCH", "/api/v1/domains/nowhere.com", `{}`, http.StatusNotFound, "not_found")
	var ds []domainJSON
	if got := call(t, srv, tok, "GET", "/api/v1/domains", "", &ds); got != http.StatusOK || len(ds) != 1 || ds[0].Networks == nil {
		t.Fatalf("list domains: %d %+v", got, ds)
	}

	var created struct {
		Mailbox           mailboxJSON `json:"mailbox"`
		GeneratedPassword string      `json:"generated_password"`
	}
	if got := call(t, srv, tok, "POST", "/api/v1/mailboxes", `{"address":"app@example.com","display_name":"App"}`, &created); got != http.StatusCreated ||
		created.Mailbox.Address != "app@example.com" || created.GeneratedPassword == "" || !created.Mailbox.SMTPAuth {
		t.Fatalf("add mailbox: %d %+v", got, created)
	}
	wantError(t, srv, tok, "POST", "/api/v1/mailboxes", `{"address":"x@nowhere.com"}`, http.StatusNotFound, "not_found")
	wantError(t, srv, tok, "POST", "/api/v1/mailboxes", `{"address":"app@example.com"}`, http.StatusConflict, "exists")
	call(t, srv, tok, "POST", "/api/v1/mailboxes", `{"address":"support@example.com","shared":true}`, nil)

	var m mailboxJSON
	if got := call(t, srv, tok, "PATCH", "/api/v1/mailboxes/app@example.com",
		`{"smtp_auth":false,"imap":false,"save_sent":false,"sent_retention":"720h","networks":["10.0.0.0/8"],"limits":{"concurrent":2,"recipients_per_day":100}}`, &m); got != http.StatusOK ||
		m.SMTPAuth || m.IMAP || m.SaveSent || m.SentRetention != "720h0m0s" || len(m.Networks) != 1 || m.Limits.Concurrent != 2 || m.Limits.RecipientsPerDay != 100 {
		t.Fatalf("patch mailbox: %d %+v", got, m)
	}
	wantError(t, srv, tok, "PATCH", "/api/v1/mailboxes/app@example.com", `{"networks":["not a net"]}`, http.StatusBadRequest, "invalid")
	wantError(t, srv, tok, "PATCH", "/api/v1/mailboxes/app@example.com", `{"sent_retention":"a month"}`, http.StatusBadRequest, "invalid")
	wantError(t, srv, tok, "GET", "/api/v1/mailboxes/nobody@example.com", "", http.StatusNotFound, "not_found")
	if got := call(t, srv, tok, "GET", "/api/v1/mailboxes/app@example.com", "", &m); got != http.StatusOK || m.SMTPAuth {
		t.Fatalf("get mailbox: %d %+v", got, m)
	}
	var pw map[string]string
	if got := call(t, srv, tok, "POST", "/api/v1/mailboxes/app@example.com/password", `{"password":"short"}`, &pw); got != http.StatusBadRequest {
		t.Errorf("short password: %d", got)
	}
	if got := call(t, srv, tok, "POST", "/api/v1/mailboxes/app@example.com/password", `{}`, &pw); got != http.StatusOK || pw["generated_password"] == "" {
		t.Errorf("generated password: %d %v", got, pw)
	}
	var usage usageJSON
	if got := call(t, srv, tok, "GET", "/api/v1/mailboxes/app@example.com/usage", "", &usage); got != http.StatusOK || usage.Effective.Concurrent != 2 {
		t.Errorf("usage: %d %+v", got, usage)
	}

	// Aliases and app passwords.
	if got := call(t, srv, tok, "POST", "/api/v1/mailboxes/app@example.com/aliases", `{"alias":"noreply@example.com"}`, nil); got != http.StatusCreated {
		t.Errorf("add alias: %d", got)
	}
	var als []string
	if call(t, srv, tok, "GET", "/api/v1/mailboxes/app@example.com/aliases", "", &als); len(als) != 1 {
		t.Errorf("aliases: %v", als)
	}
	if got := call(t, srv, tok, "DELETE", "/api/v1/mailboxes/app@example.com/aliases/noreply@example.com", "", nil); got != http.StatusNoContent {
		t.Errorf("remove alias: %d", got)
	}
	var ap struct {
		AppPassword appPasswordJSON `json:"app_password"`
		Password    string          `json:"password"`
	}
	if got := call(t, srv, tok, "POST", "/api/v1/mailboxes/app@example.com/app-passwords", `{"label":"printer","networks":["192.0.2.7"]}`, &ap); got != http.StatusCreated ||
		ap.Password == "" || ap.AppPassword.Networks[0] != "192.0.2.7/32" {
		t.Errorf("add app password: %d %+v", got, ap)
	}
	wantError(t, srv, tok, "POST", "/api/v1/mailboxes/app@example.com/app-passwords", `{"label":"printer"}`, http.StatusConflict, "exists")
	if got := call(t, srv, tok, "DELETE", "/api/v1/mailboxes/app@example.com/app-passwords/printer", "", nil); got != http.StatusNoContent {
		t.Errorf("revoke app password: %d", got)
	}
	wantError(t, srv, tok, "DELETE", "/api/v1/mailboxes/app@example.com/app-passwords/printer", "", http.StatusNotFound, "not_found")

	// Grants.
	var g grantJSON
	if got := call(t, srv, tok, "POST", "/api/v1/grants", `{"kind":"send-as","on":"support@example.com","to":"app@example.com"}`, &g); got != http.StatusCreated ||
		g.On != "support@example.com" || g.To != "app@example.com" {
		t.Fatalf("add grant: %d %+v", got, g)
	}
	wantError(t, srv, tok, "POST", "/api/v1/grants", `{"kind":"send-as","on":"support@example.com","to":"app@example.com"}`, http.StatusConflict, "exists")
	wantError(t, srv, tok, "POST", "/api/v1/grants", `{"kind":"impersonate","on":"support@example.com","to":"app@example.com"}`, http.StatusBadRequest, "invalid")
	var gs []grantJSON
	if call(t, srv, tok, "GET", "/api/v1/grants?to=app@example.com", "", &gs); len(gs) != 1 {
		t.Errorf("grants: %+v", gs)
	}
	if got := call(t, srv, tok, "DELETE", "/api/v1/grants?kind=send-as&on=support@example.com&to=app@example.com", "", nil); got != http.StatusNoContent {
		t.Errorf("revoke grant: %d", got)
	}
	wantError(t, srv, tok, "DELETE", "/api/v1/grants?kind=send-as&on=support@example.com&to=app@example.com", "", http.StatusNotFound, "not_found")
	if got := call(t, srv, tok, "POST", "/api/v1/grants", `{"kind":"full-access","on":"support@example.com","to":"app@example.com"}`, &g); got != http.StatusCreated || g.Kind != "full-access" {
		t.Fatalf("add full-access grant: %d %+v", got, g)
	}
	wantError(t, srv, tok, "POST", "/api/v1/grants", `{"kind":"full-access","on":"@example.com","to":"app@example.com"}`, http.StatusBadRequest, "invalid")
	if got := call(t, srv, tok, "DELETE", "/api/v1/grants?kind=full-access&on=support@example.com&to=app@example.com", "", nil); got != http.StatusNoContent {
		t.Errorf("revoke full-access grant: %d", got)
	}

	// Queue and trace answer (empty) lists; bad filters are 400.
	var q []queueJSON
	if got := call(t, srv, tok, "GET", "/api/v1/queue", "", &q); got != http.StatusOK || len(q) != 0 {
		t.Errorf("queue: %d %+v", got, q)
	}
	wantError(t, srv, tok, "GET", "/api/v1/queue?state=lost", "", http.StatusBadRequest, "invalid")
	wantError(t, srv, tok, "POST", "/api/v1/queue/retry", `{"queue_id":"nope"}`, http.StatusNotFound, "not_found")
	wantError(t, srv, tok, "POST", "/api/v1/queue/drop", `{}`, http.StatusBadRequest, "invalid")
	var tl attemptPageJSON
	if got := call(t, srv, tok, "GET", "/api/v1/trace?sender=app@example.com&since=1h", "", &tl); got != http.StatusOK || len(tl.Attempts) != 0 || tl.Next != "" {
		t.Errorf("trace: %d %+v", got, tl)
	}
	wantError(t, srv, tok, "GET", "/api/v1/trace?status=lost", "", http.StatusBadRequest, "invalid")
	wantError(t, srv, tok, "GET", "/api/v1/trace?since=yesterday", "", http.StatusBadRequest, "invalid")
	wantError(t, srv, tok, "GET", "/api/v1/trace?cursor=x", "", http.StatusBadRequest, "invalid")
	wantError(t, srv, tok, "GET", "/api/v1/trace/12345", "", http.StatusNotFound, "not_found")

	// A domain with mailboxes cannot go; without, it can.
	wantError(t, srv, tok, "DELETE", "/api/v1/domains/example.com", "", http.StatusConflict, "conflict")
	for _, a := range []string{"app@example.com", "support@example.com"} {
		if got := call(t, srv, tok, "DELETE", "/api/v1/mailboxes/"+a, "", nil); got != http.StatusNoContent {
			t.Errorf("remove mailbox %s: %d", a, got)
		}
	}
	if got := call(t, srv, tok, "DELETE", "/api/v1/domains/example.com", "", nil); got != http.StatusNoContent {
		t.Errorf("remove domain: %d", got)
	}
	wantError(t, srv, tok, "DELETE", "/api/v1/domains/example.com", "", http.StatusNotFound, "not_found")
	wantError(t, srv, tok, "GET", "/api/v1/nothing-here", "", http.StatusNotFound, "not_found")
}

// TestOpenAPI_CoversRoutes: every registered endpoint is documented, and
// the document documents nothing that is not served.
func TestOpenAPI_CoversRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi version %q", doc.OpenAPI)
	}
	served := map[string]bool{"get /api/v1/openapi.json": true}
	for _, rt := range routes {
		key := strings.ToLower(rt.method) + " " + rt.path
		served[key] = true
		if _, ok := doc.Paths[rt.path][strings.ToLower(rt.method)]; !ok {
			t.Errorf("openapi.json does not document %s %s", rt.method, rt.path)
		}
	}
	for p, ops := range doc.Paths {
		for m := range ops {
			if !served[m+" "+p] {
				t.Errorf("openapi.json documents %s %s, which is not served", strings.ToUpper(m), p)
			}
		}
	}
}
