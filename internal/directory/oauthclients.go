package directory

import "mailroom/internal/store"

// oauthClient names an app-only OAuth client: its issuer and client id.
type oauthClient struct{ issuer, id string }

// indexOAuthClients maps each app-only client to the mailboxes it may act
// as. A client that may act as none is left out.
func indexOAuthClients(cs []store.OAuthClient) map[oauthClient][]string {
	m := make(map[oauthClient][]string, len(cs))
	for _, c := range cs {
		if len(c.Mailboxes) > 0 {
			m[oauthClient{c.Issuer, c.ClientID}] = c.Mailboxes
		}
	}
	return m
}

// OAuthClient returns the mailboxes (addresses, sorted) the app-only
// client clientID of issuer may act as; nil when none. The caller must
// not modify the slice.
func (s *Snapshot) OAuthClient(issuer, clientID string) []string {
	return s.oauth[oauthClient{issuer, clientID}]
}

// OAuthClients is Snapshot.OAuthClient of the current view: what the
// SMTP server asks at each app-only token login, from memory.
func (d *Directory) OAuthClients(issuer, clientID string) []string {
	return d.Snapshot().OAuthClient(issuer, clientID)
}
