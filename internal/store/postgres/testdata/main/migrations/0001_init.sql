-- 0001_init: the directory, accepted messages, the queue and folders
-- (store/sqlite's 0001_init in PostgreSQL's dialect).
-- Times are unix nanoseconds (UTC) in BIGINT columns. IDs come from
-- identity sequences, which never hand out an id twice: messages keep
-- naming the mailbox that submitted them, and cached readers compare ids.
-- Names and addresses use the "C" collation, so that listings sort by byte
-- as they do in SQLite, whatever the database's locale.

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value BIGINT NOT NULL
);

INSERT INTO meta (key, value) VALUES ('directory_version', 0);

CREATE TABLE domains (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name       TEXT COLLATE "C" NOT NULL UNIQUE,
	created_at BIGINT NOT NULL
);

CREATE TABLE mailboxes (
	id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	address       TEXT COLLATE "C" NOT NULL UNIQUE,
	domain_id     BIGINT NOT NULL REFERENCES domains (id),
	display_name  TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL DEFAULT '',
	smtp_auth     BOOLEAN NOT NULL DEFAULT FALSE,
	shared        BOOLEAN NOT NULL DEFAULT FALSE,
	created_at    BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL
);

CREATE INDEX mailboxes_domain ON mailboxes (domain_id);

-- mailbox_id has no foreign key: a message outlives the mailbox that
-- submitted it until its queue rows are retired.
CREATE TABLE messages (
	id            TEXT COLLATE "C" PRIMARY KEY,
	message_id    TEXT NOT NULL,
	mailbox_id    BIGINT NOT NULL,
	envelope_from TEXT NOT NULL,
	size          BIGINT NOT NULL,
	blob          TEXT NOT NULL,
	delivery_blob TEXT NOT NULL,
	created_at    BIGINT NOT NULL
);

CREATE INDEX messages_message_id ON messages (message_id);

CREATE TABLE queue (
	id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	message_id      TEXT COLLATE "C" NOT NULL REFERENCES messages (id),
	recipient       TEXT NOT NULL,
	state           TEXT NOT NULL CHECK (state IN ('queued', 'delivered', 'failed')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at BIGINT NOT NULL,
	last_reply      TEXT NOT NULL DEFAULT '',
	updated_at      BIGINT NOT NULL
);

CREATE INDEX queue_due ON queue (state, next_attempt_at);
CREATE INDEX queue_message ON queue (message_id);

CREATE TABLE folder_entries (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	mailbox_id BIGINT NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	folder     TEXT NOT NULL,
	message_id TEXT COLLATE "C" NOT NULL REFERENCES messages (id),
	blob       TEXT NOT NULL,
	size       BIGINT NOT NULL,
	created_at BIGINT NOT NULL
);

CREATE INDEX folder_entries_folder ON folder_entries (mailbox_id, folder, id);
CREATE INDEX folder_entries_message ON folder_entries (message_id);
