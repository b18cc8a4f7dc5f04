package web

import (
	"net/http"
	"strings"

	"mailroom/internal/store"
)

// The access page: who administers mailroom. Console users (add, change a
// password, remove; never the last) and the JSON API's tokens (create,
// shown once; revoke), as `mailroom admin user` and `mailroom admin token`
// manage them.

// accessPage is the data of the access page.
type accessPage struct {
	Users  []store.ConsoleUser
	Tokens []store.APIToken
	// Token is a token created just now, shown once, and its label.
	Token, TokenLabel string
	// Me is the logged-in user.
	Me string
}

func (c *console) access(w http.ResponseWriter, r *http.Request, s *session) {
	c.showAccess(w, r, c.page(r, s, "Access", "access"), http.StatusOK, accessPage{})
}

func (c *console) showAccess(w http.ResponseWriter, r *http.Request, p page, status int, shown accessPage) {
	var err error
	d := accessPage{Token: shown.Token, TokenLabel: shown.TokenLabel, Me: p.User}
	if d.Users, err = c.a.ConsoleUsers(r.Context()); err == nil {
		d.Tokens, err = c.a.Tokens(r.Context())
	}
	if err != nil {
		c.fail(w, "access", p, err)
		return
	}
	p.Data = d
	c.render(w, status, "access", p)
}

// accessFailed shows the access page with admin's refusal.
func (c *console) accessFailed(w http.ResponseWriter, r *http.Request, s *session, err error) {
	p := c.page(r, s, "Access", "access")
	p.Error = err.Error()
	c.showAccess(w, r, p, c.status("access", err), accessPage{})
}

func (c *console) addToken(w http.ResponseWriter, r *http.Request, s *session) {
	t, token, err := c.a.AddToken(r.Context(), r.PostFormValue("label"))
	if err != nil {
		c.accessFailed(w, r, s, err)
		return
	}
	c.log.Info("console api token add", "user", s.user, "label", t.Label)
	p := c.page(r, s, "Access", "access")
	p.Flash = "API token " + t.Label + " created."
	c.showAccess(w, r, p, http.StatusOK, accessPage{Token: token, TokenLabel: t.Label})
}

func (c *console) revokeToken(w http.ResponseWriter, r *http.Request, s *session) {
	label := r.PostFormValue("label")
	if err := c.a.RevokeToken(r.Context(), label); err != nil {
		c.accessFailed(w, r, s, err)
		return
	}
	c.log.Info("console api token revoke", "user", s.user, "label", label)
	back(w, r, "/access", "API token "+label+" revoked: requests with it are refused from now on.")
}

func (c *console) addUser(w http.ResponseWriter, r *http.Request, s *session) {
	u, err := c.a.AddConsoleUser(r.Context(), r.PostFormValue("name"), r.PostFormValue("password"))
	if err != nil {
		c.accessFailed(w, r, s, err)
		return
	}
	c.log.Info("console user add", "user", s.user, "added", u.Name)
	back(w, r, "/access", "Console user "+u.Name+" added: they log in with the password you gave.")
}

func (c *console) setUserPassword(w http.ResponseWriter, r *http.Request, s *session) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	if err := c.a.SetConsolePassword(r.Context(), name, r.PostFormValue("password")); err != nil {
		c.accessFailed(w, r, s, err)
		return
	}
	c.log.Info("console user password", "user", s.user, "changed", name)
	back(w, r, "/access", "Password of "+name+" changed.")
}

func (c *console) removeUser(w http.ResponseWriter, r *http.Request, s *session) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	if err := c.a.RemoveConsoleUser(r.Context(), name); err != nil {
		c.accessFailed(w, r, s, err)
		return
	}
	c.log.Info("console user remove", "user", s.user, "removed", name)
	if name == s.user {
		c.endSession(r)
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	back(w, r, "/access", "Console user "+name+" removed; their sessions end now.")
}
