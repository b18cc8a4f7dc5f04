package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"mailroom/internal/admin"
	"mailroom/internal/store"
)

// TestConsole_DomainForms: a domain is added, its role, display-name
// policy and limits changed, given DKIM keys whose records are shown, and
// removed through its page's forms; admin's refusals show on the page.
func TestConsole_DomainForms(t *testing.T) {
	srv, a := consoleServer(t)
	a.Limits = store.Limits{Concurrent: 3}
	ctx := context.Background()
	c := newConsoleClient(t, srv)
	c.login("root", "correct-horse-battery")
	tok := c.csrf("/domains")

	status, loc, body := c.do("POST", "/domains", url.Values{"csrf": {tok}, "name": {"New.Test"}, "role": {"hosted"}})
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/domains/new.test?flash=") {
		t.Fatalf("add domain: %d %q\n%s", status, loc, body)
	}
	if status, _, body := c.do("POST", "/domains", url.Values{"csrf": {tok}, "name": {"new.test"}}); status != http.StatusBadRequest || !strings.Contains(body, "new.test") || !strings.Contains(body, "already exists") {
		t.Fatalf("add it again: %d\n%s", status, body)
	}
	if status, _, body := c.do("POST", "/domains", url.Values{"csrf": {tok}, "name": {"other.test"}, "role": {"bogus"}}); status != http.StatusBadRequest || !strings.Contains(body, `domain role &#34;bogus&#34;`) {
		t.Fatalf("add with a bad role: %d\n%s", status, body)
	}

	status, loc, body = c.do("POST", "/domains/new.test", url.Values{"csrf": {tok}, "role": {"relay"}, "display_name": {"directory"}, "recipients_per_day": {"30"}})
	if status != http.StatusSeeOther {
		t.Fatalf("set domain: %d %q\n%s", status, loc, body)
	}
	d, err := a.Domain(ctx, "new.test")
	if err != nil || d.Role != store.DomainRelay || d.DisplayName != store.DisplayNameDirectory || d.Limits.RecipientsPerDay != 30 {
		t.Fatalf("domain after the form: %+v %v", d, err)
	}
	_, _, body = c.do("GET", "/domains/new.test", nil)
	for _, want := range []string{"inherits 3 from the server", "30 (set on this domain)", `<option value="relay" selected>`} {
		if !strings.Contains(body, want) {
			t.Errorf("domain page lacks %q", want)
		}
	}
	if status, _, body := c.do("POST", "/domains/new.test", url.Values{"csrf": {tok}, "display_name": {"nobody"}, "role": {"hosted"}}); status != http.StatusBadRequest || !strings.Contains(body, "display-name policy") {
		t.Fatalf("bad display-name policy: %d\n%s", status, body)
	}

	if status, _, body := c.do("POST", "/domains/new.test/dkim", url.Values{"csrf": {tok}, "selector": {"s1"}}); status != http.StatusSeeOther {
		t.Fatalf("add DKIM: %d\n%s", status, body)
	}
	_, _, body = c.do("GET", "/domains/new.test", nil)
	if !regexp.MustCompile(`s1-ed25519\._domainkey\.new\.test\. IN TXT &#34;v=DKIM1; k=ed25519; p=[A-Za-z0-9&#;/=]+&#34;\n`).MatchString(body) ||
		!regexp.MustCompile(`s1-rsa\._domainkey\.new\.test\. IN TXT &#34;v=DKIM1; k=rsa; p=[^ ]+&#34; &#34;[^ ]+&#34;\n`).MatchString(body) {
		t.Fatalf("domain page shows no DKIM records to publish:\n%s", body)
	}
	if status, _, body := c.do("POST", "/domains/new.test/dkim", url.Values{"csrf": {tok}, "selector": {"Bad Selector"}}); status != http.StatusBadRequest || !strings.Contains(body, "selector") {
		t.Fatalf("bad selector: %d\n%s", status, body)
	}
	// No resolver: the page says how to check instead, and the check refuses.
	if status, _, body := c.do("POST", "/domains/new.test/doctor", url.Values{"csrf": {tok}}); status != http.StatusBadRequest || !strings.Contains(body, "no DNS resolver") {
		t.Fatalf("doctor without a resolver: %d\n%s", status, body)
	}

	// A domain with mailboxes stays; removing its mailbox first lets it go.
	if _, _, err := a.AddMailbox(ctx, admin.NewMailbox{Address: "x@other.test"}); err == nil {
		t.Fatal("mailbox in a missing domain")
	}
	status, _, body = c.do("POST", "/domains/example.test/remove", url.Values{"csrf": {tok}})
	if status != http.StatusBadRequest || !strings.Contains(body, "still has mailboxes") {
		t.Fatalf("remove a domain with mailboxes: %d\n%s", status, body)
	}
	if status, loc, _ := c.do("POST", "/domains/new.test/remove", url.Values{"csrf": {tok}}); status != http.StatusSeeOther || !strings.HasPrefix(loc, "/domains?flash=") {
		t.Fatalf("remove: %d %q", status, loc)
	}
	if _, err := a.Domain(ctx, "new.test"); err == nil {
		t.Fatal("domain still there after the form removed it")
	}
	if status, _, _ := c.do("GET", "/domains/new.test", nil); status != http.StatusNotFound {
		t.Fatalf("removed domain's page: %d, want 404", status)
	}
}

