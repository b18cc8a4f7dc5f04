-- 0008_lease_functions: PostgreSQL only. Each limit decision of store.Leases
-- in one round trip. A decision holds its mailbox's row lock from the lock
-- to its commit; run from the client as six statements, that was six round
-- trips per decision, and the sessions of one mailbox queued behind them.
-- Each statement of a (volatile) function takes a fresh snapshot, so the
-- counts after the lock see every decision committed before it, as the
-- separate statements did. The commits skip the WAL flush (see
-- store/postgres writeAsync): a lease lost in a crash only skews one
-- mailbox's count until it would have expired.
--
-- Outcomes: 0 granted, 1 concurrent, 2 rate, 3 daily (store.LeaseOutcome);
-- -1 the mailbox (or lease) does not exist. Times are unix nanoseconds.
--
-- The rate and the daily budget count a mailbox's submission log over the
-- last minute and the last 24 hours. Counted row by row that grew with the
-- mailbox's volume, under its lock; so a lease decision (at most one a
-- second per mailbox and node: p_rollup) first rolls the mailbox's rows
-- older than a second into one row per second, and seconds older than 2
-- minutes into one row per minute: a decision then reads about the last
-- two seconds' rows, 120 seconds and 1,440 minutes. A second (or
-- minute) counts until its end leaves the window: the windows are exact to
-- the second (the minute window) and to the minute (the day window) at
-- their old edge, erring towards the stricter. The retry time a refusal
-- gives is the end of the oldest counted second or minute.
CREATE TABLE submission_seconds (
	mailbox_id BIGINT NOT NULL,
	second     BIGINT NOT NULL, -- start of the second, unix nanoseconds
	messages   INTEGER NOT NULL,
	recipients INTEGER NOT NULL,
	PRIMARY KEY (mailbox_id, second)
);
CREATE TABLE submission_minutes (
	mailbox_id BIGINT NOT NULL,
	minute     BIGINT NOT NULL, -- start of the minute, unix nanoseconds
	messages   INTEGER NOT NULL,
	recipients INTEGER NOT NULL,
	PRIMARY KEY (mailbox_id, minute)
);
CREATE INDEX submission_seconds_second ON submission_seconds (second);
CREATE INDEX submission_minutes_minute ON submission_minutes (minute);

-- mailroom_rollup_log moves the mailbox's log rows older than 1 s before
-- p_now into seconds, and its seconds older than 120 s into minutes. Each
-- move is one statement: a record is in one table or the next, never both
-- (a log row committed after the statement's snapshot waits for the next
-- rollup). Callers hold the mailbox's row lock.
CREATE FUNCTION mailroom_rollup_log(p_mailbox BIGINT, p_now BIGINT) RETURNS VOID
LANGUAGE sql AS $$
	WITH moved AS (
		DELETE FROM submission_log WHERE mailbox_id = p_mailbox AND at < p_now - 1000000000
		RETURNING at, recipients
	)
	INSERT INTO submission_seconds (mailbox_id, second, messages, recipients)
	SELECT p_mailbox, at - at % 1000000000, COUNT(*), SUM(recipients) FROM moved GROUP BY 2
	ON CONFLICT (mailbox_id, second) DO UPDATE
		SET messages = submission_seconds.messages + EXCLUDED.messages,
		    recipients = submission_seconds.recipients + EXCLUDED.recipients;
	WITH moved AS (
		DELETE FROM submission_seconds WHERE mailbox_id = p_mailbox AND second < p_now - 120000000000
		RETURNING second, messages, recipients
	)
	INSERT INTO submission_minutes (mailbox_id, minute, messages, recipients)
	SELECT p_mailbox, second - second % 60000000000, SUM(messages), SUM(recipients) FROM moved GROUP BY 2
	ON CONFLICT (mailbox_id, minute) DO UPDATE
		SET messages = submission_minutes.messages + EXCLUDED.messages,
		    recipients = submission_minutes.recipients + EXCLUDED.recipients;
$$;

-- mailroom_window counts the mailbox's messages and recipients since
-- p_since (exclusive) in the log and its rollups, and the end of the
-- oldest thing counted (NULL when none).
CREATE FUNCTION mailroom_window(p_mailbox BIGINT, p_since BIGINT,
	OUT messages INTEGER, OUT recipients INTEGER, OUT oldest BIGINT)
