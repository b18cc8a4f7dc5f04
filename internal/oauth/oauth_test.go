package oauth_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"mailroom/internal/oauth"
	"mailroom/internal/testkit"
)

const aud = "api://mailroom"

// clock is a settable clock for the key refetch limit.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newVerifier(t *testing.T, p *testkit.IdP, c *clock, scopes ...string) *oauth.Verifier {
	t.Helper()
	v, err := oauth.New(oauth.Options{Issuers: []oauth.Issuer{{Issuer: p.Issuer, Audience: aud, RequiredScopes: scopes}}, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// failure asserts a *oauth.Failure with status invalid_token whose detail
// holds want.
func failure(t *testing.T, name string, err error, want string) {
	t.Helper()
	var f *oauth.Failure
	if !errors.As(err, &f) || f.Status != "invalid_token" || !strings.Contains(f.Detail, want) {
		t.Errorf("%s: got %v, want invalid_token with %q", name, err, want)
	}
}

func TestVerify_Algorithms(t *testing.T) {
	p := testkit.StartIdP(t)
	clk := &clock{t: time.Now()}
	v := newVerifier(t, p, clk)
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA} {
		p.Rotate(alg)
		clk.Add(time.Minute) // a new key id: the keys may be fetched again
		c := p.Claims(aud)
		c["email"], c["scp"], c["azp"] = "alice@example.test", "SMTP.Send openid", "app-1"
		id, err := v.Verify(context.Background(), p.Mint(c))
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		if id.Username != "alice@example.test" || id.AppOnly || id.ClientID != "app-1" || id.JTI != c["jti"] || !slices.Equal(id.Scopes, []string{"SMTP.Send", "openid"}) {
			t.Errorf("%s: identity %+v", alg, id)
		}
	}
}

func TestVerify_Refused(t *testing.T) {
	p := testkit.StartIdP(t)
	clk := &clock{t: time.Now()}
	v := newVerifier(t, p, clk)
	ctx := context.Background()
	with := func(k string, val any) map[string]any {
		c := p.Claims(aud)
		c["email"] = "alice@example.test"
		if val == nil {
			delete(c, k)
		} else {
			c[k] = val
		}
		return c
	}
	now := time.Now()
	for _, tc := range []struct {
		name, token, want string
	}{
		{"expired", p.Mint(with("exp", now.Add(-2*time.Minute).Unix())), "expired at"},
		{"no exp", p.Mint(with("exp", nil)), "no exp"},
		{"not yet valid", p.Mint(with("nbf", now.Add(5*time.Minute).Unix())), "not valid before"},
		{"issued in the future", p.Mint(with("iat", now.Add(5*time.Minute).Unix())), "issued in the future"},
		{"wrong audience", p.Mint(with("aud", "api://other")), "audience api://other is not api://mailroom"},
		{"wrong issuer", p.Mint(with("iss", "https://evil.example")), `issuer "https://evil.example" is not one`},
		{"bad signature", p.Forge(with("jti", "x")), "signature does not verify"},
		{"alg none", testkit.Unsigned(with("jti", "x")), "not a JWT signed with"},
		{"unverified email", p.Mint(with("email_verified", false)), "not verified"},
		{"not a JWT", "ya29.opaque-google-access-token", "not a JWT"},
		{"too long", strings.Repeat("a", oauth.MaxToken+1), "longer than"},
	} {
		_, err := v.Verify(ctx, tc.token)
		failure(t, tc.name, err, tc.want)
	}
	// Within the skew, expiry and nbf pass.
	if _, err := v.Verify(ctx, p.Mint(with("exp", now.Add(-30*time.Second).Unix()))); err != nil {
		t.Errorf("expired 30s ago, within the skew: %v", err)
	}
	// An HS256 token "signed" with the public key as a shared secret
	// (algorithm confusion) is refused before any key is looked up.
	hs, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("public key bytes used as a secret")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	jws, _ := hs.Sign([]byte(`{"iss":"` + p.Issuer + `","aud":"` + aud + `"}`))
	tok, _ := jws.CompactSerialize()
	_, err = v.Verify(ctx, tok)
	failure(t, "HS256", err, "not a JWT signed with")
}

func TestVerify_KeyRotation(t *testing.T) {
	p := testkit.StartIdP(t)
	clk := &clock{t: time.Now()}
	v := newVerifier(t, p, clk)
	ctx := context.Background()
	c := p.Claims(aud)
	c["email"] = "alice@example.test"
	if _, err := v.Verify(ctx, p.Mint(c)); err != nil {
		t.Fatal(err)
	}
	if n := p.JWKSFetches(); n != 1 {
		t.Fatalf("keys fetched %d times for the first token, want 1", n)
	}
	if _, err := v.Verify(ctx, p.Mint(c)); err != nil || p.JWKSFetches() != 1 {
		t.Fatalf("second token: %v, %d fetches; want the cached keys", err, p.JWKSFetches())
	}
	// The provider rotates: the new key id is unknown, so the keys are
	// fetched again, once.
	clk.Add(2 * time.Minute)
	p.Rotate(jose.ES256)
	if _, err := v.Verify(ctx, p.Mint(c)); err != nil {
		t.Fatalf("token of the rotated key: %v", err)
	}
	if n := p.JWKSFetches(); n != 2 {
		t.Fatalf("keys fetched %d times after a rotation, want 2", n)
	}
	// Unknown key ids within a minute of that fetch cost no request...
	stray := p.NewKey(jose.EdDSA)
	for range 5 {
		_, err := v.Verify(ctx, stray.Sign(t, c))
		failure(t, "unknown kid", err, "does not publish")
	}
	if n := p.JWKSFetches(); n != 2 {
		t.Fatalf("keys fetched %d times for unknown key ids within a minute, want 2", n)
	}
	// ...a minute later one does, and finds the key once published.
	p.Publish(stray)
	clk.Add(time.Minute)
	if _, err := v.Verify(ctx, stray.Sign(t, c)); err != nil {
		t.Fatalf("newly published key: %v", err)
	}
	if n := p.JWKSFetches(); n != 3 {
		t.Fatalf("keys fetched %d times, want 3", n)
	}
	// After keysMaxAge the set is fetched again even for a known key.
	clk.Add(2 * time.Hour)
	c["exp"] = time.Now().Add(3 * time.Hour).Unix()
	if _, err := v.Verify(ctx, stray.Sign(t, c)); err != nil || p.JWKSFetches() != 4 {
		t.Fatalf("stale keys: %v, %d fetches, want 4", err, p.JWKSFetches())
	}
}

func TestVerify_Unavailable(t *testing.T) {
	// A provider that answers 500: the client's token is not at fault.
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 500) }))
	defer down.Close()
	v, err := oauth.New(oauth.Options{Issuers: []oauth.Issuer{{Issuer: down.URL, Audience: aud}}})
	if err != nil {
		t.Fatal(err)
	}
	p := testkit.StartIdP(t)
	c := p.Claims(aud)
	c["iss"] = down.URL
	if _, err := v.Verify(context.Background(), p.Mint(c)); !errors.Is(err, oauth.ErrUnavailable) {
		t.Fatalf("provider down: %v, want ErrUnavailable", err)
	}
	// A discovery document naming another issuer is not trusted.
	v, _ = oauth.New(oauth.Options{Issuers: []oauth.Issuer{{Issuer: p.Issuer + "/other", Audience: aud}}})
	c["iss"] = p.Issuer + "/other"
	if _, err := v.Verify(context.Background(), p.Mint(c)); !errors.Is(err, oauth.ErrUnavailable) {
		t.Fatalf("discovery of another issuer: %v, want ErrUnavailable", err)
	}
}

