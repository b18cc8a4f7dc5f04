-- 0004_trace: the message trace (append-only events per submission
-- attempt and per accepted message) and the JSON API's bearer tokens.

-- Plain (not partial) indexes: a partial index WHERE x <> '' is never used
-- for x = ? with a bound parameter.
--
-- recipients is ",a@x,b@y," so that one recipient matches with
-- LIKE '%,' || ? || ',%' (plain SQL, the same on PostgreSQL).
CREATE TABLE trace_events (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	at         INTEGER NOT NULL,
	session    TEXT NOT NULL DEFAULT '',
	queue_id   TEXT NOT NULL DEFAULT '',
	kind       TEXT NOT NULL,
	status     TEXT NOT NULL DEFAULT '',
	command    TEXT NOT NULL DEFAULT '',
	remote     TEXT NOT NULL DEFAULT '',
	tls        TEXT NOT NULL DEFAULT '',
	mailbox    TEXT NOT NULL DEFAULT '',
	sender     TEXT NOT NULL DEFAULT '',
	recipients TEXT NOT NULL DEFAULT '',
	message_id TEXT NOT NULL DEFAULT '',
	size       INTEGER NOT NULL DEFAULT 0,
	reason     TEXT NOT NULL DEFAULT '',
	code       INTEGER NOT NULL DEFAULT 0,
	enhanced   TEXT NOT NULL DEFAULT '',
	text       TEXT NOT NULL DEFAULT '',
	detail     TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX trace_events_at ON trace_events (at);
CREATE INDEX trace_events_session ON trace_events (session);
CREATE INDEX trace_events_queue_id ON trace_events (queue_id);
CREATE INDEX trace_events_message_id ON trace_events (message_id);
CREATE INDEX trace_events_sender ON trace_events (sender);

CREATE TABLE api_tokens (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	label      TEXT NOT NULL UNIQUE,
	hash       TEXT NOT NULL UNIQUE,
	created_at INTEGER NOT NULL
) STRICT;
