package web

import (
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"mailroom/internal/admin"
	"mailroom/internal/store"
)

// The console's pages. Each reads the form, calls one internal/admin
// operation and renders or redirects; admin's refusal text is shown as
// is, as the API and the CLI show it.

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Local().Format("2006-01-02 15:04:05")
	},
	"join":   func(s []string) string { return strings.Join(s, ", ") },
	"lines":  func(s []string) string { return strings.Join(s, "\n") },
	"path":   url.PathEscape,
	"query":  url.QueryEscape,
	"limit":  func(n int) string { return limitText(n) },
	"folder": func(f store.Folder) string { return string(f) },
	"list":   func(s ...string) []string { return s },
	"attime": admin.TimeText,
	"zone":   func() string { return time.Now().Format("MST (-07:00)") },
	"sub":    func(a, b int) int { return a - b },
}

func limitText(n int) string {
	if n == 0 {
		return "∞"
	}
	return strconv.Itoa(n)
}

// fail renders page name with err as its error message: admin's
// validation errors as 400, missing objects as 404, else 500 (logged).
func (c *console) fail(w http.ResponseWriter, name string, p page, err error) {
	p.Error = err.Error()
	c.render(w, c.status(name, err), name, p)
}

// status is the HTTP status of a refusal: admin's validation errors 400,
// missing objects 404, anything else 500 (and logged).
func (c *console) status(page string, err error) int {
	switch {
	case errors.Is(err, admin.ErrInvalid), errors.Is(err, admin.ErrExists), errors.Is(err, store.ErrConflict):
		return http.StatusBadRequest
	case errors.Is(err, admin.ErrNotFound), errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound
	}
	c.log.Error("console", "page", page, "err", err)
	return http.StatusInternalServerError
}

// back redirects to path with a flash message.
func back(w http.ResponseWriter, r *http.Request, path, flash string) {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	http.Redirect(w, r, path+sep+"flash="+url.QueryEscape(flash), http.StatusSeeOther)
}

func (c *console) page(r *http.Request, s *session, title, nav string) page {
	return page{Title: title, Nav: nav, User: s.user, CSRF: s.csrf, Flash: r.URL.Query().Get("flash")}
}

// chartBar is one hour of the dashboard's bar chart, in SVG units.
type chartBar struct {
	X, W                    int
	AccY, AccH, RefY, RefH  int
	DefY, DefH              int
	Label                   string
	Accepted, Refused, Defd int
}

const chartH = 120

func (c *console) dashboard(w http.ResponseWriter, r *http.Request, s *session) {
	p := c.page(r, s, "Dashboard", "dashboard")
	d, err := c.a.Dashboard(r.Context(), c.now())
	if err != nil {
		c.fail(w, "dashboard", p, err)
		return
	}
	peak := 1
	for _, h := range d.Hours {
		peak = max(peak, h.Accepted+h.Refused+h.Deferred)
	}
	var bars []chartBar
	for i, h := range d.Hours {
		scale := func(n int) int { return n * chartH / peak }
		b := chartBar{X: 30 + i*22, W: 18, Label: h.Start.Local().Format("15h"), Accepted: h.Accepted, Refused: h.Refused, Defd: h.Deferred}
		b.AccH, b.RefH, b.DefH = scale(h.Accepted), scale(h.Refused), scale(h.Deferred)
		b.AccY = chartH - b.AccH
		b.RefY = b.AccY - b.RefH
		b.DefY = b.RefY - b.DefH
		bars = append(bars, b)
	}
	p.Data = struct {
		D    admin.Dashboard
		Bars []chartBar
		Peak int
	}{d, bars, peak}
	c.render(w, http.StatusOK, "dashboard", p)
}

func (c *console) mailboxes(w http.ResponseWriter, r *http.Request, s *session) {
	p := c.page(r, s, "Mailboxes", "mailboxes")
	c.showMailboxes(w, r, p, http.StatusOK)
}

