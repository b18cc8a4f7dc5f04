-- 0006_console: the web console's administrator accounts (store.ConsoleUsers).
CREATE TABLE console_users (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	name          TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	created_at    INTEGER NOT NULL
) STRICT;
