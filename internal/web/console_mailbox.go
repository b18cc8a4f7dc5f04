package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"mailroom/internal/admin"
	"mailroom/internal/store"
	"mailroom/internal/unit"
)

// One mailbox's page: its settings, limits with their effective values,
// usage, aliases, app passwords, grants seen from both sides, and its
// removal.

// mailboxPage is the data of one mailbox's page.
type mailboxPage struct {
	M      store.Mailbox
	Status admin.LimitStatus
	// Storage is the bytes its folders take.
	Storage int64
	// SendsAs are the grants it holds: what it may send as or on behalf
	// of, or open.
	SendsAs []store.Grant
	// SentAsBy are the grants on it (or on its whole domain): who may send
	// as it, on its behalf, or open it.
	SentAsBy     []store.Grant
	Aliases      []string
	AppPasswords []store.AppPassword
	Connectors   []store.Connector
	// OAuthClients are the app-only OAuth clients that may act as it.
	OAuthClients []store.OAuthClient
	// Generated is a password generated just now, shown once.
	Generated string
	// Secret is an app password created just now, shown once, and its
	// label.
	Secret, SecretLabel string
	// Removal says what removing the mailbox deletes.
	Removal string
}

func (c *console) mailbox(w http.ResponseWriter, r *http.Request, s *session) {
	c.showMailbox(w, r, c.page(r, s, "Mailbox", "mailboxes"), http.StatusOK, mailboxPage{})
}

// showMailbox renders the mailbox's page; shown carries what is shown once
// (a generated password, a new app password).
func (c *console) showMailbox(w http.ResponseWriter, r *http.Request, p page, status int, shown mailboxPage) {
	ctx := r.Context()
	m, err := c.a.Mailbox(ctx, r.PathValue("address"))
	if err != nil {
		c.fail(w, "mailbox", p, err)
		return
	}
	d, err := c.mailboxData(ctx, m)
	if err != nil {
		c.fail(w, "mailbox", p, err)
		return
	}
	d.Generated, d.Secret, d.SecretLabel = shown.Generated, shown.Secret, shown.SecretLabel
	p.Title, p.Data = m.Address, d
	c.render(w, status, "mailbox", p)
}

func (c *console) mailboxData(ctx context.Context, m store.Mailbox) (mailboxPage, error) {
	d := mailboxPage{M: m}
	var err error
	if d.Status, err = c.a.LimitStatus(ctx, m.Address, c.now()); err != nil {
		return d, err
	}
	if d.Storage, err = c.a.Usage(ctx, m.Address); err != nil {
		return d, err
	}
	if d.SendsAs, err = c.a.Grants(ctx, "", m.Address); err != nil {
		return d, err
	}
	if d.SentAsBy, err = c.a.Grants(ctx, m.Address, ""); err != nil {
		return d, err
	}
	if d.Aliases, err = c.a.Aliases(ctx, m.Address); err != nil {
		return d, err
	}
	if d.AppPasswords, err = c.a.AppPasswords(ctx, m.Address); err != nil {
		return d, err
	}
	cs, err := c.a.Connectors(ctx)
	if err != nil {
		return d, err
	}
	for _, cn := range cs {
		if cn.Mailbox == m.Address {
			d.Connectors = append(d.Connectors, cn)
		}
	}
	ocs, err := c.a.OAuthClients(ctx)
	if err != nil {
		return d, err
	}
	for _, oc := range ocs {
		if slices.Contains(oc.Mailboxes, m.Address) {
			d.OAuthClients = append(d.OAuthClients, oc)
		}
	}
	d.Removal = removalText(d)
	return d, nil
}

