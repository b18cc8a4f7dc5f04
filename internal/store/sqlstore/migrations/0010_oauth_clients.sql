-- 0010_oauth_clients: app-only OAuth clients (store.OAuthClient) and the
-- mailboxes each may act as with a client-credentials token, as Exchange
-- Online's service principal with mailbox permission. Removing a mailbox
-- removes its permissions; removing a client, all of its own.
CREATE TABLE oauth_clients (
	id         {{.ID}},
	issuer     {{.Name}} NOT NULL,
	client_id  {{.Name}} NOT NULL,
	created_at {{.Int64}} NOT NULL,
	UNIQUE (issuer, client_id)
){{.Strict}};

CREATE TABLE oauth_client_mailboxes (
	oauth_client_id {{.Int64}} NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
	mailbox_id      {{.Int64}} NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	created_at      {{.Int64}} NOT NULL,
	PRIMARY KEY (oauth_client_id, mailbox_id)
){{.Strict}};

CREATE INDEX oauth_client_mailboxes_mailbox ON oauth_client_mailboxes (mailbox_id);
