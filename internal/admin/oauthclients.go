package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"mailroom/internal/address"
	"mailroom/internal/config"
	"mailroom/internal/store"
)

// Bounds of an app-only OAuth client as an administrator gives it.
const (
	// MaxClientIDLen bounds a client id (Entra's are 36-octet GUIDs,
	// Keycloak's short names).
	MaxClientIDLen = 256
	// maxIssuerLen bounds an issuer named for removal (one being added
	// must be a configured issuer).
	maxIssuerLen = 1024
	// maxClientMailboxes bounds the mailboxes given in one command.
	maxClientMailboxes = 100
)

// OAuthIssuers returns the issuers of the [[oauth.issuers]], the ones an
// app-only OAuth client may be added for.
func OAuthIssuers(c config.OAuth) []string {
	var out []string
	for _, is := range c.Issuers {
		out = append(out, is.Issuer)
	}
	return out
}

// OAuthClientSpec names an app-only OAuth client and mailboxes.
type OAuthClientSpec struct {
	Issuer    string
	ClientID  string
	Mailboxes []string
}

// AddOAuthClient lets an app-only client of a configured issuer act as
// mailboxes (user mailboxes that exist), with client-credentials tokens
// whose azp, client_id or appid is the client id; the SASL user picks the
// mailbox. An existing client keeps the mailboxes it has and gains these.
func (s *Service) AddOAuthClient(ctx context.Context, n OAuthClientSpec) (store.OAuthClient, error) {
	if len(s.OAuthIssuers) == 0 {
		return store.OAuthClient{}, fmt.Errorf("%w: no [[oauth.issuers]] is configured, so no token logs in; add the identity provider to the configuration first (README \"OAuth 2.0 tokens\")", ErrInvalid)
	}
	if !slices.Contains(s.OAuthIssuers, n.Issuer) {
		return store.OAuthClient{}, fmt.Errorf("%w: issuer %q is not one of the [[oauth.issuers]] (%s); give one of those, exactly as its tokens' iss",
			ErrInvalid, n.Issuer, strings.Join(s.OAuthIssuers, ", "))
	}
	if err := checkClientID(n.ClientID); err != nil {
		return store.OAuthClient{}, err
	}
	if len(n.Mailboxes) == 0 || len(n.Mailboxes) > maxClientMailboxes {
		return store.OAuthClient{}, fmt.Errorf("%w: give 1 to %d mailboxes the client may act as (--mailbox ADDRESS,...)", ErrInvalid, maxClientMailboxes)
	}
	var addrs []string
	for _, a := range n.Mailboxes {
		m, err := s.Mailbox(ctx, a)
		if err != nil {
			return store.OAuthClient{}, err
		}
		if m.Shared {
			return store.OAuthClient{}, fmt.Errorf("%w: %s is a shared mailbox and cannot log in; let the client act as a user mailbox and give that one a send-as grant on %s",
				ErrInvalid, m.Address, m.Address)
		}
		addrs = append(addrs, m.Address)
	}
	c, err := s.st.AddOAuthClient(ctx, n.Issuer, n.ClientID, addrs)
	if errors.Is(err, store.ErrNotFound) {
		return c, fmt.Errorf("%w: a mailbox was removed meanwhile (%v); mailroom mailbox list shows the mailboxes", ErrNotFound, err)
	}
	return c, err
}

// OAuthClients lists the app-only OAuth clients.
func (s *Service) OAuthClients(ctx context.Context) ([]store.OAuthClient, error) {
	return s.st.OAuthClients(ctx)
}

// RemoveOAuthClient takes the client's permission for the given
// mailboxes, or with none removes the client; its tokens are refused
// within a second. The issuer need not be configured any more.
func (s *Service) RemoveOAuthClient(ctx context.Context, n OAuthClientSpec) error {
	if n.Issuer == "" || len(n.Issuer) > maxIssuerLen {
		return fmt.Errorf("%w: give the client's issuer (--issuer), as mailroom oauth-client list shows it", ErrInvalid)
	}
	if err := checkClientID(n.ClientID); err != nil {
		return err
	}
	if len(n.Mailboxes) > maxClientMailboxes {
		return fmt.Errorf("%w: give at most %d mailboxes at once", ErrInvalid, maxClientMailboxes)
	}
	var addrs []string
	for _, a := range n.Mailboxes {
		na, err := address.Normalize(a)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		addrs = append(addrs, na)
	}
	err := s.st.RemoveOAuthClient(ctx, n.Issuer, n.ClientID, addrs)
	if errors.Is(err, store.ErrNotFound) {
		what := fmt.Sprintf("OAuth client %s of %s", n.ClientID, n.Issuer)
		if len(addrs) > 0 {
			what += " with each of " + strings.Join(addrs, ", ")
		}
		return fmt.Errorf("%s %w (mailroom oauth-client list shows the clients and their mailboxes)", what, ErrNotFound)
	}
	return err
}

// checkClientID bounds a client id: 1 to MaxClientIDLen printable ASCII
// octets, no spaces.
func checkClientID(id string) error {
	ok := id != "" && len(id) <= MaxClientIDLen
	for i := 0; ok && i < len(id); i++ {
		ok = id[i] > ' ' && id[i] < 0x7f
	}
	if !ok {
		return fmt.Errorf("%w: client id %q: want 1 to %d printable characters without spaces, as the token's azp, client_id or appid (Entra: the app registration's Application (client) ID)",
			ErrInvalid, id[:min(len(id), 80)], MaxClientIDLen)
	}
	return nil
}
