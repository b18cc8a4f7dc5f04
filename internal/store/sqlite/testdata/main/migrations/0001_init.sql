-- 0001_init: the directory, accepted messages, the queue and folders.
-- Times are unix nanoseconds (UTC). IDs use AUTOINCREMENT so that an id is
-- never reused after a delete: messages keep naming the mailbox that
-- submitted them, and cached readers compare ids.

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) STRICT;

INSERT INTO meta (key, value) VALUES ('directory_version', 0);

CREATE TABLE domains (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	name       TEXT NOT NULL UNIQUE,
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE mailboxes (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	address       TEXT NOT NULL UNIQUE,
	domain_id     INTEGER NOT NULL REFERENCES domains (id),
	display_name  TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL DEFAULT '',
	smtp_auth     INTEGER NOT NULL DEFAULT 0 CHECK (smtp_auth IN (0, 1)),
	shared        INTEGER NOT NULL DEFAULT 0 CHECK (shared IN (0, 1)),
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
) STRICT;

CREATE INDEX mailboxes_domain ON mailboxes (domain_id);

-- mailbox_id has no foreign key: a message outlives the mailbox that
-- submitted it until its queue rows are retired.
CREATE TABLE messages (
	id            TEXT PRIMARY KEY,
	message_id    TEXT NOT NULL,
	mailbox_id    INTEGER NOT NULL,
	envelope_from TEXT NOT NULL,
	size          INTEGER NOT NULL,
	blob          TEXT NOT NULL,
	delivery_blob TEXT NOT NULL,
	created_at    INTEGER NOT NULL
) STRICT;

CREATE INDEX messages_message_id ON messages (message_id);

CREATE TABLE queue (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	message_id      TEXT NOT NULL REFERENCES messages (id),
	recipient       TEXT NOT NULL,
	state           TEXT NOT NULL CHECK (state IN ('queued', 'delivered', 'failed')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	last_reply      TEXT NOT NULL DEFAULT '',
	updated_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX queue_due ON queue (state, next_attempt_at);
CREATE INDEX queue_message ON queue (message_id);

CREATE TABLE folder_entries (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	mailbox_id INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	folder     TEXT NOT NULL,
	message_id TEXT NOT NULL REFERENCES messages (id),
	blob       TEXT NOT NULL,
	size       INTEGER NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX folder_entries_folder ON folder_entries (mailbox_id, folder, id);
CREATE INDEX folder_entries_message ON folder_entries (message_id);
