-- 0003_delivery: what outbound delivery keeps per queue row (the lease of
-- an attempt in progress, whether a delay notice went out) and the
-- domains' DKIM keys.

-- lease_until: unix nanoseconds until which a worker owns the row's
-- attempt; 0 when no attempt is in progress. A row whose lease has passed
-- is due again: that is how an attempt cut short by a crash is retried.
ALTER TABLE queue ADD COLUMN lease_until {{.Int64}} NOT NULL DEFAULT 0;
ALTER TABLE queue ADD COLUMN delay_notified {{boolean "delay_notified" false}};

CREATE TABLE dkim_keys (
	id          {{.ID}},
	domain_id   {{.Int64}} NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
	selector    {{.Name}} NOT NULL,
	algorithm   TEXT NOT NULL CHECK (algorithm IN ('ed25519', 'rsa')),
	private_key {{.Bytes}} NOT NULL,
	created_at  {{.Int64}} NOT NULL,
	UNIQUE (domain_id, selector)
){{.Strict}};
