// Package oauth owns the OAuth 2.0 identity providers mailroom trusts for
// SMTP AUTH (XOAUTH2, OAUTHBEARER): their discovery documents and signing
// keys, and the verification of a JWT access token into an Identity. It
// decides nothing about mailboxes: policy.TokenLogin does, with what
// Verify found.
package oauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Issuer is one trusted identity provider: the [[oauth.issuers]] of the
// configuration.
type Issuer struct {
	// Issuer is the iss a token must carry; discovery is at Issuer +
	// "/.well-known/openid-configuration".
	Issuer string
	// Audience is the aud a token must carry.
	Audience string
	// JWKSURL, when set, replaces the discovered jwks_uri (and discovery is
	// not fetched).
	JWKSURL string
	// UsernameClaim names the mailbox in delegated tokens: email,
	// preferred_username or upn.
	UsernameClaim string
	// RequiredScopes must all be in a delegated token's scp or scope;
	// RequiredRoles in an app-only token's roles.
	RequiredScopes []string
	RequiredRoles  []string
}

// Skew is the clock difference allowed between mailroom and an identity
// provider when checking exp, nbf and iat. Exchange Online (through
// Microsoft.IdentityModel) allows 5 minutes; mailroom allows 1.
const Skew = time.Minute

// MaxToken bounds a token: Entra ID's with many group claims stay well
// under it.
const MaxToken = 16 << 10

// Algorithms are the signature algorithms a token may use; "none" and the
// HMAC ones (which would make a public key a shared secret) are refused.
var algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}

// CheckURL refuses a URL that is not https, unless its host is a loopback
// IP address (a test or a local identity provider).
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("parse %q: %w", raw, err)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q: want an absolute URL with a host, and no user, query or fragment", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() {
			return nil
		}
	}
	return fmt.Errorf("%q: want https (http only on a loopback address such as 127.0.0.1)", raw)
}

// Identity is what a verified token says.
type Identity struct {
	Issuer  string
	Subject string
	// AppOnly is a client-credentials token (see classify).
	AppOnly bool
	// ClientID is the client the token was issued to (azp, client_id or
	// appid).
	ClientID string
	// Username is the delegated token's UsernameClaim, ClaimName its name.
	ClaimName string
	Username  string
	Scopes    []string
	Roles     []string
	HasRoles  bool
	JTI       string
	Expiry    time.Time
	// RequiredScopes and RequiredRoles are the issuer's.
	RequiredScopes []string
	RequiredRoles  []string
}

// Failure is a token Verify refused: Status is the RFC 7628 status
// ("invalid_token"), Detail says why for the client and the trace, Scope
// the scopes its issuer requires when the token named a known issuer.
type Failure struct {
	Status string
	Detail string
	Scope  string
}

func (f *Failure) Error() string { return f.Status + ": " + f.Detail }

func invalid(format string, args ...any) *Failure {
	return &Failure{Status: "invalid_token", Detail: fmt.Sprintf(format, args...)}
}

// ErrUnavailable wraps a failure to fetch an issuer's discovery document
// or keys: not the client's fault, it may retry.
var ErrUnavailable = errors.New("identity provider unavailable")

// Options are a Verifier's settings.
type Options struct {
	Issuers []Issuer
	// Client fetches discovery documents and keys; default one with a
	// 10-second timeout.
	Client *http.Client
	// Now is the clock; default time.Now.
	Now func() time.Time
	Log *slog.Logger
}

// Verifier verifies tokens of the configured issuers. It is safe for
// concurrent use.
type Verifier struct {
	issuers map[string]*issuer
	now     func() time.Time
}

type issuer struct {
	Issuer
	keys *keySet
}

// New returns a Verifier; it fetches nothing until a token needs keys.
func New(o Options) (*Verifier, error) {
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	v := &Verifier{issuers: make(map[string]*issuer), now: o.Now}
	for _, is := range o.Issuers {
		if err := CheckURL(is.Issuer); err != nil {
			return nil, fmt.Errorf("oauth issuer: %w", err)
		}
		if is.JWKSURL != "" {
			if err := CheckURL(is.JWKSURL); err != nil {
				return nil, fmt.Errorf("oauth issuer %s jwks_url: %w", is.Issuer, err)
			}
		}
		if is.UsernameClaim == "" {
			is.UsernameClaim = "email"
		}
		if is.RequiredRoles == nil {
			is.RequiredRoles = is.RequiredScopes
		}
		v.issuers[is.Issuer] = &issuer{Issuer: is, keys: &keySet{issuer: is.Issuer, jwksURL: is.JWKSURL, client: o.Client, now: o.Now,
			log: o.Log.With("issuer", is.Issuer)}}
	}
	return v, nil
}

// Enabled reports whether any issuer is configured: only then are
// XOAUTH2 and OAUTHBEARER offered.
func (v *Verifier) Enabled() bool { return v != nil && len(v.issuers) > 0 }

// Verify checks a token: a JWS in compact form, signed with RS256, ES256
// or EdDSA by a key of its issuer's JWKS, from a configured issuer, for
// its audience, within exp and nbf (Skew allowed). A refused token is a
// *Failure; keys that cannot be fetched are ErrUnavailable.
func (v *Verifier) Verify(ctx context.Context, raw string) (id *Identity, err error) {
	if len(raw) > MaxToken {
		return nil, invalid("the token is longer than %d octets", MaxToken)
	}
	tok, err := jwt.ParseSigned(raw, algorithms)
	if err != nil {
		return nil, invalid("not a JWT signed with RS256, ES256 or EdDSA: %v", err)
	}
	var c claims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return nil, invalid("unreadable claims: %v", err)
	}
	is, ok := v.issuers[c.Issuer]
	if !ok {
		return nil, invalid("issuer %q is not one this server trusts", clip(c.Issuer))
	}
	defer func() {
		var f *Failure
		if errors.As(err, &f) {
			f.Scope = strings.Join(is.RequiredScopes, " ")
		}
	}()
	h := tok.Headers[0]
	key, err := is.keys.key(ctx, h.KeyID, h.Algorithm)
	if err != nil {
		return nil, err
	}
	if err := tok.Claims(key, &c); err != nil {
		return nil, invalid("the signature does not verify with key %q of issuer %s", clip(h.KeyID), is.Issuer.Issuer)
	}
	if err := c.check(is.Issuer, v.now()); err != nil {
		return nil, err
	}
	return c.identity(is.Issuer), nil
}

// clip bounds a value from a token before it is quoted in a reply or
// the trace.
func clip(s string) string {
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
