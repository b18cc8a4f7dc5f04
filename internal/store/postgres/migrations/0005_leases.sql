-- 0005_leases: PostgreSQL only (store.Leases); SQLite serves one node, which
-- keeps these counters in memory, so store/sqlite has no 0005.
-- Concurrency leases of mail transactions in flight, shared by the nodes
-- of a cluster (store.Leases). Times are unix nanoseconds of the
-- database's clock, so nodes' clocks do not matter for expiry.
CREATE TABLE limit_leases (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	mailbox_id  BIGINT NOT NULL,
	node        TEXT NOT NULL,
	lease_until BIGINT NOT NULL,
	recipients  INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX limit_leases_mailbox ON limit_leases (mailbox_id, lease_until);
CREATE INDEX limit_leases_node ON limit_leases (node);

-- The per-mailbox windows read the submission log by mailbox and time.
CREATE INDEX submission_log_mailbox_at ON submission_log (mailbox_id, at);
