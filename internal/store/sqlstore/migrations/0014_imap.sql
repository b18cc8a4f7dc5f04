-- 0014_imap: folders as IMAP sees them (store.FolderInfo). A folder row
-- is made by the first entry written to it, or by CREATE; its id is its
-- UIDVALIDITY (ids are never reused, so a folder deleted and created
-- again never hands out an old UID under the old UIDVALIDITY). uid_next
-- is the UID the next entry gets; changes moves with every new entry,
-- flag change and expunge (the cheap probe of IDLE and NOOP).
--
-- Entries get a uid (ascending per folder in commit order: the writer
-- bumps uid_next under the folder row's lock), their flags (system flags
-- and keywords, space separated, sorted) and appended (written by IMAP
-- APPEND or COPY, not by mailroom itself: the Sent Items dedupe only
-- matches mailroom's own copies). Existing entries are numbered in id
-- order.
CREATE TABLE folders (
	id          {{.ID}},
	mailbox_id  {{.Int64}} NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	name        {{.Name}} NOT NULL,
	uid_next    {{.Int64}} NOT NULL DEFAULT 1,
	changes     {{.Int64}} NOT NULL DEFAULT 0,
	special_use TEXT NOT NULL DEFAULT '',
	subscribed  {{boolean "subscribed" true}},
	created_at  {{.Int64}} NOT NULL,
	UNIQUE (mailbox_id, name)
){{.Strict}};

ALTER TABLE folder_entries ADD COLUMN uid {{.Int64}} NOT NULL DEFAULT 0;
ALTER TABLE folder_entries ADD COLUMN flags TEXT NOT NULL DEFAULT '';
ALTER TABLE folder_entries ADD COLUMN appended {{boolean "appended" false}};

UPDATE folder_entries SET uid = n.uid
	FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY mailbox_id, folder ORDER BY id) AS uid FROM folder_entries) n
	WHERE n.id = folder_entries.id;

INSERT INTO folders (mailbox_id, name, uid_next, changes, special_use, created_at)
	SELECT mailbox_id, folder, MAX(uid) + 1, COUNT(*),
		CASE WHEN folder = 'Sent Items' THEN '\Sent' ELSE '' END, MIN(created_at)
	FROM folder_entries GROUP BY mailbox_id, folder;

CREATE UNIQUE INDEX folder_entries_uid ON folder_entries (mailbox_id, folder, uid);
