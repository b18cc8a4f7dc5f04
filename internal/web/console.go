package web

import (
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"mailroom/internal/admin"
	"mailroom/internal/limits"
	"mailroom/internal/store"
)

// The admin console: server-rendered pages (html/template, embedded) on
// the API's listener. Every handler calls internal/admin, as the API and
// the CLI do. Security: a password login per console user (mailroom admin
// user add), a random session id in an HttpOnly, SameSite=Strict cookie
// (Secure under TLS), a CSRF token in every form checked on every POST,
// failed logins throttled per client address and per user name
// (limits.LoginGuard), and a Content-Security-Policy that allows nothing
// but the console's own files.

//go:embed console
var consoleFiles embed.FS

const (
	sessionCookie = "mailroom_session"
	loginCookie   = "mailroom_login" // the login form's CSRF token (double submit)
	// maxLoginBody bounds the login form: its token, a name, a password
	// and the page to return to.
	maxLoginBody = 16 << 10
	// loginSweepEvery is how often failed logins sweep the login guard.
	loginSweepEvery = time.Minute
	// sessionTTL is how long a session lasts without a request.
	sessionTTL = 8 * time.Hour
	// consoleCSP allows the console's own files only: no inline script, no
	// remote content, no framing by other sites.
	consoleCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; form-action 'self'; frame-ancestors 'self'; base-uri 'none'"
)

// console serves the console's pages.
type console struct {
	a      *admin.Service
	log    *slog.Logger
	now    func() time.Time
	logins *limits.LoginGuard
	pages  map[string]*template.Template

	mu       sync.Mutex
	sessions map[string]*session
	swept    time.Time // when failed logins last swept logins
}

// session is one logged-in console user.
type session struct {
	user    string
	csrf    string
	expires time.Time
}

// newConsole parses the templates; a template error is a bug, caught by
// every test.
func newConsole(a *admin.Service, log *slog.Logger, now func() time.Time, logins *limits.LoginGuard) *console {
	c := &console{a: a, log: log, now: now, logins: logins, sessions: map[string]*session{}, pages: map[string]*template.Template{}}
	base := template.Must(template.New("layout.html").Funcs(funcs).Funcs(formatFuncs).ParseFS(consoleFiles, "console/layout.html"))
	names, err := fs.Glob(consoleFiles, "console/*.html")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "console/"), ".html")
		if name == "layout" {
			continue
		}
		c.pages[name] = template.Must(template.Must(base.Clone()).ParseFS(consoleFiles, n))
	}
	return c
}

