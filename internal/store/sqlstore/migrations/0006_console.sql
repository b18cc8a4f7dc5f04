-- 0006_console: the web console's administrator accounts (store.ConsoleUsers).
CREATE TABLE console_users (
	id            {{.ID}},
	name          {{.Name}} NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	created_at    {{.Int64}} NOT NULL
){{.Strict}};