// TestConsole_MailboxForms: a mailbox's quota and retention are entered
// and shown in units, its limits show their effective values and where
// they come from, its usage shows against quota and budget; aliases and app
// passwords (shown once) are added and removed; grants show from both
// sides; removal says what it deletes and deletes it.
func TestConsole_MailboxForms(t *testing.T) {
	srv, a := consoleServer(t)
	a.Limits = store.Limits{Concurrent: 3, RecipientsPerDay: 10000}
	ctx := context.Background()
	thirty := 30
	if _, err := a.SetDomain(ctx, "example.test", admin.DomainChange{Limits: admin.LimitChange{RecipientsPerDay: &thirty}}); err != nil {
		t.Fatal(err)
	}
	c := newConsoleClient(t, srv)
	c.login("root", "correct-horse-battery")
	page := "/mailboxes/app@example.test"
	tok := c.csrf(page)

	status, _, body := c.do("POST", page, url.Values{"csrf": {tok}, "smtp_auth_field": {"1"}, "smtp_auth": {"on"}, "save_sent": {"on"},
		"quota": {"50 MiB"}, "sent_retention": {"30 days"}, "messages_per_minute": {"5"}})
	if status != http.StatusSeeOther {
		t.Fatalf("save settings: %d\n%s", status, body)
	}
	m, err := a.Mailbox(ctx, "app@example.test")
	if err != nil || m.QuotaBytes != 50<<20 || m.SentRetention != 720*60*60*1e9 || m.Limits.MessagesPerMinute != 5 {
		t.Fatalf("mailbox after the form: %+v %v", m, err)
	}
	_, _, body = c.do("GET", page, nil)
	for _, want := range []string{`value="50 MiB"`, `value="30 days"`, "of 50 MiB", "inherits 3 from the server", "inherits 30 from the domain",
		"5 (set on this mailbox)", "0 of 30", "unlimited (set nowhere)"} {
		if !strings.Contains(body, want) {
			t.Errorf("mailbox page lacks %q", want)
		}
	}
	for _, raw := range []string{`[^"]52428800`, `52428800[^"]`, "720h", "∞"} { // a meter's max="52428800" is no text
		if regexp.MustCompile(raw).MatchString(body) {
			t.Errorf("mailbox page shows %q", raw)
		}
	}
	if status, _, body := c.do("POST", page, url.Values{"csrf": {tok}, "quota": {"lots"}}); status != http.StatusBadRequest || !strings.Contains(body, "quota") {
		t.Fatalf("bad quota: %d\n%s", status, body)
	}
	if status, _, body := c.do("POST", page, url.Values{"csrf": {tok}, "sent_retention": {"30"}}); status != http.StatusBadRequest || !strings.Contains(body, "retention") {
		t.Fatalf("retention without a unit: %d\n%s", status, body)
	}

	// App passwords: the secret once, then only the label.
	status, _, body = c.do("POST", page+"/app-passwords", url.Values{"csrf": {tok}, "label": {"printer-3f"}, "networks": {"192.0.2.0/24"}})
	secret := regexp.MustCompile(`id="new-app-password".*<code>([^<]+)</code>`).FindStringSubmatch(body)
	if status != http.StatusOK || secret == nil {
		t.Fatalf("add app password: %d\n%s", status, body)
	}
	aps, err := a.AppPasswords(ctx, "app@example.test")
	if err != nil || len(aps) != 1 || aps[0].Label != "printer-3f" || len(aps[0].Networks) != 1 {
		t.Fatalf("app passwords after the form: %+v %v", aps, err)
	}
	if _, _, body = c.do("GET", page, nil); strings.Contains(body, secret[1]) || !strings.Contains(body, "<td>printer-3f</td><td>192.0.2.0/24</td>") || !strings.Contains(body, "never") {
		t.Fatalf("mailbox page after: secret shown again, or app password not listed:\n%s", body)
	}
	if status, _, body := c.do("POST", page+"/app-passwords", url.Values{"csrf": {tok}, "label": {"printer-3f"}}); status != http.StatusBadRequest || !strings.Contains(body, "already") {
		t.Fatalf("same label again: %d\n%s", status, body)
	}
	if status, _, _ := c.do("POST", page+"/app-passwords/revoke", url.Values{"csrf": {tok}, "label": {"printer-3f"}}); status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", status)
	}
	if aps, _ := a.AppPasswords(ctx, "app@example.test"); len(aps) != 0 {
		t.Fatalf("app passwords after revoke: %+v", aps)
	}

	// Aliases.
	if status, _, body := c.do("POST", page+"/aliases", url.Values{"csrf": {tok}, "alias": {"Sales@example.test"}}); status != http.StatusSeeOther {
		t.Fatalf("add alias: %d\n%s", status, body)
	}
	if as, _ := a.Aliases(ctx, "app@example.test"); len(as) != 1 || as[0] != "sales@example.test" {
		t.Fatalf("aliases after the form: %v", as)
	}
	if status, _, body := c.do("POST", page+"/aliases", url.Values{"csrf": {tok}, "alias": {"x@elsewhere.test"}}); status == http.StatusSeeOther || !strings.Contains(body, "elsewhere.test") {
		t.Fatalf("alias in a foreign domain: %d\n%s", status, body)
	}

	// Grants from both sides.
	if _, err := a.AddGrant(ctx, admin.GrantSpec{Kind: store.GrantSendOnBehalf, On: "support@example.test", To: "app@example.test"}); err != nil {
		t.Fatal(err)
	}
	_, _, body = c.do("GET", "/mailboxes/support@example.test", nil)
	if !strings.Contains(body, `<td>Send on Behalf</td><td><a href="/mailboxes/app@example.test">app@example.test</a></td><td>a grant on this mailbox</td>`) {
		t.Fatalf("shared mailbox page does not list who may send on behalf of it:\n%s", body)
	}
	_, _, body = c.do("GET", page, nil)
	if !strings.Contains(body, `<td>Send on Behalf</td><td><a href="/mailboxes/support@example.test">support@example.test</a></td>`) {
		t.Fatalf("mailbox page does not list what it may send on behalf of:\n%s", body)
	}

	// Removal says what goes, then removes.
	if !strings.Contains(body, "Remove app@example.test? This deletes its Inbox and Sent Items (0 bytes), its password, 1 alias, 1 grant it holds.") {
		t.Fatalf("removal confirmation:\n%s", body)
	}
	if status, loc, _ := c.do("POST", page+"/remove", url.Values{"csrf": {tok}}); status != http.StatusSeeOther || !strings.HasPrefix(loc, "/mailboxes?flash=") {
		t.Fatalf("remove: %d %q", status, loc)
	}
	if _, err := a.Mailbox(ctx, "app@example.test"); err == nil {
		t.Fatal("mailbox still there")
	}
	if gs, _ := a.Grants(ctx, "", ""); len(gs) != 0 {
		t.Fatalf("grants after removal: %+v", gs)
	}
}

