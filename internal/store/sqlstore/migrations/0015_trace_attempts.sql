-- 0015_trace_attempts: the message trace lists submission attempts, one
-- row each (issue 20). The event that ends an attempt (the acceptance, a
-- refused AUTH, MAIL, DATA or BDAT, a failed TLS handshake, a session that
-- ended with no command) is the attempt's row: attempt is set on it, and
-- it carries what people search and read that the envelope does not (the
-- header From and Sender, the Subject, the connector that admitted the
-- client). The attempt stays one row of the append-only trace_events, so
-- no second table has to be kept in step with it.
--
-- Every filter of the list is index-backed on both databases, newest
-- first with keyset paging on (at, id):
--   the list itself        trace_events_at (0004), read backwards; attempt
--                          is a filter (about one event in four is one),
--                          not an index column: with an (attempt, at)
--                          index SQLite preferred it to the selective
--                          indexes below, having no statistics
--   mailbox                trace_events_mailbox (mailbox, at)
--   status (the outcome)   trace_events_status (status, at)
--   deferred/delivered/    trace_events_queue_id, now (queue_id, status): an
--   failed (a delivery)    attempt, read newest first, has a delivery event
--                          of that status; a page of a common status stops
--                          early (an IN list of every queue id with the
--                          status took 380 ms over 100,000 attempts)
--   message id, queue id   trace_events_message_id (0004), trace_events_queue_id
--   sender, recipient      trace_addresses (address, role, event_id): a
--                          prefix is a range of the byte-ordered address
--                          (.Name), in SQLite and PostgreSQL alike; one
--                          index answers "envelope from OR header From OR
--                          Sender"
--   time range             the at of every index above
-- The subject is matched as a substring (LIKE '%…%'), which no B-tree
-- index serves; it narrows the other filters and the keyset page.
ALTER TABLE trace_events ADD COLUMN attempt {{boolean "attempt" false}};
ALTER TABLE trace_events ADD COLUMN header_from {{.Name}} NOT NULL DEFAULT '';
ALTER TABLE trace_events ADD COLUMN header_sender {{.Name}} NOT NULL DEFAULT '';
ALTER TABLE trace_events ADD COLUMN subject TEXT NOT NULL DEFAULT '';
ALTER TABLE trace_events ADD COLUMN connector TEXT NOT NULL DEFAULT '';
CREATE INDEX trace_events_mailbox ON trace_events (mailbox, at);
CREATE INDEX trace_events_status ON trace_events (status, at);
DROP INDEX trace_events_queue_id;
CREATE INDEX trace_events_queue_id ON trace_events (queue_id, status);

-- The addresses of an attempt, one row each, by role: "from" (envelope
-- sender), "header_from", "header_sender", "to" (envelope recipient).
CREATE TABLE trace_addresses (
	event_id {{.Int64}} NOT NULL,
	role     TEXT NOT NULL,
	address  {{.Name}} NOT NULL,
	PRIMARY KEY (event_id, role, address)
){{.Strict}};
CREATE INDEX trace_addresses_address ON trace_addresses (address, role, event_id);

-- The attempts recorded before this migration: the events that ended
-- them, as submission marks them now, found by their envelope sender.
-- Their recipients (",a,b," in one column) are not split into
-- trace_addresses here, which no single SQL does in both databases; a
-- recipient search does not find them, every other filter does, and they
-- age out with trace.retention.
UPDATE trace_events SET attempt = TRUE
 WHERE kind IN ('accepted', 'tls', 'ended')
    OR (kind = 'refused' AND command <> 'RCPT')
    OR (kind = 'auth' AND status = 'refused');
INSERT INTO trace_addresses (event_id, role, address)
	SELECT id, 'from', sender FROM trace_events WHERE attempt AND sender <> '';
