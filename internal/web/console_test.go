package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mailroom/internal/admin"
	"mailroom/internal/limits"
	"mailroom/internal/store"
)

// consoleClient is a browser-like client of the console: a cookie jar, no
// redirects followed, so tests see each 303.
type consoleClient struct {
	t    *testing.T
	srv  *httptest.Server
	http *http.Client
}

func newConsoleClient(t *testing.T, srv *httptest.Server) *consoleClient {
	jar, _ := cookiejar.New(nil)
	return &consoleClient{t: t, srv: srv, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do makes a request and returns the status, the Location and the body.
func (c *consoleClient) do(method, path string, form url.Values) (int, string, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, c.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token of the page at path.
func (c *consoleClient) csrf(path string) string {
	c.t.Helper()
	status, _, body := c.do("GET", path, nil)
	m := csrfRE.FindStringSubmatch(body)
	if status != http.StatusOK || m == nil {
		c.t.Fatalf("GET %s: %d, no CSRF token in\n%s", path, status, body)
	}
	return m[1]
}

// login logs in through the form.
func (c *consoleClient) login(user, password string) {
	c.t.Helper()
	tok := c.csrf("/login")
	status, loc, body := c.do("POST", "/login", url.Values{"csrf": {tok}, "user": {user}, "password": {password}, "next": {"/"}})
	if status != http.StatusSeeOther || loc != "/" {
		c.t.Fatalf("login: %d %q\n%s", status, loc, body)
	}
}

// consoleServer is the listener's handler on httptest with a fresh store,
// a console user root and two mailboxes.
func consoleServer(t *testing.T) (*httptest.Server, *admin.Service) {
	t.Helper()
	srv, _, a := apiServerAdmin(t)
	ctx := context.Background()
	if _, err := a.AddConsoleUser(ctx, "root", "correct-horse-battery"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AddDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	for _, m := range []admin.NewMailbox{{Address: "app@example.test", Password: "app-password-1"}, {Address: "support@example.test", Shared: true}} {
		if _, _, err := a.AddMailbox(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	return srv, a
}

// TestConsole_LoginRequired: every page redirects to the login form
// without a session, POSTs are refused, and a wrong password gets no
// session.
func TestConsole_LoginRequired(t *testing.T) {
	srv, _ := consoleServer(t)
	c := newConsoleClient(t, srv)
	for _, p := range []string{"/", "/mailboxes", "/mailboxes/app@example.test", "/domains", "/domains/example.test", "/access", "/permissions", "/trace", "/queue", "/messages/app@example.test"} {
		if status, loc, _ := c.do("GET", p, nil); status != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?next=") {
			t.Errorf("GET %s without a session: %d %q, want 303 to /login", p, status, loc)
		}
	}
	if status, _, _ := c.do("POST", "/permissions/grant", url.Values{"kind": {"send-as"}, "on": {"support@example.test"}, "to": {"app@example.test"}}); status != http.StatusUnauthorized {
		t.Errorf("POST without a session: %d, want 401", status)
	}

	tok := c.csrf("/login")
	if status, _, body := c.do("POST", "/login", url.Values{"csrf": {tok}, "user": {"root"}, "password": {"wrong-password"}}); status != http.StatusUnauthorized || !strings.Contains(body, "Wrong user name or password") {
		t.Fatalf("wrong password: %d\n%s", status, body)
	}
	if status, _, _ := c.do("GET", "/", nil); status != http.StatusSeeOther {
		t.Fatalf("after a failed login GET /: %d, want 303", status)
	}

	c.login("root", "correct-horse-battery")
	status, _, body := c.do("GET", "/", nil)
	if status != http.StatusOK || !strings.Contains(body, "Last 24 hours") {
		t.Fatalf("dashboard: %d\n%s", status, body)
	}
	resp, err := c.http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	u, _ := url.Parse(srv.URL)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			t.Logf("session cookie set")
		}
	}

	// Logging out ends the session.
	if status, _, _ := c.do("POST", "/logout", url.Values{"csrf": {c.csrf("/")}}); status != http.StatusSeeOther {
		t.Fatalf("logout: %d", status)
	}
	if status, _, _ := c.do("GET", "/", nil); status != http.StatusSeeOther {
		t.Fatalf("after logout GET /: %d, want 303", status)
	}
}

// TestConsole_SessionCookie: HttpOnly and SameSite=Strict.
func TestConsole_SessionCookie(t *testing.T) {
	srv, _ := consoleServer(t)
	c := newConsoleClient(t, srv)
	tok := c.csrf("/login")
	req, _ := http.NewRequest("POST", srv.URL+"/login", strings.NewReader(url.Values{"csrf": {tok}, "user": {"root"}, "password": {"correct-horse-battery"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var found bool
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			found = true
			if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Secure {
				t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, not Secure over plain HTTP", ck)
			}
		}
	}
	if !found {
		t.Fatalf("no session cookie after login (%s)", resp.Status)
	}
}

// TestConsole_CSRF: a POST without the session's CSRF token, or with
// another, changes nothing; the login form needs its token too.
func TestConsole_CSRF(t *testing.T) {
	srv, a := consoleServer(t)
	c := newConsoleClient(t, srv)
	if status, _, _ := c.do("POST", "/login", url.Values{"user": {"root"}, "password": {"correct-horse-battery"}}); status != http.StatusForbidden {
		t.Fatalf("login without its CSRF token: %d, want 403", status)
	}
	c.login("root", "correct-horse-battery")
	grant := url.Values{"kind": {"send-as"}, "on": {"support@example.test"}, "to": {"app@example.test"}}
	for _, tok := range []string{"", "forged-token"} {
		f := url.Values{}
		for k, v := range grant {
			f[k] = v
		}
		if tok != "" {
			f.Set("csrf", tok)
		}
		if status, _, _ := c.do("POST", "/permissions/grant", f); status != http.StatusForbidden {
			t.Errorf("grant with csrf %q: %d, want 403", tok, status)
		}
	}
	if gs, err := a.Grants(context.Background(), "", ""); err != nil || len(gs) != 0 {
		t.Fatalf("grants after refused POSTs: %v %v", gs, err)
	}
}

// TestConsole_GrantThroughForm: a Send As grant made through the
// permissions form is in admin.Grants and listed on the page; revoking it
// through its form removes it.
func TestConsole_GrantThroughForm(t *testing.T) {
	srv, a := consoleServer(t)
	c := newConsoleClient(t, srv)
	c.login("root", "correct-horse-battery")
	tok := c.csrf("/permissions")
	status, loc, _ := c.do("POST", "/permissions/grant", url.Values{"csrf": {tok}, "kind": {"send-as"}, "on": {"Support@Example.test"}, "to": {"app@example.test"}})
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/permissions?flash=") {
		t.Fatalf("grant: %d %q", status, loc)
	}
	gs, err := a.Grants(context.Background(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 1 || gs[0].Kind != store.GrantSendAs || gs[0].On != "support@example.test" || gs[0].Grantee != "app@example.test" {
		t.Fatalf("admin.Grants after the form: %+v", gs)
	}
	_, _, body := c.do("GET", loc, nil)
	if !strings.Contains(body, "Granted send-as on support@example.test to app@example.test.") || !strings.Contains(body, `<a href="/mailboxes/support@example.test">support@example.test</a></td>`) {
		t.Fatalf("permissions page after the grant:\n%s", body)
	}

	// A refused grant shows admin's reason.
	status, _, body = c.do("POST", "/permissions/grant", url.Values{"csrf": {tok}, "kind": {"send-as"}, "on": {"support@example.test"}, "to": {"nobody@example.test"}})
	if status != http.StatusNotFound || !strings.Contains(body, "nobody@example.test") {
		t.Fatalf("grant to a missing mailbox: %d\n%s", status, body)
	}

	status, _, _ = c.do("POST", "/permissions/revoke", url.Values{"csrf": {tok}, "kind": {"send-as"}, "on": {"support@example.test"}, "to": {"app@example.test"}})
	if gs, _ := a.Grants(context.Background(), "", ""); status != http.StatusSeeOther || len(gs) != 0 {
		t.Fatalf("revoke: %d, grants %+v", status, gs)
	}
}

// TestConsole_Pages: every page renders for a logged-in user, and the
// mailbox forms change the mailbox through admin.
func TestConsole_Pages(t *testing.T) {
	srv, a := consoleServer(t)
	c := newConsoleClient(t, srv)
	c.login("root", "correct-horse-battery")
	for _, p := range []string{"/", "/mailboxes", "/mailboxes/app@example.test", "/permissions", "/trace", "/trace?status=refused&since=1h", "/queue", "/queue?state=all", "/messages/app@example.test", "/messages/app@example.test?folder=inbox"} {
		if status, _, body := c.do("GET", p, nil); status != http.StatusOK {
			t.Errorf("GET %s: %d\n%s", p, status, body)
		}
	}
	if status, _, _ := c.do("GET", "/trace?status=bogus", nil); status != http.StatusBadRequest {
		t.Errorf("trace with a bad status: %d, want 400", status)
	}

	tok := c.csrf("/mailboxes")
	status, _, body := c.do("POST", "/mailboxes", url.Values{"csrf": {tok}, "address": {"bob@example.test"}})
	if status != http.StatusOK || !strings.Contains(body, "generated password (shown once)") && !strings.Contains(body, "Its generated password (shown once)") {
		t.Fatalf("create mailbox: %d\n%s", status, body)
	}
	status, loc, body := c.do("POST", "/mailboxes/bob@example.test", url.Values{"csrf": {tok}, "display_name": {"Bob"}, "save_sent": {"on"},
		"networks": {"192.0.2.0/24\n2001:db8::/32"}, "recipients_per_day": {"100"}, "sent_retention": {"720h"}, "smtp_auth_field": {"1"}})
	if status != http.StatusSeeOther {
		t.Fatalf("save settings: %d %q\n%s", status, loc, body)
	}
	m, err := a.Mailbox(context.Background(), "bob@example.test")
	if err != nil {
		t.Fatal(err)
	}
	if m.DisplayName != "Bob" || m.SMTPAuth || !m.SaveSent || len(m.Networks) != 2 || m.Limits.RecipientsPerDay != 100 || m.SentRetention.Hours() != 720 {
		t.Fatalf("mailbox after the form: %+v", m)
	}
	if status, loc, body := c.do("POST", "/mailboxes/support@example.test", url.Values{"csrf": {tok}, "save_sent": {"on"}, "copy_sent_as": {"on"}}); status != http.StatusSeeOther {
		t.Fatalf("save settings of a shared mailbox: %d %q\n%s", status, loc, body)
	}
	if m, err := a.Mailbox(context.Background(), "support@example.test"); err != nil || !m.CopySentAs {
		t.Fatalf("shared mailbox after the form: %+v %v", m, err)
	}
	if status, _, body := c.do("POST", "/mailboxes/bob@example.test", url.Values{"csrf": {tok}, "networks": {"not-a-network"}}); status != http.StatusBadRequest || !strings.Contains(body, "not-a-network") {
		t.Fatalf("bad network: %d\n%s", status, body)
	}
}

// TestConsole_LoginThrottled: past the guard's failures from one address,
// even the right password is refused until the cool-off ends.
func TestConsole_LoginThrottled(t *testing.T) {
	srv, now := guardedConsole(t, &limits.LoginGuard{PerAddress: 3, PerMailbox: 100, Window: time.Minute, Cooloff: time.Hour}, slog.DiscardHandler)
	c := newConsoleClient(t, srv)
	try := func(pw string) int {
		tok := c.csrf("/login")
		status, _, _ := c.do("POST", "/login", url.Values{"csrf": {tok}, "user": {"root"}, "password": {pw}})
		return status
	}
	for i := range 3 {
		if got := try("wrong-password"); got != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i+1, got)
		}
	}
	if got := try("correct-horse-battery"); got != http.StatusTooManyRequests {
		t.Fatalf("right password while blocked: %d, want 429", got)
	}
	now.Add(int64(2 * time.Hour))
	if got := try("correct-horse-battery"); got != http.StatusSeeOther {
		t.Fatalf("right password after the cool-off: %d, want 303", got)
	}
}

// guardedConsole is the listener's handler on httptest with a console user
// root, the login guard g, the log log and a clock the test sets.
func guardedConsole(t *testing.T, g *limits.LoginGuard, log slog.Handler) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	_, _, a := apiServerAdmin(t)
	if _, err := a.AddConsoleUser(context.Background(), "root", "correct-horse-battery"); err != nil {
		t.Fatal(err)
	}
	now := new(atomic.Int64)
	now.Store(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	srv := httptest.NewServer(New(Options{Store: nopPinger{}, Admin: a, Log: slog.New(log), Now: clock, Logins: g}))
	t.Cleanup(srv.Close)
	return srv, now
}

type nopPinger struct{}

func (nopPinger) DirectoryVersion(context.Context) (int64, error) { return 1, nil }

// TestConsole_StaticListsNoDirectory: the console's files are served, the
// folder that holds them is not listed.
func TestConsole_StaticListsNoDirectory(t *testing.T) {
	srv, _ := consoleServer(t)
	c := newConsoleClient(t, srv)
	if status, _, body := c.do("GET", "/static/", nil); status != http.StatusNotFound || strings.Contains(body, "console.css") {
		t.Errorf("GET /static/: %d, want 404 and no listing\n%s", status, body)
	}
	if status, _, body := c.do("GET", "/static/console.css", nil); status != http.StatusOK || body == "" {
		t.Errorf("GET /static/console.css: %d", status)
	}
}
