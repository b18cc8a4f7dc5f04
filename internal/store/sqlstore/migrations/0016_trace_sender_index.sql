-- 0016_trace_sender_index: trace_events_sender (0004) served the
-- per-session trace's sender filter; attempts are found by sender through
-- trace_addresses (0015), so no query reads it and every trace write paid
-- for it.
DROP INDEX trace_events_sender;