// removalText says what removing the mailbox deletes, for its
// confirmation: everything that goes with it, counted.
func removalText(d mailboxPage) string {
	parts := []string{"its Inbox and Sent Items (" + unit.Size(d.Storage) + ")"}
	if !d.M.Shared {
		parts = append(parts, "its password")
	}
	for _, x := range []struct {
		n         int
		one, many string
	}{{len(d.AppPasswords), "app password", "app passwords"}, {len(d.Aliases), "alias", "aliases"},
		{len(d.SendsAs), "grant it holds", "grants it holds"}, {len(d.SentAsBy), "grant on it", "grants on it"},
		{len(d.Connectors), "connector", "connectors"}, {len(d.OAuthClients), "OAuth client's right to act as it", "OAuth clients' right to act as it"}} {
		if x.n > 0 {
			parts = append(parts, unit.Count(int64(x.n), x.one, x.many))
		}
	}
	return "Remove " + d.M.Address + "? This deletes " + strings.Join(parts, ", ") +
		". Messages it sent that are still queued are delivered. This cannot be undone."
}

// mailboxFailed shows the mailbox's page with admin's refusal.
func (c *console) mailboxFailed(w http.ResponseWriter, r *http.Request, s *session, err error) {
	p := c.page(r, s, "Mailbox", "mailboxes")
	p.Error = err.Error()
	c.showMailbox(w, r, p, c.status("mailbox", err), mailboxPage{})
}

// mailboxPath is the page of the mailbox the request names.
func mailboxPath(r *http.Request) string {
	return "/mailboxes/" + url.PathEscape(r.PathValue("address"))
}

func (c *console) setMailbox(w http.ResponseWriter, r *http.Request, s *session) {
	ch, err := mailboxChange(r)
	if err == nil {
		_, err = c.a.SetMailbox(r.Context(), r.PathValue("address"), ch)
	}
	if err != nil {
		c.mailboxFailed(w, r, s, err)
		return
	}
	c.log.Info("console mailbox set", "user", s.user, "mailbox", r.PathValue("address"))
	back(w, r, mailboxPath(r), "Settings saved.")
}

// mailboxChange reads the settings form: every field is sent (an
// unchecked box as absent), so every field is set; the SMTP AUTH switch
// and IMAP switches only when the form had them. Sizes and durations take units ("50 MiB",
// "30 days"); empty is 0 (unlimited, kept forever, inherit).
func mailboxChange(r *http.Request) (admin.MailboxChange, error) {
	f := func(name string) string { return strings.TrimSpace(r.PostFormValue(name)) }
	on := func(name string) *bool { v := r.PostFormValue(name) == "on"; return &v }
	dn := f("display_name")
	c := admin.MailboxChange{DisplayName: &dn, SaveSent: on("save_sent"), CopySentAs: on("copy_sent_as"), CopySentOnBehalf: on("copy_sent_on_behalf")}
	if r.PostFormValue("smtp_auth_field") != "" { // shared mailboxes have no switch
		c.SMTPAuth = on("smtp_auth")
	}
	if r.PostFormValue("imap_field") != "" {
		c.IMAP = on("imap")
	}
	var ret time.Duration
	if v := f("sent_retention"); v != "" && v != "0" {
		d, err := unit.ParseDuration(v)
		if err != nil {
			return c, fmt.Errorf("%w: Sent Items retention: %v; or empty to keep forever", admin.ErrInvalid, err)
		}
		ret = d
	}
	c.SentRetention = &ret
	var quota int64
	if v := f("quota"); v != "" {
		q, err := unit.ParseSize(v)
		if err != nil {
			return c, fmt.Errorf("%w: quota: %v; or empty for unlimited", admin.ErrInvalid, err)
		}
		quota = q
	}
	c.QuotaBytes = &quota
	nets := formList(f("networks"))
	c.Networks = &nets
	return c, formLimits(r, &c.Limits)
}

// formInt reads a number field; empty is 0.
func formInt(v, what string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%w: %s %q: want a whole number, or empty to inherit", admin.ErrInvalid, what, v)
	}
	return n, nil
}

func (c *console) setPassword(w http.ResponseWriter, r *http.Request, s *session) {
	pw, err := c.a.SetPassword(r.Context(), r.PathValue("address"), r.PostFormValue("password"))
	if err != nil {
		c.mailboxFailed(w, r, s, err)
		return
	}
	c.log.Info("console mailbox password", "user", s.user, "mailbox", r.PathValue("address"))
	p := c.page(r, s, "Mailbox", "mailboxes")
	p.Flash = "Password changed."
	c.showMailbox(w, r, p, http.StatusOK, mailboxPage{Generated: pw})
}