// TestConsole_AccessForms: an API token made on the access page is shown
// once and opens the API until revoked there; console users are added,
// given a new password and removed, and the last one stays.
func TestConsole_AccessForms(t *testing.T) {
	srv, a := consoleServer(t)
	ctx := context.Background()
	c := newConsoleClient(t, srv)
	c.login("root", "correct-horse-battery")
	tok := c.csrf("/access")

	status, _, body := c.do("POST", "/access/tokens", url.Values{"csrf": {tok}, "label": {"deploy-bot"}})
	m := regexp.MustCompile(`id="new-token".*<code>(mrt_[^<]+)</code>`).FindStringSubmatch(body)
	if status != http.StatusOK || m == nil {
		t.Fatalf("create token: %d\n%s", status, body)
	}
	if got := call(t, srv, m[1], "GET", "/api/v1/domains", "", nil); got != http.StatusOK {
		t.Fatalf("the new token on the API: %d", got)
	}
	if _, _, body := c.do("GET", "/access", nil); strings.Contains(body, m[1]) || !strings.Contains(body, "<td>deploy-bot</td>") {
		t.Fatalf("access page after: token shown again, or not listed:\n%s", body)
	}
	if status, _, body := c.do("POST", "/access/tokens", url.Values{"csrf": {tok}, "label": {"two words"}}); status != http.StatusBadRequest || !strings.Contains(body, "label") {
		t.Fatalf("bad label: %d\n%s", status, body)
	}
	if status, _, _ := c.do("POST", "/access/tokens/revoke", url.Values{"csrf": {tok}, "label": {"deploy-bot"}}); status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", status)
	}
	if got := call(t, srv, m[1], "GET", "/api/v1/domains", "", nil); got != http.StatusUnauthorized {
		t.Fatalf("the revoked token on the API: %d, want 401", got)
	}

	if status, _, body := c.do("POST", "/access/users", url.Values{"csrf": {tok}, "name": {"ops"}, "password": {"ops-password-1"}}); status != http.StatusSeeOther {
		t.Fatalf("add user: %d\n%s", status, body)
	}
	if status, _, body := c.do("POST", "/access/users", url.Values{"csrf": {tok}, "name": {"short"}, "password": {"short"}}); status != http.StatusBadRequest || !strings.Contains(body, "shorter than") {
		t.Fatalf("short password: %d\n%s", status, body)
	}
	if status, _, _ := c.do("POST", "/access/users/password", url.Values{"csrf": {tok}, "name": {"ops"}, "password": {"ops-password-2"}}); status != http.StatusSeeOther {
		t.Fatalf("change password: %d", status)
	}
	if _, err := a.CheckConsoleLogin(ctx, "ops", "ops-password-2"); err != nil {
		t.Fatalf("ops's new password: %v", err)
	}
	if status, _, _ := c.do("POST", "/access/users/remove", url.Values{"csrf": {tok}, "name": {"ops"}}); status != http.StatusSeeOther {
		t.Fatalf("remove ops: %d", status)
	}
	status, _, body = c.do("POST", "/access/users/remove", url.Values{"csrf": {tok}, "name": {"root"}})
	if status != http.StatusBadRequest || !strings.Contains(body, "last console user") {
		t.Fatalf("remove the last user: %d\n%s", status, body)
	}
	if us, _ := a.ConsoleUsers(ctx); len(us) != 1 || us[0].Name != "root" {
		t.Fatalf("console users after: %+v", us)
	}
}

