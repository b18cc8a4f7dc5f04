-- 0007_bodies: message bodies kept in the database (store.Bodies). Small
-- bodies are written in their acceptance's transaction, so a message and
-- its body become durable with one commit; larger ones are split into
-- parts of store.BodyPartSize. Every node of a cluster reads the bodies
-- any node accepted.
CREATE TABLE bodies (
	key       {{.Name}} NOT NULL,
	part      INTEGER NOT NULL,
	data      {{.Bytes}} NOT NULL,
	stored_at {{.Int64}} NOT NULL,
	PRIMARY KEY (key, part)
){{.Strict}};
