package testkit

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// TokenEndpoint is a loopback OAuth 2.0 token endpoint for the
// client-credentials grant (RFC 6749 §4.4), over plain HTTP on 127.0.0.1
// (allowed for a loopback token URL). It issues opaque tokens that live
// ExpiresIn seconds, counts requests, and can revoke what it issued.
type TokenEndpoint struct {
	// URL is the token endpoint's address.
	URL          string
	ClientID     string
	ClientSecret string
	Scope        string
	srv          *httptest.Server

	mu        sync.Mutex
	expiresIn int
	requests  int
	valid     map[string]bool
	last      string
}

// StartTokenEndpoint serves tokens to the client id and secret it makes
// up, for scope "https://upstream.test/.default"; it stops when the test
// ends.
func StartTokenEndpoint(tb testing.TB) *TokenEndpoint {
	tb.Helper()
	t := &TokenEndpoint{ClientID: "app-" + randHex(4), ClientSecret: "secret-" + randHex(8), Scope: "https://upstream.test/.default",
		expiresIn: 3600, valid: map[string]bool{}}
	t.srv = httptest.NewServer(http.HandlerFunc(t.serve))
	t.URL = t.srv.URL + "/oauth2/v2.0/token"
	tb.Cleanup(t.srv.Close)
	return t
}

func (t *TokenEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.requests++
	w.Header().Set("Content-Type", "application/json")
	fail := func(code int, e string) {
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": e})
	}
	if r.Method != http.MethodPost || r.ParseForm() != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		fail(http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	if r.PostForm.Get("client_id") != t.ClientID || r.PostForm.Get("client_secret") != t.ClientSecret {
		fail(http.StatusUnauthorized, "invalid_client")
		return
	}
	if r.PostForm.Get("scope") != t.Scope {
		fail(http.StatusBadRequest, "invalid_scope")
		return
	}
	tok := "tok-" + randHex(16)
	t.valid[tok] = true
	t.last = tok
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": t.expiresIn})
}

// SetExpiresIn sets the lifetime, in seconds, of the tokens issued next.
func (t *TokenEndpoint) SetExpiresIn(s int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expiresIn = s
}

// Requests returns how many token requests it has answered.
func (t *TokenEndpoint) Requests() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.requests
}

// Valid reports whether tok was issued and not revoked.
func (t *TokenEndpoint) Valid(tok string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.valid[tok]
}

// RevokeAll makes every token issued so far invalid (as a key rotation
// or a revoked consent would upstream).
func (t *TokenEndpoint) RevokeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.valid)
}

// Upstream is a fake upstream mail host such as smtp.office365.com: a
// receiving server that requires SASL XOAUTH2 with a bearer token its
// TokenEndpoint issued, and records the user= each message was sent as.
type Upstream struct {
	*MX
	tokens *TokenEndpoint

	mu       sync.Mutex
	auths    []string // user= of every AUTH, accepted or not
	refusals int
}

// StartUpstream runs an upstream on 127.0.0.1 with STARTTLS (cert), which
// accepts tokens of te; it stops when the test ends.
func StartUpstream(tb testing.TB, te *TokenEndpoint, cert Cert, o MXOptions) *Upstream {
	tb.Helper()
	u := &Upstream{tokens: te}
	o.TLS = cert.TLS
	o.XOAUTH2 = u.check
	u.MX = StartMX(tb, "127.0.0.1:0", o)
	return u
}

// check answers one XOAUTH2 login as Exchange Online does when the token
// is not valid: 535 5.7.3.
func (u *Upstream) check(user, token string) *smtp.SMTPError {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.auths = append(u.auths, user)
	if !u.tokens.Valid(token) {
		u.refusals++
		return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 3}, Message: "Authentication unsuccessful"}
	}
	return nil
}

// Auths returns the user= of every XOAUTH2 login tried.
func (u *Upstream) Auths() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.auths...)
}

// Refusals returns how many XOAUTH2 logins it refused.
func (u *Upstream) Refusals() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.refusals
}

// xoauth2Server is the server side of SASL XOAUTH2 as Google and
// Microsoft define it: "user=U\x01auth=Bearer T\x01\x01" in one
// response; a refusal is a 334 with a JSON error, an empty reply from the
// client, then the final error.
type xoauth2Server struct {
	check   func(user, token string) *smtp.SMTPError
	login   func(user string)
	refused *smtp.SMTPError
}

// Next implements sasl.Server.
func (s *xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	if s.refused != nil {
		return nil, true, s.refused
	}
	if resp == nil {
		return []byte{}, false, nil
	}
	user, token, ok := parseXOAUTH2(resp)
	if !ok {
		return nil, true, &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 5, 2}, Message: "malformed XOAUTH2 response"}
	}
	if e := s.check(user, token); e != nil {
		s.refused = e
		return []byte(`{"status":"401","schemes":"Bearer","scope":"https://outlook.office.com/SMTP.SendAsApp"}`), false, nil
	}
	s.login(user)
	return nil, true, nil
}

// parseXOAUTH2 splits "user=U\x01auth=Bearer T\x01\x01".
func parseXOAUTH2(b []byte) (user, token string, ok bool) {
	if !bytes.HasSuffix(b, []byte("\x01\x01")) {
		return "", "", false
	}
	for _, f := range strings.Split(string(b[:len(b)-2]), "\x01") {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "user":
			user = v
		case "auth":
			token, ok = strings.CutPrefix(v, "Bearer ")
		}
	}
	return user, token, ok && user != ""
}

var _ sasl.Server = (*xoauth2Server)(nil)

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("random: %v", err))
	}
	return hex.EncodeToString(b)
}
