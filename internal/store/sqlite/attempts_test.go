package sqlite

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailroom/internal/store"
	"mailroom/internal/store/sqlstore"
)

// TestSearchAttempts_UsesIndexes: every filter of the trace's list is
// answered through an index of migration 0015 (or 0004), never by reading
// trace_events or trace_addresses whole.
func TestSearchAttempts_UsesIndexes(t *testing.T) {
	db := mustOpen(t, filepath.Join(t.TempDir(), "mailroom.db"))
	now := time.Now()
	for name, tc := range map[string]struct {
		f     store.AttemptFilter
		index string
	}{
		"list":           {store.AttemptFilter{}, "trace_events_at"},
		"page":           {store.AttemptFilter{AfterAt: now, AfterID: 9}, "trace_events_at (at<?)"},
		"time range":     {store.AttemptFilter{Since: now.Add(-time.Hour), Until: now}, "trace_events_at (at>? AND at<?)"},
		"mailbox":        {store.AttemptFilter{Mailbox: "bob@example.com"}, "trace_events_mailbox"},
		"mailbox prefix": {store.AttemptFilter{Mailbox: "bob", MailboxPrefix: true}, "trace_events_mailbox"},
		"sender":         {store.AttemptFilter{Sender: "bob@example.com"}, "trace_addresses_address"},
		"sender prefix":  {store.AttemptFilter{Sender: "bob@", SenderPrefix: true}, "trace_addresses_address"},
		"recipient":      {store.AttemptFilter{Recipient: "carol@", RecipientPrefix: true}, "trace_addresses_address"},
		"message id":     {store.AttemptFilter{MessageID: "m1@example.com"}, "trace_events_message_id"},
		"queue id":       {store.AttemptFilter{QueueID: "q1"}, "trace_events_queue_id"},
		"status":         {store.AttemptFilter{Status: "refused"}, "trace_events_status"},
		"delivery":       {store.AttemptFilter{Delivery: "failed"}, "trace_events_queue_id (queue_id=? AND status=?)"},
		"subject":        {store.AttemptFilter{Subject: "invoice"}, "trace_events_at"},
	} {
		tc.f.Limit = 50
		q, args := sqlstore.AttemptsQuery(tc.f)
		plan := queryPlan(t, db, positional(q), args...)
		all := strings.Join(plan, "\n")
		if !strings.Contains(all, tc.index) {
			t.Errorf("%s: plan does not use %s:\n%s", name, tc.index, all)
		}
		for _, line := range plan {
			if strings.HasPrefix(line, "SCAN ") && !strings.Contains(line, " INDEX ") {
				t.Errorf("%s: plan reads a table whole: %q\n%s", name, line, all)
			}
		}
	}
}

// TestMigrate_0015MarksEarlierAttempts: the events that ended attempts
// before migration 0015 are the trace's rows after it, found by their
// envelope sender; the other events are not rows.
func TestMigrate_0015MarksEarlierAttempts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mailroom.db")
	old := openAt(t, path, 14)
	for _, q := range []string{
		`INSERT INTO trace_events (at, session, kind, status, command, sender) VALUES (1, 's1', 'session', '', '', '')`,
		`INSERT INTO trace_events (at, session, kind, status, command, mailbox) VALUES (2, 's1', 'auth', 'refused', 'AUTH', 'app@example.org')`,
		`INSERT INTO trace_events (at, session, kind, status, command, sender) VALUES (3, 's1', 'refused', 'refused', 'MAIL', 'boss@example.org')`,
		`INSERT INTO trace_events (at, session, kind, status, command, sender) VALUES (4, 's1', 'refused', 'refused', 'RCPT', 'app@example.org')`,
		`INSERT INTO trace_events (at, session, queue_id, kind, status, sender, recipients) VALUES (5, 's1', 'q1', 'accepted', 'accepted', 'app@example.org', ',c@example.org,')`,
		`INSERT INTO trace_events (at, queue_id, kind, status, recipients) VALUES (6, 'q1', 'delivery', 'delivered', ',c@example.org,')`,
	} {
		if _, err := old.sql.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	db := mustOpen(t, path)
	all, err := db.SearchAttempts(t.Context(), store.AttemptFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range all {
		kinds = append(kinds, e.Kind+"/"+e.Command)
	}
	if strings.Join(kinds, " ") != "accepted/ refused/MAIL auth/AUTH" {
		t.Errorf("rows after the migration: %v, want the acceptance, the refused MAIL and the refused AUTH", kinds)
	}
	if got, err := db.SearchAttempts(t.Context(), store.AttemptFilter{Sender: "boss@", SenderPrefix: true, Limit: 10}); err != nil || len(got) != 1 {
		t.Errorf("by envelope sender: %+v %v", got, err)
	}
}

// queryPlan returns the details of SQLite's EXPLAIN QUERY PLAN of q, a
// line a step.
func queryPlan(t *testing.T, db *DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.sql.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}
