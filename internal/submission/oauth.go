package submission

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/emersion/go-sasl"

	"mailroom/internal/address"
	"mailroom/internal/directory"
	"mailroom/internal/oauth"
	"mailroom/internal/policy"
	"mailroom/internal/trace"
)

// This file is SMTP AUTH with OAuth 2.0 access tokens: XOAUTH2 (Google's,
// as Exchange Online and every common client speak it) and OAUTHBEARER
// (RFC 7628). A token is verified by package oauth, policy.TokenLogin
// picks the mailbox it logs in as, and then the login takes the path of
// a password (authenticate): login guard, SMTP AUTH switch, networks.

// The SASL mechanism names.
const (
	mechXOAuth2     = "XOAUTH2"
	mechOAuthBearer = sasl.OAuthBearer
)

// maxTokenMessage bounds a mechanism's message: the token and its framing.
const maxTokenMessage = oauth.MaxToken + 1024

// tokenLogin logs in with an OAuth token. A refusal of the token itself
// comes with the RFC 7628 error challenge to send before it.
func (s *Session) tokenLogin(mech, user, token string) (challenge []byte, err error) {
	var bad *Reply
	var scope string
	err = s.authenticate(user, func(ctx context.Context, requested string) (checked, error) {
		c, sc, err := s.checkToken(ctx, mech, user, requested, token)
		bad, scope = c.bad, sc
		return c, err
	})
	if err == nil || bad == nil || err != error(bad) { // the guard's lock, or the policy's refusal: no challenge
		return nil, err
	}
	b, _ := json.Marshal(struct {
		Status  string `json:"status"`
		Schemes string `json:"schemes"`
		Scope   string `json:"scope,omitempty"`
	}{bad.Reason, "bearer", scope})
	return b, err
}

// checkToken verifies a token and decides the mailbox it logs in as;
// asked is the SASL user as typed and requested the same normalized ("" when it
// is none). scope is what the issuer requires, for the error challenge.
func (s *Session) checkToken(ctx context.Context, mech, asked, requested, token string) (c checked, scope string, err error) {
	o := &s.b.o
	c.detail = "method=" + strings.ToLower(mech)
	id, err := o.OAuth.Verify(ctx, token)
	var f *oauth.Failure
	switch {
	case errors.Is(err, oauth.ErrUnavailable):
		s.log.Warn("oauth keys unavailable", "err", err)
		return c, "", replyOAuthUnavailable()
	case errors.As(err, &f):
		c.bad = replyTokenRefused(policy.ReasonInvalidToken, f.Detail)
		return c, f.Scope, nil
	case err != nil:
		return c, "", fmt.Errorf("verify token: %w", err)
	}
	c.detail += " issuer=" + id.Issuer
	if id.ClientID != "" {
		c.detail += " client=" + trace.Clip(id.ClientID, 100)
	}
	if id.JTI != "" {
		c.detail += " jti=" + trace.Clip(id.JTI, 100)
	}
	snap := o.Directory.Snapshot()
	t := policy.Token{Issuer: id.Issuer, AppOnly: id.AppOnly, Client: id.ClientID, ClaimName: id.ClaimName, Claim: trace.Clip(id.Username, maxTraced),
		Claimed: ownerOf(snap, id.Username), Asked: asked, Requested: ownerOf(snap, requested),
		Scopes: id.Scopes, Roles: id.Roles, HasRoles: id.HasRoles, Required: id.RequiredScopes, RequiredRoles: id.RequiredRoles}
	if t.AppOnly && o.OAuthClients != nil {
		t.Mailboxes = o.OAuthClients(id.Issuer, id.ClientID)
	}
	scope = strings.Join(t.Required, " ")
	if t.AppOnly {
		scope = strings.Join(t.RequiredRoles, " ")
	}
	mb, d := policy.TokenLogin(t)
	if !d.Allow {
		c.bad = replyTokenRefused(d.Reason, d.Detail)
		return c, scope, nil
	}
	m, _ := snap.Mailbox(mb)
	c.cred, c.ok = directory.Credential{Mailbox: m}, true
	return c, scope, nil
}