// mountConsole registers the console's routes on mux.
func mountConsole(mux *http.ServeMux, c *console) {
	static, _ := fs.Sub(consoleFiles, "console/static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(filesOnly{static})))
	mux.HandleFunc("GET /login", c.loginPage)
	mux.HandleFunc("POST /login", c.login)
	mux.Handle("POST /logout", c.auth(c.logout))
	mux.Handle("GET /{$}", c.auth(c.dashboard))
	mux.Handle("GET /mailboxes", c.auth(c.mailboxes))
	mux.Handle("POST /mailboxes", c.auth(c.addMailbox))
	mux.Handle("GET /mailboxes/{address}", c.auth(c.mailbox))
	mux.Handle("POST /mailboxes/{address}", c.auth(c.setMailbox))
	mux.Handle("POST /mailboxes/{address}/password", c.auth(c.setPassword))
	mux.Handle("POST /mailboxes/{address}/remove", c.auth(c.removeMailbox))
	mux.Handle("POST /mailboxes/{address}/aliases", c.auth(c.addAlias))
	mux.Handle("POST /mailboxes/{address}/aliases/remove", c.auth(c.removeAlias))
	mux.Handle("POST /mailboxes/{address}/app-passwords", c.auth(c.addAppPassword))
	mux.Handle("POST /mailboxes/{address}/app-passwords/revoke", c.auth(c.revokeAppPassword))
	mux.Handle("POST /mailboxes/{address}/app-passwords/networks", c.auth(c.setAppPasswordNetworks))
	mux.Handle("GET /domains", c.auth(c.domains))
	mux.Handle("POST /domains", c.auth(c.addDomain))
	mux.Handle("GET /domains/{name}", c.auth(c.domain))
	mux.Handle("POST /domains/{name}", c.auth(c.setDomain))
	mux.Handle("POST /domains/{name}/dkim", c.auth(c.addDKIM))
	mux.Handle("POST /domains/{name}/doctor", c.auth(c.doctor))
	mux.Handle("POST /domains/{name}/remove", c.auth(c.removeDomain))
	mux.Handle("GET /access", c.auth(c.access))
	mux.Handle("POST /access/tokens", c.auth(c.addToken))
	mux.Handle("POST /access/tokens/revoke", c.auth(c.revokeToken))
	mux.Handle("POST /access/users", c.auth(c.addUser))
	mux.Handle("POST /access/users/password", c.auth(c.setUserPassword))
	mux.Handle("POST /access/users/remove", c.auth(c.removeUser))
	mux.Handle("GET /permissions", c.auth(c.permissions))
	mux.Handle("POST /permissions/grant", c.auth(c.grant))
	mux.Handle("POST /permissions/revoke", c.auth(c.revoke))
	mux.Handle("POST /permissions/oauth-client", c.auth(c.oauthClientAdd))
	mux.Handle("POST /permissions/oauth-client/remove", c.auth(c.oauthClientRemove))
	mux.Handle("GET /connectors", c.auth(c.connectors))
	mux.Handle("POST /connectors", c.auth(c.addConnector))
	mux.Handle("POST /connectors/remove", c.auth(c.removeConnector))
	mux.Handle("GET /connectors/{name}", c.auth(c.connector))
	mux.Handle("POST /connectors/{name}/settings", c.auth(c.setConnector))
	mux.Handle("GET /trace", c.auth(c.trace))
	mux.Handle("GET /trace/{id}", c.auth(c.traceAttempt))
	mux.Handle("GET /queue", c.auth(c.queue))
	mux.Handle("POST /queue/{action}", c.auth(c.queueAction))
	mux.Handle("GET /messages/{mailbox}", c.auth(c.folder))
	mux.Handle("GET /messages/{mailbox}/{id}", c.auth(c.message))
	mux.Handle("GET /messages/{mailbox}/{id}/html", c.auth(c.messageHTML))
	mux.Handle("GET /messages/{mailbox}/{id}/raw", c.auth(c.messageRaw))
	mux.Handle("GET /mailboxes/{address}/activity", c.auth(c.activity))
}

// filesOnly serves files and no directory: a directory is not found, so
// the file server never lists one.
type filesOnly struct{ fs.FS }

func (f filesOnly) Open(name string) (fs.File, error) {
	file, err := f.FS.Open(name)
	if err != nil {
		return nil, err
	}
	if fi, err := file.Stat(); err != nil || fi.IsDir() {
		file.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return file, nil
}

// page is what every template gets.
type page struct {
	Title string
	Nav   string // the menu entry to highlight
	User  string
	CSRF  string
	Flash string // a success message
	Error string // a refusal, as admin words it
	Data  any
}

// handlerFunc is a console handler for a logged-in user.
type handlerFunc func(w http.ResponseWriter, r *http.Request, s *session)

// auth requires a session, and a matching CSRF token on every POST.
func (c *console) auth(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := c.session(r)
		if s == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Error(w, "not logged in", http.StatusUnauthorized)
			return
		}
		if _, err := c.a.ConsoleUser(r.Context(), s.user); err != nil {
			c.endSession(r) // the user was removed
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil {
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					http.Error(w, fmt.Sprintf("the form is larger than %d bytes", tooBig.Limit), http.StatusRequestEntityTooLarge)
					return
				}
				http.Error(w, "the form could not be read: "+err.Error(), http.StatusBadRequest)
				return
			}
			if !sameToken(r.PostFormValue("csrf"), s.csrf) {
				http.Error(w, "missing or wrong CSRF token: reload the page and try again", http.StatusForbidden)
				return
			}
		}
		h(w, r, s)
	})
}

// session returns the request's live session, extending it, or nil.
func (c *console) session(r *http.Request) *session {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sessions[ck.Value]
	now := c.now()
	if s == nil || now.After(s.expires) {
		delete(c.sessions, ck.Value)
		return nil
	}
	s.expires = now.Add(sessionTTL)
	return s
}

func (c *console) endSession(r *http.Request) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		c.mu.Lock()
		delete(c.sessions, ck.Value)
		c.mu.Unlock()
	}
}

