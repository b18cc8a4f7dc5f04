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

CREATE FUNCTION mailroom_acquire_lease(p_mailbox BIGINT, p_node TEXT, p_ttl BIGINT,
	p_concurrent INTEGER, p_per_minute INTEGER, p_since BIGINT,
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
	SELECT COUNT(*), MIN(at) INTO v_sent, oldest FROM submission_log
		WHERE mailbox_id = p_mailbox AND at > p_since;
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
	SELECT COALESCE(SUM(recipients), 0) INTO v_reserved FROM limit_leases
		WHERE mailbox_id = v_mailbox
		AND (id = p_lease OR lease_until > (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000000)::BIGINT);
	SELECT COALESCE(SUM(recipients), 0), MIN(at) INTO v_accepted, oldest FROM submission_log
		WHERE mailbox_id = v_mailbox AND at > p_since;
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
