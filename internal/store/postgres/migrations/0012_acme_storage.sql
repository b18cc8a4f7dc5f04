-- 0012_acme_storage: PostgreSQL only (DB.PutACME and the rest, acme.DB).
-- The ACME account, certificates and locks of a cluster, so that every node
-- serves the same certificate and one renews it; a SQLite node keeps them
-- in files under data_dir/acme, so store/sqlite has no 0012.
-- Keys are certmagic's slash-separated paths; modified is unix nanoseconds.
CREATE TABLE acme_storage (
	key      TEXT COLLATE "C" PRIMARY KEY,
	value    BYTEA NOT NULL,
	modified BIGINT NOT NULL
);

-- A lock is held by owner until expires (unix nanoseconds of the
-- database's clock); its holder pushes expires on while it works, so the
-- lock of a node that died is taken by another once expires has passed.
CREATE TABLE acme_locks (
	name    TEXT COLLATE "C" PRIMARY KEY,
	owner   TEXT NOT NULL,
	expires BIGINT NOT NULL
);