// newSession starts a session for user and returns its id.
func (c *console) newSession(user string) string {
	id, csrf := randomToken(), randomToken()
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, s := range c.sessions { // sweep expired sessions as new ones start
		if now.After(s.expires) {
			delete(c.sessions, k)
		}
	}
	c.sessions[id] = &session{user: user, csrf: csrf, expires: now.Add(sessionTTL)}
	return id
}

func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func sameToken(got, want string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// setCookie sets a console cookie: HttpOnly, SameSite=Strict, Secure
// when the request came over TLS. maxAge < 0 deletes it.
func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
}

// render writes a page.
func (c *console) render(w http.ResponseWriter, status int, name string, p page) {
	t := c.pages[name]
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	securityHeaders(w)
	w.WriteHeader(status)
	if err := t.ExecuteTemplate(w, "layout.html", p); err != nil {
		c.log.Error("console render", "page", name, "err", err)
	}
}

func securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", consoleCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

func (c *console) loginPage(w http.ResponseWriter, r *http.Request) {
	if c.session(r) != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	c.showLogin(w, r, http.StatusOK, "")
}

// showLogin renders the login form with a fresh double-submit token.
func (c *console) showLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	tok := randomToken()
	setCookie(w, r, loginCookie, tok, 600)
	c.render(w, status, "login", page{Title: "Log in", CSRF: tok, Error: msg, Data: safeNext(r.FormValue("next"))})
}

// safeNext keeps a post-login redirect on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func (c *console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBody)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			c.showLogin(w, r, http.StatusRequestEntityTooLarge, "The login form is too large; try again.")
			return
		}
		c.showLogin(w, r, http.StatusBadRequest, "The login form could not be read; try again.")
		return
	}
	ck, err := r.Cookie(loginCookie)
	if err != nil || !sameToken(r.PostFormValue("csrf"), ck.Value) {
		c.showLogin(w, r, http.StatusForbidden, "The login form expired; try again.")
		return
	}
	name, password := strings.TrimSpace(r.PostFormValue("user")), r.PostFormValue("password")
	remote := clientAddr(r)
	now := c.now()
	// A name no console user can have is counted against the address
	// only: the guard keeps no key an attacker can make large.
	key, possible := "", len(name) <= admin.MaxConsoleUserName
	if possible {
		key = "console:" + name
	}
	if blocked, until := c.logins.Blocked(remote, key, now); blocked {
		c.showLogin(w, r, http.StatusTooManyRequests, "Too many failed logins; try again after "+until.Format("15:04:05 MST")+".")
		return
	}
	u, err := store.ConsoleUser{}, admin.ErrUnauthorized
	if possible {
		u, err = c.a.CheckConsoleLogin(r.Context(), name, password)
	}
	if errors.Is(err, admin.ErrUnauthorized) {
		c.loginFailed(remote, key, now)
		c.log.Info("console login failed", "user", logName(name), "remote", remote)
		c.showLogin(w, r, http.StatusUnauthorized, "Wrong user name or password.")
		return
	}
	if err != nil {
		c.log.Error("console login", "err", err)
		c.showLogin(w, r, http.StatusInternalServerError, "The store did not answer; try again.")
		return
	}
	c.logins.Success(remote, key, now)
	c.endSession(r)
	setCookie(w, r, sessionCookie, c.newSession(u.Name), 0)
	setCookie(w, r, loginCookie, "", -1)
	c.log.Info("console login", "user", u.Name, "remote", remote)
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

// loginFailed counts a failed login and, at most every loginSweepEvery,
// lets the guard forget failures, blocks and trust that have run out, so
// that what it holds stays what its window and cool-off need.
func (c *console) loginFailed(remote netip.Addr, key string, now time.Time) {
	c.logins.Failure(remote, key, now)
	c.mu.Lock()
	sweep := now.Sub(c.swept) >= loginSweepEvery
	if sweep {
		c.swept = now
	}
	c.mu.Unlock()
	if sweep {
		c.logins.Forget(now)
	}
}

// logName is a user name as the log shows it: cut to the longest a
// console user may have, so a client cannot write large log lines.
func logName(name string) string {
	if len(name) <= admin.MaxConsoleUserName {
		return name
	}
	return strings.ToValidUTF8(name[:admin.MaxConsoleUserName], "") + fmt.Sprintf("…(%d octets)", len(name))
}

func (c *console) logout(w http.ResponseWriter, r *http.Request, s *session) {
	c.endSession(r)
	setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// clientAddr is the request's client IP address.
func clientAddr(r *http.Request) netip.Addr {
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}
