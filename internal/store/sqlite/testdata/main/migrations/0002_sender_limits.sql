-- 0002_sender_limits: per-domain and per-mailbox sender settings (display
-- name policy, submission networks, throttles, Sent Items copies and
-- retention, quota), aliases, send-as/on-behalf grants, app passwords and
-- the submission log the throttles count from.
--
-- Networks columns hold a JSON array of CIDR prefixes as text ('[]' when
-- there is no restriction). Limit columns are 0 to inherit the level above.
-- Durations are nanoseconds.

ALTER TABLE domains ADD COLUMN display_name TEXT NOT NULL DEFAULT 'client'
	CHECK (display_name IN ('client', 'directory'));
ALTER TABLE domains ADD COLUMN networks TEXT NOT NULL DEFAULT '[]';
ALTER TABLE domains ADD COLUMN limit_concurrent INTEGER NOT NULL DEFAULT 0
	CHECK (limit_concurrent >= 0);
ALTER TABLE domains ADD COLUMN limit_messages_per_minute INTEGER NOT NULL DEFAULT 0
	CHECK (limit_messages_per_minute >= 0);
ALTER TABLE domains ADD COLUMN limit_recipients_per_message INTEGER NOT NULL DEFAULT 0
	CHECK (limit_recipients_per_message >= 0);
ALTER TABLE domains ADD COLUMN limit_recipients_per_day INTEGER NOT NULL DEFAULT 0
	CHECK (limit_recipients_per_day >= 0);

-- Existing mailboxes keep a Sent Items copy, as they did before.
ALTER TABLE mailboxes ADD COLUMN save_sent INTEGER NOT NULL DEFAULT 1
	CHECK (save_sent IN (0, 1));
ALTER TABLE mailboxes ADD COLUMN copy_sent_as INTEGER NOT NULL DEFAULT 0
	CHECK (copy_sent_as IN (0, 1));
ALTER TABLE mailboxes ADD COLUMN copy_sent_on_behalf INTEGER NOT NULL DEFAULT 0
	CHECK (copy_sent_on_behalf IN (0, 1));
ALTER TABLE mailboxes ADD COLUMN sent_retention INTEGER NOT NULL DEFAULT 0
	CHECK (sent_retention >= 0);
ALTER TABLE mailboxes ADD COLUMN quota_bytes INTEGER NOT NULL DEFAULT 0
	CHECK (quota_bytes >= 0);
ALTER TABLE mailboxes ADD COLUMN networks TEXT NOT NULL DEFAULT '[]';
ALTER TABLE mailboxes ADD COLUMN limit_concurrent INTEGER NOT NULL DEFAULT 0
	CHECK (limit_concurrent >= 0);
ALTER TABLE mailboxes ADD COLUMN limit_messages_per_minute INTEGER NOT NULL DEFAULT 0
	CHECK (limit_messages_per_minute >= 0);
ALTER TABLE mailboxes ADD COLUMN limit_recipients_per_message INTEGER NOT NULL DEFAULT 0
	CHECK (limit_recipients_per_message >= 0);
ALTER TABLE mailboxes ADD COLUMN limit_recipients_per_day INTEGER NOT NULL DEFAULT 0
	CHECK (limit_recipients_per_day >= 0);

-- An alias address is unique among aliases; the store also keeps it apart
-- from mailbox addresses (checked in the writing transaction).
CREATE TABLE aliases (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	address    TEXT NOT NULL UNIQUE,
	mailbox_id INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX aliases_mailbox ON aliases (mailbox_id);

-- on_addr is a normalized address or '@' || domain. The unique index leads
-- with on_addr so that it also serves lookups and removal by target.
CREATE TABLE grants (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	kind       TEXT NOT NULL CHECK (kind IN ('send-as', 'send-on-behalf')),
	on_addr    TEXT NOT NULL,
	grantee_id INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	UNIQUE (on_addr, grantee_id, kind)
) STRICT;

CREATE INDEX grants_grantee ON grants (grantee_id);

-- last_used_at is NULL until the first use.
CREATE TABLE app_passwords (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	mailbox_id     INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	label          TEXT NOT NULL,
	password_hash  TEXT NOT NULL,
	networks       TEXT NOT NULL DEFAULT '[]',
	created_at     INTEGER NOT NULL,
	last_used_at   INTEGER,
	last_used_from TEXT NOT NULL DEFAULT '',
	UNIQUE (mailbox_id, label)
) STRICT;

-- mailbox_id has no foreign key: records count against a mailbox id, which
-- is never reused, and go only when pruned. The id only orders records of
-- the same instant, so it need not be AUTOINCREMENT.
CREATE TABLE submission_log (
	id         INTEGER PRIMARY KEY,
	mailbox_id INTEGER NOT NULL,
	at         INTEGER NOT NULL,
	recipients INTEGER NOT NULL
) STRICT;

CREATE INDEX submission_log_at ON submission_log (at);
