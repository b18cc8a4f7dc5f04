package store

import (
	"context"
	"time"
)

// OAuthClient is an app-only OAuth client: a client-credentials token of
// Issuer whose client id (azp, client_id or appid) is ClientID may act as
// any of Mailboxes, the SASL user picking which (Exchange Online's service
// principal with mailbox permission).
type OAuthClient struct {
	ID        int64
	Issuer    string
	ClientID  string
	Mailboxes []string // addresses, sorted; nil when it may act as none
	CreatedAt time.Time
}

// OAuthClients is the registry of app-only OAuth clients, part of the
// directory: every write moves the directory version.
type OAuthClients interface {
	// AddOAuthClient lets the client (issuer, clientID) act as mailboxes
	// (addresses), creating the client when it is new; a mailbox it
	// already has is kept. It returns the client with all its mailboxes.
	// ErrNotFound if one of mailboxes does not exist (nothing is written).
	AddOAuthClient(ctx context.Context, issuer, clientID string, mailboxes []string) (OAuthClient, error)
	// RemoveOAuthClient removes the client's permission for each of
	// mailboxes, or, with none, the client; ErrNotFound if the client, or
	// one of mailboxes on it, is absent (nothing is written).
	RemoveOAuthClient(ctx context.Context, issuer, clientID string, mailboxes []string) error
	// OAuthClient returns one client; ErrNotFound if absent.
	OAuthClient(ctx context.Context, issuer, clientID string) (OAuthClient, error)
	// OAuthClients lists all clients by issuer, then client id.
	OAuthClients(ctx context.Context) ([]OAuthClient, error)
}
