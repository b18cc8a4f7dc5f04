-- 0013_imap_access: reading mail over IMAP. imap_enabled is a mailbox's
-- IMAP switch (store.Mailbox.IMAP, on unless turned off, as Exchange's
-- ImapEnabled); a grant may now be 'full-access' (store.GrantFullAccess:
-- the grantee opens the mailbox on_addr names over IMAP; it does not
-- allow sending).
ALTER TABLE mailboxes ADD COLUMN imap_enabled {{boolean "imap_enabled" true}};

{{if eq .Dialect "postgres"}}
ALTER TABLE grants DROP CONSTRAINT grants_kind_check;
ALTER TABLE grants ADD CONSTRAINT grants_kind_check
	CHECK (kind IN ('send-as', 'send-on-behalf', 'full-access'));
{{else}}
-- SQLite cannot change a CHECK: the table is rebuilt, keeping its ids and
-- its AUTOINCREMENT sequence (ids are never reused).
CREATE TABLE grants_0013 (
	id         {{.ID}},
	kind       {{.Name}} NOT NULL CHECK (kind IN ('send-as', 'send-on-behalf', 'full-access')),
	on_addr    {{.Name}} NOT NULL,
	grantee_id {{.Int64}} NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	created_at {{.Int64}} NOT NULL,
	UNIQUE (on_addr, grantee_id, kind)
){{.Strict}};
INSERT INTO grants_0013 (id, kind, on_addr, grantee_id, created_at)
	SELECT id, kind, on_addr, grantee_id, created_at FROM grants;
INSERT INTO sqlite_sequence (name, seq)
	SELECT 'grants_0013', seq FROM sqlite_sequence WHERE name = 'grants'
	AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'grants_0013');
UPDATE sqlite_sequence SET seq = MAX(seq, (SELECT seq FROM sqlite_sequence WHERE name = 'grants'))
	WHERE name = 'grants_0013' AND EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'grants');
DROP TABLE grants;
ALTER TABLE grants_0013 RENAME TO grants;
CREATE INDEX grants_grantee ON grants (grantee_id);
{{end}}