func (c *console) removeMailbox(w http.ResponseWriter, r *http.Request, s *session) {
	addr := r.PathValue("address")
	if err := c.a.RemoveMailbox(r.Context(), addr); err != nil {
		c.mailboxFailed(w, r, s, err)
		return
	}
	c.log.Info("console mailbox remove", "user", s.user, "mailbox", addr)
	back(w, r, "/mailboxes", "Mailbox "+addr+" removed.")
}

func (c *console) addAlias(w http.ResponseWriter, r *http.Request, s *session) {
	a, err := c.a.AddAlias(r.Context(), r.PathValue("address"), r.PostFormValue("alias"))
	if err != nil {
		c.mailboxFailed(w, r, s, err)
		return
	}
	c.log.Info("console alias add", "user", s.user, "mailbox", r.PathValue("address"), "alias", a)
	back(w, r, mailboxPath(r), "Alias "+a+" added: the mailbox sends and receives as it.")
}

func (c *console) removeAlias(w http.ResponseWriter, r *http.Request, s *session) {
	a := r.PostFormValue("alias")
	if err := c.a.RemoveAlias(r.Context(), r.PathValue("address"), a); err != nil {
		c.mailboxFailed(w, r, s, err)
		return
	}
	c.log.Info("console alias remove", "user", s.user, "mailbox", r.PathValue("address"), "alias", a)
	back(w, r, mailboxPath(r), "Alias "+a+" removed.")
}

func (c *console) addAppPassword(w http.ResponseWriter, r *http.Request, s *session) {
	ap, secret, err := c.a.AddAppPassword(r.Context(), admin.NewAppPassword{Mailbox: r.PathValue("address"),
		Label: r.PostFormValue("label"), Networks: formList(r.PostFormValue("networks"))})
	if err != nil {
		c.mailboxFailed(w, r, s, err)
		return
	}
	c.log.Info("console app password add", "user", s.user, "mailbox", ap.Mailbox, "label", ap.Label)
	p := c.page(r, s, "Mailbox", "mailboxes")
	p.Flash = "App password " + ap.Label + " created."
	c.showMailbox(w, r, p, http.StatusOK, mailboxPage{Secret: secret, SecretLabel: ap.Label})
}

func (c *console) revokeAppPassword(w http.ResponseWriter, r *http.Request, s *session) {
	label := r.PostFormValue("label")
	if err := c.a.RevokeAppPassword(r.Context(), r.PathValue("address"), label); err != nil {
		c.mailboxFailed(w, r, s, err)
		return
	}
	c.log.Info("console app password revoke", "user", s.user, "mailbox", r.PathValue("address"), "label", label)
	back(w, r, mailboxPath(r), "App password "+label+" revoked: the device using it can no longer log in.")
}

// setAppPasswordNetworks changes the networks an app password may log in
// from, keeping its secret (admin.SetAppPasswordNetworks, as the CLI's
// app-password set and the API's PATCH): the device keeps working.
func (c *console) setAppPasswordNetworks(w http.ResponseWriter, r *http.Request, s *session) {
	label := r.PostFormValue("label")
	ap, err := c.a.SetAppPasswordNetworks(r.Context(), r.PathValue("address"), label, formList(r.PostFormValue("networks")))
	if err != nil {
		c.mailboxFailed(w, r, s, err)
		return
	}
	c.log.Info("console app password networks", "user", s.user, "mailbox", ap.Mailbox, "label", ap.Label, "networks", strings.Join(ap.Networks, ","))
	where := "wherever " + ap.Mailbox + " may log in"
	if len(ap.Networks) > 0 {
		where = strings.Join(ap.Networks, ", ")
	}
	back(w, r, mailboxPath(r), "App password "+ap.Label+" may now log in from "+where+"; its password is unchanged.")
}
