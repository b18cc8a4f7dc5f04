-- 0001_init: the directory, accepted messages, the queue and folders.
--
-- The shared migrations are text/template files that each store renders
-- with its column types (sqlstore.Types): .Int64 is a 64-bit integer, .ID
-- an id no delete frees for reuse (AUTOINCREMENT; an identity), .RowID a
-- row id that may be reused, .Name text compared and sorted byte by byte
-- whatever the database's locale (PostgreSQL: COLLATE "C"), .Bytes a
-- byte string, .Networks a list of CIDR prefixes (a JSON array in TEXT;
-- TEXT[]), boolean a flag (an INTEGER 0 or 1; BOOLEAN), .Strict what
-- closes a CREATE TABLE (SQLite's STRICT).
--
-- Times are unix nanoseconds (UTC). Ids are never reused: messages keep
-- naming the mailbox that submitted them, and cached readers compare ids.

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value {{.Int64}} NOT NULL
){{.Strict}};

INSERT INTO meta (key, value) VALUES ('directory_version', 0);

CREATE TABLE domains (
	id         {{.ID}},
	name       {{.Name}} NOT NULL UNIQUE,
	created_at {{.Int64}} NOT NULL
){{.Strict}};

CREATE TABLE mailboxes (
	id            {{.ID}},
	address       {{.Name}} NOT NULL UNIQUE,
	domain_id     {{.Int64}} NOT NULL REFERENCES domains (id),
	display_name  TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL DEFAULT '',
	smtp_auth     {{boolean "smtp_auth" false}},
	shared        {{boolean "shared" false}},
	created_at    {{.Int64}} NOT NULL,
	updated_at    {{.Int64}} NOT NULL
){{.Strict}};

CREATE INDEX mailboxes_domain ON mailboxes (domain_id);

-- mailbox_id has no foreign key: a message outlives the mailbox that
-- submitted it until its queue rows are retired.
CREATE TABLE messages (
	id            {{.Name}} PRIMARY KEY,
	message_id    TEXT NOT NULL,
	mailbox_id    {{.Int64}} NOT NULL,
	envelope_from TEXT NOT NULL,
	size          {{.Int64}} NOT NULL,
	blob          TEXT NOT NULL,
	delivery_blob TEXT NOT NULL,
	created_at    {{.Int64}} NOT NULL
){{.Strict}};

CREATE INDEX messages_message_id ON messages (message_id);

CREATE TABLE queue (
	id              {{.ID}},
	message_id      {{.Name}} NOT NULL REFERENCES messages (id),
	recipient       TEXT NOT NULL,
	state           TEXT NOT NULL CHECK (state IN ('queued', 'delivered', 'failed')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at {{.Int64}} NOT NULL,
	last_reply      TEXT NOT NULL DEFAULT '',
	updated_at      {{.Int64}} NOT NULL
){{.Strict}};

CREATE INDEX queue_due ON queue (state, next_attempt_at);
CREATE INDEX queue_message ON queue (message_id);

CREATE TABLE folder_entries (
	id         {{.ID}},
	mailbox_id {{.Int64}} NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	folder     TEXT NOT NULL,
	message_id {{.Name}} NOT NULL REFERENCES messages (id),
	blob       TEXT NOT NULL,
	size       {{.Int64}} NOT NULL,
	created_at {{.Int64}} NOT NULL
){{.Strict}};

CREATE INDEX folder_entries_folder ON folder_entries (mailbox_id, folder, id);
CREATE INDEX folder_entries_message ON folder_entries (message_id);
