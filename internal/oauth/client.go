package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// ClientCredentials is how mailroom obtains access tokens of its own, to
// log in upstream with SASL XOAUTH2 (a [[delivery.routes]] entry with
// auth = "xoauth2"): the client-credentials grant of RFC 6749 §4.4, a
// form-encoded POST of client_id, client_secret and scope to the token
// endpoint.
type ClientCredentials struct {
	TokenURL     string
	ClientID     string
	ClientSecret string
	Scope        string
	// HTTPClient makes the requests; default one with a 30-second timeout.
	HTTPClient *http.Client
	// Now is the clock that ages cached tokens; default time.Now.
	Now func() time.Time
}

// Bounds of a fetched token.
const (
	// RefreshBefore is how long before its expires_in a token is
	// replaced (at most half its lifetime): a message must not start its
	// AUTH with a token that lapses on the way.
	RefreshBefore = time.Minute
	// maxTokenLife caches a token whose response named no expires_in, or
	// an absurd one; an upstream's 535 replaces it sooner.
	maxTokenLife = time.Hour
)

// TokenSource fetches access tokens and caches one until shortly before
// it expires. It is safe for concurrent use; callers that find the cache
// stale at once share one request.
type TokenSource struct {
	conf clientcredentials.Config
	http *http.Client
	now  func() time.Time
	// lock is held by the one request in flight (a channel, so a waiter
	// can give up when its context ends); it guards the fields below.
	lock    chan struct{}
	token   string
	refresh time.Time // when token is to be replaced
	fetches int
}

// NewTokenSource returns a TokenSource for c.
func NewTokenSource(c ClientCredentials) *TokenSource {
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &TokenSource{
		conf: clientcredentials.Config{
			ClientID: c.ClientID, ClientSecret: c.ClientSecret, TokenURL: c.TokenURL, Scopes: []string{c.Scope},
			// Microsoft's and Google's documented form: the secret in the
			// body, not in a Basic header (auto-detection would send a
			// second request after every refusal).
			AuthStyle: oauth2.AuthStyleInParams,
		},
		http: c.HTTPClient, now: c.Now, lock: make(chan struct{}, 1),
	}
}

// Token returns the cached token while it is fresh, else fetches one.
func (s *TokenSource) Token(ctx context.Context) (string, error) {
	return s.get(ctx, "")
}

// Refresh replaces bad, a token the upstream refused: it fetches a new
// one unless another caller already did (the cache then holds another
// token, which it returns).
func (s *TokenSource) Refresh(ctx context.Context, bad string) (string, error) {
	if bad == "" {
		return "", errors.New("refresh: no token named")
	}
	return s.get(ctx, bad)
}

// Fetches returns how many tokens were requested from the endpoint.
func (s *TokenSource) Fetches() int {
	s.lock <- struct{}{}
	defer func() { <-s.lock }()
	return s.fetches
}

func (s *TokenSource) get(ctx context.Context, bad string) (string, error) {
	select {
	case s.lock <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("wait for the access token from %s: %w", s.conf.TokenURL, ctx.Err())
	}
	defer func() { <-s.lock }()
	now := s.now()
	if s.token != "" && s.token != bad && now.Before(s.refresh) {
		return s.token, nil
	}
	s.token = ""
	s.fetches++
	t, err := s.conf.Token(context.WithValue(ctx, oauth2.HTTPClient, s.http))
	if err != nil {
		return "", fmt.Errorf("access token from %s: %w", s.conf.TokenURL, err)
	}
	if t.AccessToken == "" || len(t.AccessToken) > MaxToken {
		return "", fmt.Errorf("access token from %s: %d octets, want 1 to %d", s.conf.TokenURL, len(t.AccessToken), MaxToken)
	}
	// clientcredentials turns expires_in into Expiry on the wall clock
	// (and leaves ExpiresIn empty); the cache ages on s.now.
	var life time.Duration
	if !t.Expiry.IsZero() {
		life = time.Until(t.Expiry).Round(time.Second)
	}
	if life <= 0 || life > maxTokenLife {
		life = maxTokenLife
	}
	s.token, s.refresh = t.AccessToken, now.Add(life-min(RefreshBefore, life/2))
	return s.token, nil
}