func TestVerify_AppOnly(t *testing.T) {
	p := testkit.StartIdP(t)
	v := newVerifier(t, p, &clock{t: time.Now()})
	for _, tc := range []struct {
		name    string
		claims  map[string]any
		appOnly bool
		client  string
	}{
		{"entra app token", map[string]any{"appid": "c1", "roles": []string{"SMTP.SendAsApp"}}, true, "c1"},
		{"entra delegated", map[string]any{"azp": "c1", "scp": "SMTP.Send", "email": "a@example.test"}, false, "c1"},
		{"entra idtyp app with an email", map[string]any{"azp": "c1", "idtyp": "app", "email": "a@example.test"}, true, "c1"},
		{"entra idtyp user", map[string]any{"azp": "c1", "idtyp": "user"}, false, "c1"},
		{"keycloak service account", map[string]any{"azp": "svc", "client_id": "svc", "scope": "SMTP.Send", "preferred_username": "service-account-svc"}, true, "svc"},
		{"keycloak user", map[string]any{"azp": "web", "scope": "SMTP.Send", "email": "a@example.test"}, false, "web"},
	} {
		c := p.Claims(aud)
		for k, val := range tc.claims {
			c[k] = val
		}
		id, err := v.Verify(context.Background(), p.Mint(c))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if id.AppOnly != tc.appOnly || id.ClientID != tc.client {
			t.Errorf("%s: app-only %v client %q, want %v %q", tc.name, id.AppOnly, id.ClientID, tc.appOnly, tc.client)
		}
	}
}

func TestCheckURL(t *testing.T) {
	for u, ok := range map[string]bool{
		"https://login.example.com/realms/acme": true, "http://127.0.0.1:8080/x": true, "http://[::1]:80": true,
		"http://login.example.com": false, "http://localhost:80": false, "ftp://127.0.0.1": false, "/relative": false,
		"https://user@login.example.com": false,
	} {
		if err := oauth.CheckURL(u); (err == nil) != ok {
			t.Errorf("CheckURL(%q) = %v, want ok %v", u, err, ok)
		}
	}
}

// TestVerify_RotationWhileDown: a token of a new key while the provider
// does not answer is a temporary failure, not an invalid token; a token of
// a known key still verifies.
func TestVerify_RotationWhileDown(t *testing.T) {
	p := testkit.StartIdP(t)
	var down atomic.Bool
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		resp, err := http.Get(p.Issuer + "/keys")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		io.Copy(w, resp.Body)
	}))
	defer keys.Close()
	clk := &clock{t: time.Now()}
	v, err := oauth.New(oauth.Options{Issuers: []oauth.Issuer{{Issuer: p.Issuer, Audience: aud, JWKSURL: keys.URL}}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	c := p.Claims(aud)
	c["email"] = "alice@example.test"
	old := p.Mint(c)
	if _, err := v.Verify(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	down.Store(true)
	clk.Add(2 * time.Minute)
	p.Rotate(jose.ES256)
	for i := range 2 { // the second within the minute: no fetch, the same answer
		if _, err := v.Verify(context.Background(), p.Mint(c)); !errors.Is(err, oauth.ErrUnavailable) {
			t.Fatalf("new key while the provider is down (%d): %v, want ErrUnavailable", i, err)
		}
	}
	if _, err := v.Verify(context.Background(), old); err != nil {
		t.Fatalf("known key while the provider is down: %v", err)
	}
}