// ownerOf is the mailbox whose own address or alias addr is; "" for
// anything else (a plus-tagged form, postmaster@ falling back to a
// domain's first mailbox), which a token never logs in as.
func ownerOf(snap *directory.Snapshot, addr string) string {
	a, err := address.Normalize(addr)
	if err != nil {
		return ""
	}
	m, ok := snap.Resolve(a)
	if !ok || (m.Address != a && !slices.Contains(snap.Sender(m).Owned, a)) {
		return ""
	}
	return m.Address
}

// tokenServer is the server side of XOAUTH2 and OAUTHBEARER. A refused
// token gets the error challenge (RFC 7628 §3.2.2: base64 JSON such as
// {"status":"invalid_token"}), the client answers it (%x01, or an empty
// response as XOAUTH2 clients do), and the exchange ends with the refusal:
// 535 5.7.8.
type tokenServer struct {
	mech   string
	login  func(user, token string) ([]byte, error)
	step   int
	refuse error // after the error challenge
}

var _ sasl.Server = (*tokenServer)(nil)

func (t *tokenServer) Next(response []byte) ([]byte, bool, error) {
	switch {
	case t.refuse != nil:
		return nil, true, t.refuse
	case t.step > 0:
		return nil, true, errors.New("unexpected response after the token")
	case response == nil: // no initial response: ask for it
		return []byte{}, false, nil
	}
	t.step = 1
	if len(response) > maxTokenMessage {
		return nil, true, fmt.Errorf("%s message longer than %d octets", t.mech, maxTokenMessage)
	}
	parse := parseOAuthBearer
	if t.mech == mechXOAuth2 {
		parse = parseXOAuth2
	}
	user, token, err := parse(response)
	if err != nil {
		return nil, true, err
	}
	challenge, err := t.login(user, token)
	if challenge != nil {
		t.refuse = err
		return challenge, false, nil
	}
	return nil, true, err
}

// parseXOAuth2 reads "user=" user ^A "auth=Bearer " token ^A ^A.
func parseXOAuth2(msg []byte) (user, token string, err error) {
	fields, ok := bytes.CutSuffix(msg, []byte("\x01\x01"))
	if !ok {
		return "", "", errors.New("XOAUTH2 message does not end with ^A^A")
	}
	for i, f := range bytes.Split(fields, []byte{1}) {
		k, v, _ := strings.Cut(string(f), "=")
		switch {
		case i == 0 && k == "user":
			user = v
		case i == 0:
			return "", "", errors.New("XOAUTH2 message does not start with user=")
		case k == "auth":
			if token, err = bearer(v); err != nil {
				return "", "", err
			}
		}
	}
	if token == "" {
		return "", "", errors.New("XOAUTH2 message without auth=Bearer")
	}
	return user, token, nil
}

// parseOAuthBearer reads RFC 7628's message: a GS2 header ("n,a=user,")
// then ^A-separated key=value pairs (host, port, auth), ending ^A^A.
func parseOAuthBearer(msg []byte) (user, token string, err error) {
	cb, rest, ok1 := strings.Cut(string(msg), ",")
	authz, kvs, ok2 := strings.Cut(rest, ",")
	if !ok1 || !ok2 || (cb != "n" && cb != "y") {
		return "", "", errors.New("OAUTHBEARER message without a GS2 header (n,a=user,)")
	}
	if authz != "" {
		a, ok := strings.CutPrefix(authz, "a=")
		if !ok {
			return "", "", errors.New("OAUTHBEARER authzid without a=")
		}
		user = strings.NewReplacer("=2C", ",", "=3D", "=").Replace(a) // RFC 5801 saslname
	}
	kvs, ok := strings.CutSuffix(kvs, "\x01\x01")
	if !ok || !strings.HasPrefix(kvs, "\x01") {
		return "", "", errors.New("OAUTHBEARER pairs not framed by ^A and ^A^A")
	}
	for _, kv := range strings.Split(kvs[1:], "\x01") {
		if k, v, _ := strings.Cut(kv, "="); k == "auth" {
			if token, err = bearer(v); err != nil {
				return "", "", err
			}
		}
	}
	if token == "" {
		return "", "", errors.New("OAUTHBEARER message without auth=Bearer")
	}
	return user, token, nil
}

// bearer is the token of an "auth" value: "Bearer " (any case) and a
// token.
func bearer(v string) (string, error) {
	scheme, token, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") || strings.TrimSpace(token) == "" {
		return "", errors.New("auth value is not \"Bearer\" and a token")
	}
	return strings.TrimSpace(token), nil
}
