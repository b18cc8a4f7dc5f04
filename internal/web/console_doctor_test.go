package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"mailroom/internal/admin"
	"mailroom/internal/config"
	"mailroom/internal/testkit"
)

// TestConsole_Doctor: on a running daemon, a domain page's "Check DNS now"
// runs the doctor against the configured resolver and shows each verdict
// with what DNS has and what to publish.
func TestConsole_Doctor(t *testing.T) {
	const pw = "correct-horse-battery"
	dns := testkit.StartDNS(t)
	dns.Add(t, "example.test. MX 10 mail.example.test.", "mail.example.test. A 127.0.0.1")
	s := testkit.Start(t, func(a *admin.Service) {
		ctx := context.Background()
		_, err := a.AddDomain(ctx, "example.test")
		testkit.MustAdd(t, err)
		_, err = a.AddConsoleUser(ctx, "root", pw)
		testkit.MustAdd(t, err)
	}, func(c *config.Config) { c.Delivery.Resolver = dns.Addr })
	c := loginDaemon(t, "http://"+s.Addr("http"), "root", pw)

	_, body := c.get("/domains/example.test")
	tok := csrfOf(t, body)
	status, body := c.post("/domains/example.test/doctor", url.Values{"csrf": {tok}})
	if status != http.StatusOK {
		t.Fatalf("doctor: %d\n%s", status, body)
	}
	for _, want := range []string{
		`<tr class="st-ok"><td>MX</td>`, "<code>example.test. MX 10 mail.example.test.</code>",
		`<tr class="st-missing"><td>SPF</td>`, "publish: <code class=\"record\">example.test. TXT &#34;v=spf1",
		`<tr class="st-missing"><td>DMARC</td>`, "records need fixing",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("doctor page lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(body)
	}
}

// daemonClient is a logged-in browser-like client of a daemon's console.
type daemonClient struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func (c *daemonClient) get(path string) (int, string) {
	c.t.Helper()
	resp, err := c.hc.Get(c.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (c *daemonClient) post(path string, form url.Values) (int, string) {
	c.t.Helper()
	resp, err := c.hc.PostForm(c.base+path, form)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in\n%s", body)
	}
	return m[1]
}

// loginDaemon logs in to the console at base.
func loginDaemon(t *testing.T, base, user, password string) *daemonClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &daemonClient{t: t, base: base, hc: &http.Client{Jar: jar}}
	_, body := c.get("/login")
	if status, body := c.post("/login", url.Values{"csrf": {csrfOf(t, body)}, "user": {user}, "password": {password}, "next": {"/"}}); status != http.StatusOK {
		t.Fatalf("login: %d\n%s", status, body)
	}
	return c
}
