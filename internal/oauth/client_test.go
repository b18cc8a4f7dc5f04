package oauth_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"mailroom/internal/oauth"
	"mailroom/internal/testkit"
)

func newSource(te *testkit.TokenEndpoint, now func() time.Time) *oauth.TokenSource {
	return oauth.NewTokenSource(oauth.ClientCredentials{TokenURL: te.URL, ClientID: te.ClientID, ClientSecret: te.ClientSecret, Scope: te.Scope, Now: now})
}

// TestTokenSource_CachedUntilShortlyBeforeExpiry: many callers share one
// token; it is replaced RefreshBefore its expires_in, not after.
func TestTokenSource_CachedUntilShortlyBeforeExpiry(t *testing.T) {
	te := testkit.StartTokenEndpoint(t)
	te.SetExpiresIn(3600)
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	ts := newSource(te, clk.Now)
	ctx := context.Background()
	var wg sync.WaitGroup
	toks := make([]string, 20)
	for i := range toks {
		wg.Go(func() {
			tok, err := ts.Token(ctx)
			if err != nil {
				t.Error(err)
			}
			toks[i] = tok
		})
	}
	wg.Wait()
	for _, tok := range toks {
		if tok != toks[0] || !te.Valid(tok) {
			t.Fatalf("tokens %v: want one valid token shared", toks)
		}
	}
	if n := te.Requests(); n != 1 {
		t.Fatalf("%d token requests for 20 callers, want 1", n)
	}
	clk.Add(time.Hour - oauth.RefreshBefore - time.Second)
	if tok, _ := ts.Token(ctx); tok != toks[0] || te.Requests() != 1 {
		t.Fatalf("a token with over a minute left was replaced (%d requests)", te.Requests())
	}
	clk.Add(time.Second)
	tok, err := ts.Token(ctx)
	if err != nil || tok == toks[0] || te.Requests() != 2 {
		t.Fatalf("a minute before expiry: %q, %v, %d requests; want a new token from a second request", tok, err, te.Requests())
	}
}

// TestTokenSource_RefreshOnce: a token refused upstream is replaced once,
// however many connections report it.
func TestTokenSource_RefreshOnce(t *testing.T) {
	te := testkit.StartTokenEndpoint(t)
	ts := newSource(te, nil)
	ctx := context.Background()
	bad, err := ts.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if tok, err := ts.Refresh(ctx, bad); err != nil || tok == bad {
				t.Errorf("refresh: %q, %v", tok, err)
			}
		})
	}
	wg.Wait()
	if n := te.Requests(); n != 2 {
		t.Fatalf("%d token requests, want 2 (the first and one refresh)", n)
	}
}

// TestTokenSource_Errors: a refused client and a short token life.
func TestTokenSource_Errors(t *testing.T) {
	te := testkit.StartTokenEndpoint(t)
	ts := oauth.NewTokenSource(oauth.ClientCredentials{TokenURL: te.URL, ClientID: te.ClientID, ClientSecret: "wrong", Scope: te.Scope})
	if _, err := ts.Token(context.Background()); err == nil || !strings.Contains(err.Error(), "invalid_client") || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("wrong secret: %v, want invalid_client without the secret", err)
	}
	// A token living 10 s is kept for half of it, not refetched each time.
	te.SetExpiresIn(10)
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	ts = newSource(te, clk.Now)
	first, _ := ts.Token(context.Background())
	clk.Add(4 * time.Second)
	if tok, _ := ts.Token(context.Background()); tok != first {
		t.Fatal("a 10-second token was replaced after 4 s")
	}
	clk.Add(time.Second)
	if tok, err := ts.Token(context.Background()); err != nil || tok == first {
		t.Fatal("a 10-second token was kept past half its life")
	}
}
