-- 0006_console: the web console's administrator accounts (store.ConsoleUsers).
CREATE TABLE console_users (
	id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name          TEXT COLLATE "C" NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	created_at    BIGINT NOT NULL
);
