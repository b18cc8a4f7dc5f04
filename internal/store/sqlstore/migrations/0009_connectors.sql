-- 0009_connectors: devices that submit without AUTH as one mailbox, by
-- client network or TLS client certificate fingerprint (store.Connector).
-- fingerprints is a comma-separated list of lowercase hex SHA-256 digests.
-- A connector goes with its mailbox.
CREATE TABLE connectors (
	id           {{.ID}},
	name         {{.Name}} NOT NULL UNIQUE,
	mailbox_id   {{.Int64}} NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	networks     {{.Networks}},
	fingerprints TEXT NOT NULL DEFAULT '',
	legacy_tls   {{boolean "legacy_tls" false}},
	created_at   {{.Int64}} NOT NULL
){{.Strict}};

CREATE INDEX connectors_mailbox ON connectors (mailbox_id);
