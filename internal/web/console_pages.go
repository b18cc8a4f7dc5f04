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

	"mailroom/internal/admin"
	"mailroom/internal/store"
)

// The console's pages. Each reads the form, calls one internal/admin
// operation and renders or redirects; admin's refusal text is shown as
// is, as the API and the CLI show it.

var funcs = template.FuncMap{
	"when":   when,
	"join":   func(s []string) string { return strings.Join(s, ", ") },
	"lines":  func(s []string) string { return strings.Join(s, "\n") },
	"path":   url.PathEscape,
	"limit":  func(n int) string { return limitText(n) },
	"folder": func(f store.Folder) string { return string(f) },
	"list":   func(s ...string) []string { return s },
	"ago":    ago,
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