func (c *console) showMailboxes(w http.ResponseWriter, r *http.Request, p page, status int) {
	mbs, err := c.a.Mailboxes(r.Context(), r.URL.Query().Get("domain"))
	if err != nil {
		c.fail(w, "mailboxes", p, err)
		return
	}
	doms, err := c.a.Domains(r.Context())
	if err != nil {
		c.fail(w, "mailboxes", p, err)
		return
	}
	p.Data = struct {
		Mailboxes []store.Mailbox
		Domains   []store.Domain
	}{mbs, doms}
	c.render(w, status, "mailboxes", p)
}

func (c *console) addMailbox(w http.ResponseWriter, r *http.Request, s *session) {
	p := c.page(r, s, "Mailboxes", "mailboxes")
	m, pw, err := c.a.AddMailbox(r.Context(), admin.NewMailbox{Address: r.PostFormValue("address"), DisplayName: r.PostFormValue("display_name"),
		Password: r.PostFormValue("password"), Shared: r.PostFormValue("shared") == "on"})
	if err != nil {
		p.Error = err.Error()
		c.showMailboxes(w, r, p, c.status("mailboxes", err))
		return
	}
	p.Flash = "Mailbox " + m.Address + " created."
	if pw != "" {
		p.Flash += " Its generated password (shown once): " + pw
	}
	c.showMailboxes(w, r, p, http.StatusOK)
}

// mailboxPage is the data of one mailbox's page.
type mailboxPage struct {
	M         store.Mailbox
	Status    admin.LimitStatus
	Storage   int64
	Grants    []store.Grant
	Retention string
	Generated string
}

func (c *console) mailbox(w http.ResponseWriter, r *http.Request, s *session) {
	c.showMailbox(w, r, c.page(r, s, "Mailbox", "mailboxes"), http.StatusOK, "")
}

func (c *console) showMailbox(w http.ResponseWriter, r *http.Request, p page, status int, generated string) {
	ctx := r.Context()
	addr := r.PathValue("address")
	m, err := c.a.Mailbox(ctx, addr)
	if err != nil {
		c.fail(w, "mailbox", p, err)
		return
	}
	d := mailboxPage{M: m, Generated: generated}
	if d.Status, err = c.a.LimitStatus(ctx, addr, c.now()); err == nil {
		d.Storage, err = c.a.Usage(ctx, addr)
	}
	if err == nil {
		d.Grants, err = c.a.Grants(ctx, "", m.Address)
	}
	if err != nil {
		c.fail(w, "mailbox", p, err)
		return
	}
	if m.SentRetention > 0 {
		d.Retention = m.SentRetention.String()
	}
	p.Title = m.Address
	p.Data = d
	c.render(w, status, "mailbox", p)
}

func (c *console) setMailbox(w http.ResponseWriter, r *http.Request, s *session) {
	p := c.page(r, s, "Mailbox", "mailboxes")
	ch, err := mailboxChange(r)
	if err == nil {
		_, err = c.a.SetMailbox(r.Context(), r.PathValue("address"), ch)
	}
	if err != nil {
		p.Error = err.Error()
		c.showMailbox(w, r, p, c.status("mailbox", err), "")
		return
	}
	back(w, r, "/mailboxes/"+url.PathEscape(r.PathValue("address")), "Settings saved.")
}

