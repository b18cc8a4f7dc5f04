package postgres

import (
	"strings"
	"testing"
	"time"

	"mailroom/internal/store"
	"mailroom/internal/store/postgres/pgtest"
	"mailroom/internal/store/sqlstore"
)

// TestSearchAttempts_UsesIndexes: every filter of the trace's list can be
// answered through an index: with sequential scans priced out, no plan
// reads trace_events or trace_addresses whole. (An empty table's real
// plan is a sequential scan; this checks that an index serves each
// condition, which is what the planner needs once the tables are large.)
func TestSearchAttempts_UsesIndexes(t *testing.T) {
	pgtest.BaseDSN(t)
	db := mustOpen(t, pgtest.DSN(t))
	ctx := t.Context()
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SET enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for name, f := range map[string]store.AttemptFilter{
		"list":           {},
		"page":           {AfterAt: now, AfterID: 9},
		"time range":     {Since: now.Add(-time.Hour), Until: now},
		"mailbox":        {Mailbox: "bob@example.com"},
		"mailbox prefix": {Mailbox: "bob", MailboxPrefix: true},
		"sender":         {Sender: "bob@example.com"},
		"sender prefix":  {Sender: "bob@", SenderPrefix: true},
		"recipient":      {Recipient: "carol@", RecipientPrefix: true},
		"message id":     {MessageID: "m1@example.com"},
		"queue id":       {QueueID: "q1"},
		"status":         {Status: "refused"},
		"delivery":       {Delivery: "failed"},
	} {
		f.Limit = 50
		q, args := sqlstore.AttemptsQuery(f)
		rows, err := conn.Query(ctx, `EXPLAIN `+q, args...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		rows.Close()
		all := strings.Join(plan, "\n")
		if strings.Contains(all, "Seq Scan") {
			t.Errorf("%s: a sequential scan:\n%s", name, all)
		}
	}
}