LANGUAGE sql STABLE AS $$
	SELECT COALESCE(SUM(n), 0)::INTEGER, COALESCE(SUM(r), 0)::INTEGER, MIN(o) FROM (
		SELECT COUNT(*) AS n, SUM(recipients) AS r, MIN(at) AS o
			FROM submission_log WHERE mailbox_id = p_mailbox AND at > p_since
		UNION ALL
		SELECT SUM(messages), SUM(recipients), MIN(second) + 1000000000
			FROM submission_seconds WHERE mailbox_id = p_mailbox AND second + 1000000000 > p_since
		UNION ALL
		SELECT SUM(messages), SUM(recipients), MIN(minute) + 60000000000
			FROM submission_minutes WHERE mailbox_id = p_mailbox AND minute + 60000000000 > p_since
	) w
$$;

CREATE FUNCTION mailroom_acquire_lease(p_mailbox BIGINT, p_node TEXT, p_ttl BIGINT,
	p_concurrent INTEGER, p_per_minute INTEGER, p_now BIGINT, p_since BIGINT, p_rollup BOOLEAN,
	OUT outcome INTEGER, OUT lease_id BIGINT, OUT oldest BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
	v_held INTEGER;
	v_sent INTEGER;
BEGIN
	PERFORM set_config('synchronous_commit', 'off', true);
	PERFORM 1 FROM mailboxes WHERE id = p_mailbox FOR NO KEY UPDATE;
	IF NOT FOUND THEN
		outcome := -1;
		RETURN;
	END IF;
	DELETE FROM limit_leases WHERE mailbox_id = p_mailbox
		AND lease_until <= (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000000)::BIGINT;
	SELECT COUNT(*) INTO v_held FROM limit_leases WHERE mailbox_id = p_mailbox;
	IF v_held >= p_concurrent THEN
		outcome := 1;
		RETURN;
	END IF;
	IF p_rollup THEN
		PERFORM mailroom_rollup_log(p_mailbox, p_now);
	END IF;
	SELECT w.messages, w.oldest INTO v_sent, oldest FROM mailroom_window(p_mailbox, p_since) w;
	IF v_sent + v_held >= p_per_minute THEN
		outcome := 2;
		RETURN;
	END IF;
	oldest := NULL;
	INSERT INTO limit_leases (mailbox_id, node, lease_until)
		VALUES (p_mailbox, p_node, (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000000)::BIGINT + p_ttl)
		RETURNING id INTO lease_id;
	outcome := 0;
END $$;

CREATE FUNCTION mailroom_reserve_recipient(p_lease BIGINT, p_per_day INTEGER, p_since BIGINT,
	OUT outcome INTEGER, OUT oldest BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
	v_mailbox BIGINT;
	v_reserved INTEGER;
	v_accepted INTEGER;
BEGIN
	PERFORM set_config('synchronous_commit', 'off', true);
	SELECT mailbox_id INTO v_mailbox FROM limit_leases WHERE id = p_lease;
	IF NOT FOUND THEN
		outcome := -1;
		RETURN;
	END IF;
	PERFORM 1 FROM mailboxes WHERE id = v_mailbox FOR NO KEY UPDATE;
	IF NOT FOUND THEN
		outcome := -1;
		RETURN;
	END IF;
	-- One statement, one snapshot: an acceptance committing in between
	-- (which moves its recipients from its lease to the log) must not be
	-- seen in both.
	SELECT (SELECT COALESCE(SUM(recipients), 0) FROM limit_leases
			WHERE mailbox_id = v_mailbox
			AND (id = p_lease OR lease_until > (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000000)::BIGINT)),
		w.recipients, w.oldest
		INTO v_reserved, v_accepted, oldest
		FROM mailroom_window(v_mailbox, p_since) w;
	IF v_reserved + v_accepted >= p_per_day THEN
		outcome := 3;
		RETURN;
	END IF;
	oldest := NULL;
	UPDATE limit_leases SET recipients = recipients + 1 WHERE id = p_lease;
	IF NOT FOUND THEN
		outcome := -1;
		RETURN;
	END IF;
	outcome := 0;
END $$;

CREATE FUNCTION mailroom_release_lease(p_lease BIGINT) RETURNS VOID
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('synchronous_commit', 'off', true);
	DELETE FROM limit_leases WHERE id = p_lease;
END $$;