// mailboxChange reads the settings form: every field is sent (an
// unchecked box as absent), so every field is set; the SMTP AUTH switch
// only when the form had it.
func mailboxChange(r *http.Request) (admin.MailboxChange, error) {
	f := func(name string) string { return strings.TrimSpace(r.PostFormValue(name)) }
	on := func(name string) *bool { v := r.PostFormValue(name) == "on"; return &v }
	dn := f("display_name")
	c := admin.MailboxChange{DisplayName: &dn, SaveSent: on("save_sent"), CopySentAs: on("copy_sent_as"), CopySentOnBehalf: on("copy_sent_on_behalf")}
	if r.PostFormValue("smtp_auth_field") != "" { // shared mailboxes have no switch
		c.SMTPAuth = on("smtp_auth")
	}
	var ret time.Duration
	if v := f("sent_retention"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return c, fmt.Errorf("%w: Sent Items retention %q: want a duration such as 720h, or empty to keep forever", admin.ErrInvalid, v)
		}
		ret = d
	}
	c.SentRetention = &ret
	quota, err := formInt(f("quota_bytes"), "quota")
	if err != nil {
		return c, err
	}
	q := int64(quota)
	c.QuotaBytes = &q
	nets := formList(f("networks"))
	c.Networks = &nets
	for _, l := range []struct {
		name string
		dst  **int
	}{{"concurrent", &c.Limits.Concurrent}, {"messages_per_minute", &c.Limits.MessagesPerMinute},
		{"recipients_per_message", &c.Limits.RecipientsPerMessage}, {"recipients_per_day", &c.Limits.RecipientsPerDay}} {
		n, err := formInt(f(l.name), strings.ReplaceAll(l.name, "_", " "))
		if err != nil {
			return c, err
		}
		*l.dst = &n
	}
	return c, nil
}

// formInt reads a number field; empty is 0.
func formInt(v, what string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%w: %s %q: want a whole number (0: inherit or unlimited)", admin.ErrInvalid, what, v)
	}
	return n, nil
}

func (c *console) setPassword(w http.ResponseWriter, r *http.Request, s *session) {
	p := c.page(r, s, "Mailbox", "mailboxes")
	pw, err := c.a.SetPassword(r.Context(), r.PathValue("address"), r.PostFormValue("password"))
	if err != nil {
		p.Error = err.Error()
		c.showMailbox(w, r, p, c.status("mailbox", err), "")
		return
	}
	p.Flash = "Password changed."
	c.showMailbox(w, r, p, http.StatusOK, pw)
}

func (c *console) permissions(w http.ResponseWriter, r *http.Request, s *session) {
	c.showPermissions(w, r, c.page(r, s, "Permissions", "permissions"), http.StatusOK)
}

func (c *console) showPermissions(w http.ResponseWriter, r *http.Request, p page, status int) {
	gs, err := c.a.Grants(r.Context(), "", "")
	if err != nil {
		c.fail(w, "permissions", p, err)
		return
	}
	mbs, err := c.a.Mailboxes(r.Context(), "")
	if err != nil {
		c.fail(w, "permissions", p, err)
		return
	}
	ocs, err := c.oauthClientRows(r)
	if err != nil {
		c.fail(w, "permissions", p, err)
		return
	}
	p.Data = struct {
		Grants       []store.Grant
		Mailboxes    []store.Mailbox
		OAuthClients []oauthClientRow
		Issuers      []string
	}{gs, mbs, ocs, c.a.OAuthIssuers}
	c.render(w, status, "permissions", p)
}

func formGrant(r *http.Request) admin.GrantSpec {
	return admin.GrantSpec{Kind: r.PostFormValue("kind"), On: strings.TrimSpace(r.PostFormValue("on")), To: strings.TrimSpace(r.PostFormValue("to"))}
}

func (c *console) grant(w http.ResponseWriter, r *http.Request, s *session) {
	g, err := c.a.AddGrant(r.Context(), formGrant(r))
	if err != nil {
		p := c.page(r, s, "Permissions", "permissions")
		p.Error = err.Error()
		c.showPermissions(w, r, p, c.status("permissions", err))
		return
	}
	c.log.Info("console grant", "user", s.user, "kind", g.Kind, "on", g.On, "to", g.Grantee)
	back(w, r, "/permissions", fmt.Sprintf("Granted %s on %s to %s.", g.Kind, g.On, g.Grantee))
}

