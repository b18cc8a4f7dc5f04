package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// How the signing keys of an issuer are kept: fetched when a token first
// needs them, used for up to keysMaxAge, and fetched again earlier when a
// token names a key id the set does not hold (the provider rotated its
// keys), but at most once per refetchEvery: a flood of tokens with made-up
// key ids costs the provider one request a minute.
const (
	refetchEvery = time.Minute
	keysMaxAge   = time.Hour
	maxDocument  = 1 << 20 // bytes of a discovery document or a JWKS
	maxKeys      = 100
)

// keySet is one issuer's signing keys.
type keySet struct {
	issuer  string
	jwksURL string // the override; "" discovers it
	client  *http.Client
	now     func() time.Time
	log     *slog.Logger

	fetchMu sync.Mutex // one fetch at a time

	mu      sync.Mutex
	keys    []jose.JSONWebKey
	fetched time.Time // last successful fetch
	tried   time.Time // last fetch begun
	failed  bool      // the last fetch failed
	fetches int
}

// key returns the public key that verifies a token signed with alg by
// the key kid.
func (k *keySet) key(ctx context.Context, kid, alg string) (any, error) {
	if key, ok, fresh := k.lookup(kid, alg); ok && fresh {
		return key, nil
	}
	k.fetchMu.Lock()
	defer k.fetchMu.Unlock()
	key, ok, fresh := k.lookup(kid, alg) // fetched while this one waited
	if ok && fresh {
		return key, nil
	}
	k.mu.Lock()
	due := k.tried.IsZero() || k.now().Sub(k.tried) >= refetchEvery
	if due {
		k.tried = k.now()
	}
	k.mu.Unlock()
	if due {
		err := k.refresh(ctx)
		k.mu.Lock()
		k.failed = err != nil
		k.mu.Unlock()
		if err != nil {
			k.log.Warn("fetch the identity provider's keys", "err", err)
			if !ok { // a known key stays usable while the provider is away
				return nil, fmt.Errorf("keys of issuer %s: %w: %w", k.issuer, ErrUnavailable, err)
			}
		}
		key, ok, _ = k.lookup(kid, alg)
	}
	if ok {
		return key, nil
	}
	k.mu.Lock()
	failed := k.failed
	k.mu.Unlock()
	if failed { // the key may well be among those the provider could not give
		return nil, fmt.Errorf("keys of issuer %s: %w (the last fetch failed; next try within a minute)", k.issuer, ErrUnavailable)
	}
	return nil, invalid("the token is signed with key %q, which issuer %s does not publish for %s (keys are fetched again at most once a minute)", clip(kid), k.issuer, alg)
}

// lookup finds the key among the cached ones: by kid, or the only key for
// alg when the token names none. fresh says the set is younger than
// keysMaxAge.
func (k *keySet) lookup(kid, alg string) (key any, ok, fresh bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	fresh = !k.fetched.IsZero() && k.now().Sub(k.fetched) < keysMaxAge
	var found []jose.JSONWebKey
	for _, jk := range k.keys {
		if (jk.KeyID == kid || kid == "") && (jk.Algorithm == "" || jk.Algorithm == alg) {
			found = append(found, jk)
		}
	}
	if len(found) != 1 {
		return nil, false, fresh
	}
	return found[0].Key, true, fresh
}

// refresh fetches the discovery document (unless jwks_url is set) and the
// key set.
func (k *keySet) refresh(ctx context.Context) error {
	k.mu.Lock()
	k.fetches++
	k.mu.Unlock()
	jwksURL := k.jwksURL
	if jwksURL == "" {
		var doc struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		u := strings.TrimSuffix(k.issuer, "/") + "/.well-known/openid-configuration"
		if err := getJSON(ctx, k.client, u, &doc); err != nil {
			return err
		}
		if doc.Issuer != k.issuer {
			return fmt.Errorf("discovery document %s names issuer %q, not %q", u, doc.Issuer, k.issuer)
		}
		if err := CheckURL(doc.JWKSURI); err != nil {
			return fmt.Errorf("discovery document %s: jwks_uri: %w", u, err)
		}
		jwksURL = doc.JWKSURI
	}
	// Each key is read on its own: one of a type go-jose does not know
	// (a provider may publish keys of other uses) does not lose the rest.
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := getJSON(ctx, k.client, jwksURL, &set); err != nil {
		return err
	}
	var keys []jose.JSONWebKey
	for _, raw := range set.Keys {
		var jk jose.JSONWebKey
		if json.Unmarshal(raw, &jk) != nil {
			continue
		}
		if (jk.Use == "" || jk.Use == "sig") && jk.Valid() && jk.IsPublic() && len(keys) < maxKeys {
			keys = append(keys, jk)
		}
	}
	if len(keys) == 0 {
		return fmt.Errorf("key set %s holds no public signing key", jwksURL)
	}
	k.mu.Lock()
	k.keys, k.fetched = keys, k.now()
	k.mu.Unlock()
	k.log.Info("identity provider keys fetched", "jwks_url", jwksURL, "keys", len(keys))
	return nil
}

// getJSON fetches a JSON document of at most maxDocument bytes.
func getJSON(ctx context.Context, c *http.Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("request %s: %w", u, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch %s: %s", u, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", u, err)
	}
	if len(b) > maxDocument {
		return fmt.Errorf("fetch %s: longer than %d bytes", u, maxDocument)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("parse %s: %w", u, err)
	}
	return nil
}

// Fetches returns how many times the keys of issuer were fetched (for
// tests and metrics).
func (v *Verifier) Fetches(issuer string) int {
	is, ok := v.issuers[issuer]
	if !ok {
		return 0
	}
	is.keys.mu.Lock()
	defer is.keys.mu.Unlock()
	return is.keys.fetches
}
