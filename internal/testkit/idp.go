package testkit

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"mailroom/internal/config"
)

// IdP is a loopback OpenID provider for the OAuth tests: it serves a
// discovery document and a JWKS over plain HTTP on 127.0.0.1 (an issuer
// may be http on a loopback address), mints tokens with RS256, ES256 or
// EdDSA keys, and rotates them.
type IdP struct {
	tb testing.TB
	// Issuer is the iss of its tokens, and its discovery base.
	Issuer string
	srv    *httptest.Server

	mu        sync.Mutex
	published []*IdPKey
	current   *IdPKey
	jwks      atomic.Int64 // JWKS requests served
}

// IdPKey is one signing key of an IdP.
type IdPKey struct {
	ID  string
	Alg jose.SignatureAlgorithm
	jwk jose.JSONWebKey // the private key
}

// StartIdP starts an IdP with one published RS256 key, stopped when the
// test ends.
func StartIdP(tb testing.TB) *IdP {
	tb.Helper()
	p := &IdP{tb: tb}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"issuer": p.Issuer, "jwks_uri": p.Issuer + "/keys",
			"token_endpoint": p.Issuer + "/token", "id_token_signing_alg_values_supported": []string{"RS256", "ES256", "EdDSA"}})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		p.jwks.Add(1)
		p.mu.Lock()
		set := jose.JSONWebKeySet{}
		for _, k := range p.published {
			set.Keys = append(set.Keys, k.jwk.Public())
		}
		p.mu.Unlock()
		writeJSON(w, set)
	})
	p.srv = httptest.NewServer(mux)
	tb.Cleanup(p.srv.Close)
	p.Issuer = p.srv.URL
	p.Rotate(jose.RS256)
	return p
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// NewKey makes a signing key that the IdP does not publish yet.
func (p *IdP) NewKey(alg jose.SignatureAlgorithm) *IdPKey {
	p.tb.Helper()
	var priv any
	var err error
	switch alg {
	case jose.RS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		p.tb.Fatalf("idp: no key for %s", alg)
	}
	if err != nil {
		p.tb.Fatalf("idp: generate %s key: %v", alg, err)
	}
	id := randomID()
	return &IdPKey{ID: id, Alg: alg, jwk: jose.JSONWebKey{Key: priv, KeyID: id, Algorithm: string(alg), Use: "sig"}}
}

// Publish adds k to the JWKS.
func (p *IdP) Publish(k *IdPKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.published = append(p.published, k)
}

// Rotate publishes a new key of alg and signs with it from now on; the
// older keys stay published. It returns the new key.
func (p *IdP) Rotate(alg jose.SignatureAlgorithm) *IdPKey {
	k := p.NewKey(alg)
	p.Publish(k)
	p.mu.Lock()
	p.current = k
	p.mu.Unlock()
	return k
}

// JWKSFetches is how many times the key set was fetched.
func (p *IdP) JWKSFetches() int { return int(p.jwks.Load()) }

// Claims are the claims of a valid token of this IdP for audience:
// iss, aud, iat, nbf, exp an hour ahead, and a fresh jti; add the rest.
func (p *IdP) Claims(audience string) map[string]any {
	now := time.Now()
	return map[string]any{"iss": p.Issuer, "aud": audience, "iat": now.Unix(), "nbf": now.Unix(),
		"exp": now.Add(time.Hour).Unix(), "jti": randomID(), "sub": randomID()}
}

// Mint signs claims with the current key.
func (p *IdP) Mint(claims map[string]any) string {
	p.mu.Lock()
	k := p.current
	p.mu.Unlock()
	return k.Sign(p.tb, claims)
}

// Sign signs claims with k, its key id in the header.
func (k *IdPKey) Sign(tb testing.TB, claims map[string]any) string {
	tb.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.Alg, Key: k.jwk}, (&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		tb.Fatalf("idp: signer: %v", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		tb.Fatalf("idp: claims: %v", err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		tb.Fatalf("idp: sign: %v", err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		tb.Fatalf("idp: serialize: %v", err)
	}
	return out
}

// Forge signs claims with a new, unpublished key that claims the current
// key's id: a token whose signature does not verify.
func (p *IdP) Forge(claims map[string]any) string {
	p.mu.Lock()
	cur := p.current
	p.mu.Unlock()
	k := p.NewKey(cur.Alg)
	k.ID, k.jwk.KeyID = cur.ID, cur.ID
	return k.Sign(p.tb, claims)
}

// Unsigned is a token with "alg": "none" and no signature.
func Unsigned(claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	b, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(h) + "." + enc.EncodeToString(b) + "."
}

// Config is the [[oauth.issuers]] entry that trusts this IdP for
// audience, requiring scopes.
func (p *IdP) Config(audience string, scopes ...string) config.OAuthIssuer {
	return config.OAuthIssuer{Issuer: p.Issuer, Audience: audience, UsernameClaim: "email", RequiredScopes: scopes, RequiredRoles: scopes}
}

// WithIssuer adds an [[oauth.issuers]] entry.
func WithIssuer(is config.OAuthIssuer) Option {
	return func(c *config.Config) { c.OAuth.Issuers = append(c.OAuth.Issuers, is) }
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