func (c *console) revoke(w http.ResponseWriter, r *http.Request, s *session) {
	g := formGrant(r)
	if err := c.a.RevokeGrant(r.Context(), g); err != nil {
		p := c.page(r, s, "Permissions", "permissions")
		p.Error = err.Error()
		c.showPermissions(w, r, p, c.status("permissions", err))
		return
	}
	c.log.Info("console revoke", "user", s.user, "kind", g.Kind, "on", g.On, "to", g.To)
	back(w, r, "/permissions", fmt.Sprintf("Revoked %s on %s from %s.", g.Kind, g.On, g.To))
}

func (c *console) queue(w http.ResponseWriter, r *http.Request, s *session) {
	p := c.page(r, s, "Queue", "queue")
	state := r.URL.Query().Get("state")
	if state == "" {
		state = store.StateQueued
	}
	if state == "all" {
		state = ""
	}
	es, err := c.a.Queue(r.Context(), state, r.URL.Query().Get("queue_id"), 500)
	p.Data = struct {
		State   string
		Entries []store.QueueEntry
	}{r.URL.Query().Get("state"), es}
	if err != nil {
		c.fail(w, "queue", p, err)
		return
	}
	c.render(w, http.StatusOK, "queue", p)
}

func (c *console) queueAction(w http.ResponseWriter, r *http.Request, s *session) {
	sel := admin.QueueSelection{ID: r.PostFormValue("queue_id"), Recipient: r.PostFormValue("recipient"), All: r.PostFormValue("all") == "on"}
	var n int
	var err error
	switch action := r.PathValue("action"); action {
	case "retry":
		n, err = c.a.RetryQueue(r.Context(), sel)
	case "drop":
		n, err = c.a.DropQueue(r.Context(), sel)
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		p := c.page(r, s, "Queue", "queue")
		c.fail(w, "queue", p, err)
		return
	}
	c.log.Info("console queue", "user", s.user, "action", r.PathValue("action"), "queue_id", sel.ID, "recipient", sel.Recipient, "all", sel.All, "rows", n)
	back(w, r, "/queue", fmt.Sprintf("%s: %d recipient(s).", r.PathValue("action"), n))
}

// folderOf reads the folder query parameter: Sent Items unless "inbox".
func folderOf(r *http.Request) store.Folder {
	if strings.EqualFold(r.URL.Query().Get("folder"), "inbox") {
		return store.FolderInbox
	}
	return store.FolderSent
}

func (c *console) folder(w http.ResponseWriter, r *http.Request, s *session) {
	p := c.page(r, s, "Messages", "mailboxes")
	addr, folder := r.PathValue("mailbox"), folderOf(r)
	es, err := c.a.Folder(r.Context(), addr, folder)
	p.Title = string(folder) + " of " + addr
	p.Data = struct {
		Mailbox string
		Folder  store.Folder
		Entries []store.FolderEntry
	}{addr, folder, es}
	if err != nil {
		c.fail(w, "folder", p, err)
		return
	}
	c.render(w, http.StatusOK, "folder", p)
}

func (c *console) message(w http.ResponseWriter, r *http.Request, s *session) {
	p := c.page(r, s, "Message", "mailboxes")
	addr, folder := r.PathValue("mailbox"), folderOf(r)
	v, err := c.a.ReadMessage(r.Context(), addr, folder, r.PathValue("id"))
	p.Data = struct {
		Mailbox string
		Folder  store.Folder
		V       admin.MessageView
	}{addr, folder, v}
	if err != nil {
		c.fail(w, "message", p, err)
		return
	}
	c.render(w, http.StatusOK, "message", p)
}

// messageCSP is the policy of a message's HTML part, shown in a sandboxed
// iframe: no script, no remote content (tracking pixels, remote CSS),
// inline styles and images embedded as data: URLs only.
const messageCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; sandbox"

func (c *console) messageHTML(w http.ResponseWriter, r *http.Request, s *session) {
	v, err := c.a.ReadMessage(r.Context(), r.PathValue("mailbox"), folderOf(r), r.PathValue("id"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", messageCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	_, _ = io.WriteString(newSteadyWriter(w), v.HTML) // up to admin's 4 MiB a part
}