// TestConsole_IMAPAndFullAccess: the mailbox form turns IMAP access off
// and on; a full-access grant made on the permissions page shows on both
// mailboxes' pages.
func TestConsole_IMAPAndFullAccess(t *testing.T) {
	srv, a := consoleServer(t)
	ctx := context.Background()
	c := newConsoleClient(t, srv)
	c.login("root", "correct-horse-battery")
	tok := c.csrf("/mailboxes/app@example.test")
	if status, _, body := c.do("POST", "/mailboxes/app@example.test", url.Values{"csrf": {tok}, "imap_field": {"1"}, "smtp_auth_field": {"1"}, "smtp_auth": {"on"}}); status != http.StatusSeeOther {
		t.Fatalf("IMAP off: %d\n%s", status, body)
	}
	if m, err := a.Mailbox(ctx, "app@example.test"); err != nil || m.IMAP || !m.SMTPAuth {
		t.Fatalf("after IMAP off: %+v %v", m, err)
	}
	if _, _, body := c.do("GET", "/mailboxes/app@example.test", nil); !strings.Contains(body, `<input type="checkbox" name="imap" > IMAP access`) {
		t.Fatalf("IMAP box checked after turning it off:\n%s", body)
	}
	c.do("POST", "/mailboxes/app@example.test", url.Values{"csrf": {tok}, "imap_field": {"1"}, "imap": {"on"}})
	if m, _ := a.Mailbox(ctx, "app@example.test"); !m.IMAP {
		t.Fatal("IMAP still off after turning it on")
	}

	if status, _, body := c.do("POST", "/permissions/grant", url.Values{"csrf": {tok}, "kind": {"full-access"}, "on": {"support@example.test"}, "to": {"app@example.test"}}); status != http.StatusSeeOther {
		t.Fatalf("full-access grant: %d\n%s", status, body)
	}
	if _, _, body := c.do("GET", "/mailboxes/support@example.test", nil); !strings.Contains(body, `<td>Full Access</td><td><a href="/mailboxes/app@example.test">`) {
		t.Fatalf("shared mailbox page lacks the full-access grantee:\n%s", body)
	}
	if _, _, body := c.do("GET", "/mailboxes/app@example.test", nil); !strings.Contains(body, `<td>Full Access</td><td><a href="/mailboxes/support@example.test">`) {
		t.Fatalf("grantee's page lacks what it may open:\n%s", body)
	}
}

