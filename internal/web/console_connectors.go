package web

import (
	"fmt"
	"net/http"
	"net/url"
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

// connector shows one connector with its settings form.
func (c *console) connector(w http.ResponseWriter, r *http.Request, s *session) {
	c.showConnector(w, r, c.page(r, s, "Connector", "connectors"), http.StatusOK)
}

func (c *console) showConnector(w http.ResponseWriter, r *http.Request, p page, status int) {
	cs, err := c.a.Connectors(r.Context())
	if err != nil {
		c.fail(w, "connector", p, err)
		return
	}
	name := r.PathValue("name")
	for _, cn := range cs {
		if cn.Name == name {
			p.Title, p.Data = "Connector "+cn.Name, cn
			c.render(w, status, "connector", p)
			return
		}
	}
	c.fail(w, "connector", p, fmt.Errorf("connector %s %w", name, admin.ErrNotFound))
}

// setConnector saves the connector form: every field is sent, so every
// field is set.
func (c *console) setConnector(w http.ResponseWriter, r *http.Request, s *session) {
	mb, nets, fps, legacy := strings.TrimSpace(r.PostFormValue("mailbox")), formList(r.PostFormValue("networks")), formList(r.PostFormValue("fingerprints")), r.PostFormValue("legacy_tls") == "on"
	name := r.PathValue("name")
	if _, err := c.a.SetConnector(r.Context(), name, admin.ConnectorChange{Mailbox: &mb, Networks: &nets, Fingerprints: &fps, LegacyTLS: &legacy}); err != nil {
		p := c.page(r, s, "Connector", "connectors")
		p.Error = err.Error()
		c.showConnector(w, r, p, c.status("connector", err))
		return
	}
	c.log.Info("console connector set", "user", s.user, "connector", name)
	back(w, r, "/connectors/"+url.PathEscape(name), "Connector "+name+" saved: its devices submit as "+mb+".")
}

// formList splits a list field: one entry per line, or separated by
// commas or spaces.
func formList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == ' ' || r == '\t' })
}
