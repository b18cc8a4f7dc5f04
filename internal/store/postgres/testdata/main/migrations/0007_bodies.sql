-- 0007_bodies: message bodies kept in the database (store/sqlite's
-- 0007_bodies in PostgreSQL's dialect): every node of a cluster reads the
-- bodies any node accepted.
CREATE TABLE bodies (
	key       TEXT COLLATE "C" NOT NULL,
	part      INTEGER NOT NULL,
	data      BYTEA NOT NULL,
	stored_at BIGINT NOT NULL,
	PRIMARY KEY (key, part)
);
