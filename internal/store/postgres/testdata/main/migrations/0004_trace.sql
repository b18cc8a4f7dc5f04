-- 0004_trace: the message trace (append-only events per submission
-- attempt and per accepted message) and the JSON API's bearer tokens
-- (store/sqlite's 0004_trace in PostgreSQL's dialect).

-- recipients is ",a@x,b@y," so that one recipient matches with
-- LIKE '%,' || $1 || ',%'.
CREATE TABLE trace_events (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at         BIGINT NOT NULL,
	session    TEXT COLLATE "C" NOT NULL DEFAULT '',
	queue_id   TEXT COLLATE "C" NOT NULL DEFAULT '',
	kind       TEXT NOT NULL,
	status     TEXT NOT NULL DEFAULT '',
	command    TEXT NOT NULL DEFAULT '',
	remote     TEXT NOT NULL DEFAULT '',
	tls        TEXT NOT NULL DEFAULT '',
	mailbox    TEXT COLLATE "C" NOT NULL DEFAULT '',
	sender     TEXT COLLATE "C" NOT NULL DEFAULT '',
	recipients TEXT COLLATE "C" NOT NULL DEFAULT '',
	message_id TEXT COLLATE "C" NOT NULL DEFAULT '',
	size       BIGINT NOT NULL DEFAULT 0,
	reason     TEXT NOT NULL DEFAULT '',
	code       INTEGER NOT NULL DEFAULT 0,
	enhanced   TEXT NOT NULL DEFAULT '',
	text       TEXT NOT NULL DEFAULT '',
	detail     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX trace_events_at ON trace_events (at);
CREATE INDEX trace_events_session ON trace_events (session);
CREATE INDEX trace_events_queue_id ON trace_events (queue_id);
CREATE INDEX trace_events_message_id ON trace_events (message_id);
CREATE INDEX trace_events_sender ON trace_events (sender);

CREATE TABLE api_tokens (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	label      TEXT COLLATE "C" NOT NULL UNIQUE,
	hash       TEXT COLLATE "C" NOT NULL UNIQUE,
	created_at BIGINT NOT NULL
);
