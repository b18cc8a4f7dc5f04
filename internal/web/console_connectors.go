package web

import (
	"net/http"
	"strings"

	"mailroom/internal/admin"
	"mailroom/internal/store"
)

// The connectors page: devices that submit without AUTH as one mailbox.

func (c *console) connectors(w http.ResponseWriter, r *http.Request, s *session) {
	c.showConnectors(w, r, c.page(r, s, "Connectors", "connectors"), http.StatusOK)
}

func (c *console) showConnectors(w http.ResponseWriter, r *http.Request, p page, status int) {
	cs, err := c.a.Connectors(r.Context())
	if err != nil {
		c.fail(w, "connectors", p, err)
		return
	}
	mbs, err := c.a.Mailboxes(r.Context(), "")
	if err != nil {
		c.fail(w, "connectors", p, err)
		return
	}
	p.Data = struct {
		Connectors []store.Connector
		Mailboxes  []store.Mailbox
	}{cs, mbs}
	c.render(w, status, "connectors", p)
}

func (c *console) addConnector(w http.ResponseWriter, r *http.Request, s *session) {
	spec := admin.ConnectorSpec{Name: strings.TrimSpace(r.PostFormValue("name")), Mailbox: strings.TrimSpace(r.PostFormValue("mailbox")),
		Networks: formList(r.PostFormValue("networks")), Fingerprints: formList(r.PostFormValue("fingerprints")), LegacyTLS: r.PostFormValue("legacy_tls") == "on"}
	cn, err := c.a.AddConnector(r.Context(), spec)
	if err != nil {
		p := c.page(r, s, "Connectors", "connectors")
		p.Error = err.Error()
		c.showConnectors(w, r, p, c.status("connectors", err))
		return
	}
	c.log.Info("console connector add", "user", s.user, "connector", cn.Name, "mailbox", cn.Mailbox)
	back(w, r, "/connectors", "Connector "+cn.Name+" added: its devices submit as "+cn.Mailbox+".")
}

func (c *console) removeConnector(w http.ResponseWriter, r *http.Request, s *session) {
	name := r.PostFormValue("name")
	if err := c.a.RemoveConnector(r.Context(), name); err != nil {
		p := c.page(r, s, "Connectors", "connectors")
		p.Error = err.Error()
		c.showConnectors(w, r, p, c.status("connectors", err))
		return
	}
	c.log.Info("console connector remove", "user", s.user, "connector", name)
	back(w, r, "/connectors", "Connector "+name+" removed.")
}

// formList splits a list field: one entry per line, or separated by
// commas or spaces.
func formList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == ' ' || r == '\t' })
}
