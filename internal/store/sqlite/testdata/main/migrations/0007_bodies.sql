-- 0007_bodies: message bodies kept in the database (store.Bodies). Small
-- bodies are written in their acceptance's transaction, so a message and
-- its body become durable with one commit; larger ones are split into
-- parts of store.BodyPartSize.
CREATE TABLE bodies (
	key       TEXT NOT NULL,
	part      INTEGER NOT NULL,
	data      BLOB NOT NULL,
	stored_at INTEGER NOT NULL,
	PRIMARY KEY (key, part)
) STRICT;
