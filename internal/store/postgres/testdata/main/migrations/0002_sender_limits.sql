-- 0002_sender_limits: per-domain and per-mailbox sender settings (display
-- name policy, submission networks, throttles, Sent Items copies and
-- retention, quota), aliases, send-as/on-behalf grants, app passwords and
-- the submission log the throttles count from (store/sqlite's
-- 0002_sender_limits in PostgreSQL's dialect).
--
-- Networks columns hold a TEXT[] of CIDR prefixes ('{}' when there is no
-- restriction). Limit columns are 0 to inherit the level above. Durations
-- are nanoseconds.

ALTER TABLE domains ADD COLUMN display_name TEXT NOT NULL DEFAULT 'client'
	CHECK (display_name IN ('client', 'directory'));
ALTER TABLE domains ADD COLUMN networks TEXT[] NOT NULL DEFAULT '{}';
ALTER TABLE domains ADD COLUMN limit_concurrent INTEGER NOT NULL DEFAULT 0
	CHECK (limit_concurrent >= 0);
ALTER TABLE domains ADD COLUMN limit_messages_per_minute INTEGER NOT NULL DEFAULT 0
	CHECK (limit_messages_per_minute >= 0);
ALTER TABLE domains ADD COLUMN limit_recipients_per_message INTEGER NOT NULL DEFAULT 0
	CHECK (limit_recipients_per_message >= 0);
ALTER TABLE domains ADD COLUMN limit_recipients_per_day INTEGER NOT NULL DEFAULT 0
	CHECK (limit_recipients_per_day >= 0);

-- Existing mailboxes keep a Sent Items copy, as they did before.
ALTER TABLE mailboxes ADD COLUMN save_sent BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE mailboxes ADD COLUMN copy_sent_as BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE mailboxes ADD COLUMN copy_sent_on_behalf BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE mailboxes ADD COLUMN sent_retention BIGINT NOT NULL DEFAULT 0
	CHECK (sent_retention >= 0);
ALTER TABLE mailboxes ADD COLUMN quota_bytes BIGINT NOT NULL DEFAULT 0
	CHECK (quota_bytes >= 0);
ALTER TABLE mailboxes ADD COLUMN networks TEXT[] NOT NULL DEFAULT '{}';
ALTER TABLE mailboxes ADD COLUMN limit_concurrent INTEGER NOT NULL DEFAULT 0
	CHECK (limit_concurrent >= 0);
ALTER TABLE mailboxes ADD COLUMN limit_messages_per_minute INTEGER NOT NULL DEFAULT 0
	CHECK (limit_messages_per_minute >= 0);
ALTER TABLE mailboxes ADD COLUMN limit_recipients_per_message INTEGER NOT NULL DEFAULT 0
	CHECK (limit_recipients_per_message >= 0);
ALTER TABLE mailboxes ADD COLUMN limit_recipients_per_day INTEGER NOT NULL DEFAULT 0
	CHECK (limit_recipients_per_day >= 0);

-- An alias address is unique among aliases; the store also keeps it apart
-- from mailbox addresses (checked in the writing transaction, under an
-- advisory lock on the address).
CREATE TABLE aliases (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	address    TEXT COLLATE "C" NOT NULL UNIQUE,
	mailbox_id BIGINT NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	created_at BIGINT NOT NULL
);

CREATE INDEX aliases_mailbox ON aliases (mailbox_id);

-- on_addr is a normalized address or '@' || domain. The unique index leads
-- with on_addr so that it also serves lookups and removal by target.
CREATE TABLE grants (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind       TEXT COLLATE "C" NOT NULL CHECK (kind IN ('send-as', 'send-on-behalf')),
	on_addr    TEXT COLLATE "C" NOT NULL,
	grantee_id BIGINT NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	created_at BIGINT NOT NULL,
	UNIQUE (on_addr, grantee_id, kind)
);

CREATE INDEX grants_grantee ON grants (grantee_id);

-- last_used_at is NULL until the first use.
CREATE TABLE app_passwords (
	id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	mailbox_id     BIGINT NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	label          TEXT COLLATE "C" NOT NULL,
	password_hash  TEXT NOT NULL,
	networks       TEXT[] NOT NULL DEFAULT '{}',
	created_at     BIGINT NOT NULL,
	last_used_at   BIGINT,
	last_used_from TEXT NOT NULL DEFAULT '',
	UNIQUE (mailbox_id, label)
);

-- mailbox_id has no foreign key: records count against a mailbox id, which
-- is never reused, and go only when pruned. The id only orders records of
-- the same instant.
CREATE TABLE submission_log (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	mailbox_id BIGINT NOT NULL,
	at         BIGINT NOT NULL,
	recipients INTEGER NOT NULL
);

CREATE INDEX submission_log_at ON submission_log (at);
