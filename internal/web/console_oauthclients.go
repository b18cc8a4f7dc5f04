package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"mailroom/internal/admin"
)

// The Permissions page's app-only OAuth clients: which client of which
// issuer may act as which mailbox (mailroom oauth-client).

// oauthClientRow is one mailbox an app-only client may act as, or a
// client that may act as none (Mailbox "").
type oauthClientRow struct {
	Issuer, ClientID, Mailbox string
	CreatedAt                 time.Time
}

// oauthClientRows lists the app-only clients one row per mailbox.
func (c *console) oauthClientRows(r *http.Request) ([]oauthClientRow, error) {
	cs, err := c.a.OAuthClients(r.Context())
	if err != nil {
		return nil, err
	}
	var rows []oauthClientRow
	for _, cl := range cs {
		if len(cl.Mailboxes) == 0 {
			rows = append(rows, oauthClientRow{cl.Issuer, cl.ClientID, "", cl.CreatedAt})
		}
		for _, m := range cl.Mailboxes {
			rows = append(rows, oauthClientRow{cl.Issuer, cl.ClientID, m, cl.CreatedAt})
		}
	}
	return rows, nil
}

// formOAuthClient reads the add and remove forms; mailboxes are comma
// separated.
func formOAuthClient(r *http.Request) admin.OAuthClientSpec {
	var mbs []string
	for _, m := range strings.Split(r.PostFormValue("mailboxes"), ",") {
		if m = strings.TrimSpace(m); m != "" {
			mbs = append(mbs, m)
		}
	}
	return admin.OAuthClientSpec{Issuer: r.PostFormValue("issuer"), ClientID: strings.TrimSpace(r.PostFormValue("client_id")), Mailboxes: mbs}
}

func (c *console) oauthClientAdd(w http.ResponseWriter, r *http.Request, s *session) {
	cl, err := c.a.AddOAuthClient(r.Context(), formOAuthClient(r))
	if err != nil {
		p := c.page(r, s, "Permissions", "permissions")
		p.Error = err.Error()
		c.showPermissions(w, r, p, c.status("permissions", err))
		return
	}
	c.log.Info("console oauth client add", "user", s.user, "issuer", cl.Issuer, "client", cl.ClientID, "mailboxes", cl.Mailboxes)
	back(w, r, "/permissions", fmt.Sprintf("OAuth client %s may act as %s.", cl.ClientID, strings.Join(cl.Mailboxes, ", ")))
}

func (c *console) oauthClientRemove(w http.ResponseWriter, r *http.Request, s *session) {
	spec := formOAuthClient(r)
	if err := c.a.RemoveOAuthClient(r.Context(), spec); err != nil {
		p := c.page(r, s, "Permissions", "permissions")
		p.Error = err.Error()
		c.showPermissions(w, r, p, c.status("permissions", err))
		return
	}
	c.log.Info("console oauth client remove", "user", s.user, "issuer", spec.Issuer, "client", spec.ClientID, "mailboxes", spec.Mailboxes)
	flash := fmt.Sprintf("OAuth client %s removed.", spec.ClientID)
	if len(spec.Mailboxes) > 0 {
		flash = fmt.Sprintf("OAuth client %s may no longer act as %s.", spec.ClientID, strings.Join(spec.Mailboxes, ", "))
	}
	back(w, r, "/permissions", flash)
}
