-- 0003_delivery: what outbound delivery keeps per queue row (the lease of
-- an attempt in progress, whether a delay notice went out) and the
-- domains' DKIM keys (store/sqlite's 0003_delivery in PostgreSQL's
-- dialect).

-- lease_until: unix nanoseconds until which a worker owns the row's
-- attempt; 0 when no attempt is in progress. A row whose lease has passed
-- is due again: that is how an attempt cut short by a crash is retried.
ALTER TABLE queue ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;
ALTER TABLE queue ADD COLUMN delay_notified BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE dkim_keys (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	domain_id   BIGINT NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
	selector    TEXT COLLATE "C" NOT NULL,
	algorithm   TEXT NOT NULL CHECK (algorithm IN ('ed25519', 'rsa')),
	private_key BYTEA NOT NULL,
	created_at  BIGINT NOT NULL,
	UNIQUE (domain_id, selector)
);