// TestConsole_MailboxOtherWaysIn: a mailbox's page names the connectors
// and app-only OAuth clients that act as it, and its removal confirmation
// counts them.
func TestConsole_MailboxOtherWaysIn(t *testing.T) {
	srv, a := consoleServer(t)
	ctx := context.Background()
	const iss = "https://login.example.com/realms/acme"
	a.OAuthIssuers = []string{iss}
	if _, err := a.AddConnector(ctx, admin.ConnectorSpec{Name: "printers", Mailbox: "app@example.test", Networks: []string{"192.0.2.0/24"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AddOAuthClient(ctx, admin.OAuthClientSpec{Issuer: iss, ClientID: "billing", Mailboxes: []string{"app@example.test"}}); err != nil {
		t.Fatal(err)
	}
	c := newConsoleClient(t, srv)
	c.login("root", "correct-horse-battery")
	_, _, body := c.do("GET", "/mailboxes/app@example.test", nil)
	for _, want := range []string{`the connector(s) <a href="/connectors">printers</a>`, `<a href="/permissions#oauth-clients">billing</a> (` + iss + `)`,
		"1 connector, 1 OAuth client&#39;s right to act as it."} {
		if !strings.Contains(body, want) {
			t.Errorf("mailbox page lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(body)
	}
}
