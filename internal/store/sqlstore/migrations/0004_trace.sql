-- 0004_trace: the message trace (append-only events per submission
-- attempt and per accepted message) and the JSON API's bearer tokens.

-- Plain (not partial) indexes: SQLite never uses a partial index
-- WHERE x <> '' for x = ? with a bound parameter.
--
-- recipients is ",a@x,b@y,", so that it holds ",a@x," exactly when a@x
-- is one of them.
CREATE TABLE trace_events (
	id         {{.ID}},
	at         {{.Int64}} NOT NULL,
	session    {{.Name}} NOT NULL DEFAULT '',
	queue_id   {{.Name}} NOT NULL DEFAULT '',
	kind       TEXT NOT NULL,
	status     TEXT NOT NULL DEFAULT '',
	command    TEXT NOT NULL DEFAULT '',
	remote     TEXT NOT NULL DEFAULT '',
	tls        TEXT NOT NULL DEFAULT '',
	mailbox    {{.Name}} NOT NULL DEFAULT '',
	sender     {{.Name}} NOT NULL DEFAULT '',
	recipients {{.Name}} NOT NULL DEFAULT '',
	message_id {{.Name}} NOT NULL DEFAULT '',
	size       {{.Int64}} NOT NULL DEFAULT 0,
	reason     TEXT NOT NULL DEFAULT '',
	code       INTEGER NOT NULL DEFAULT 0,
	enhanced   TEXT NOT NULL DEFAULT '',
	text       TEXT NOT NULL DEFAULT '',
	detail     TEXT NOT NULL DEFAULT ''
){{.Strict}};
CREATE INDEX trace_events_at ON trace_events (at);
CREATE INDEX trace_events_session ON trace_events (session);
CREATE INDEX trace_events_queue_id ON trace_events (queue_id);
CREATE INDEX trace_events_message_id ON trace_events (message_id);
CREATE INDEX trace_events_sender ON trace_events (sender);

CREATE TABLE api_tokens (
	id         {{.ID}},
	label      {{.Name}} NOT NULL UNIQUE,
	hash       {{.Name}} NOT NULL UNIQUE,
	created_at {{.Int64}} NOT NULL
){{.Strict}};
