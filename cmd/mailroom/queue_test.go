package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"mailroom/internal/store"
)

// TestCLI_QueueListShowsDeferred: queue list shows a queued row with a
// failed attempt as deferred, with its next attempt time, as /metrics
// and the console count it; a row never attempted stays queued; --state
// queued (the stored state) still lists both.
func TestCLI_QueueListShowsDeferred(t *testing.T) {
	cfg := configWithResolver(t, "127.0.0.1:1")
	run(t, "", "domain", "add", "example.test", "--config", cfg)
	run(t, "pass-word-123\n", "mailbox", "add", "alice@example.test", "--password-stdin", "--config", cfg)
	st := storeOf(t, cfg)
	ctx := context.Background()
	alice, err := st.Mailbox(ctx, "alice@example.test")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	err = st.Accept(ctx, store.Acceptance{
		Message:    store.Message{ID: "QD", MessageID: "QD@example.test", MailboxID: alice.ID, EnvelopeFrom: alice.Address, Blob: "QD", DeliveryBlob: "QD", CreatedAt: now},
		Recipients: []string{"later@remote.test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := st.ClaimDue(ctx, now.Add(time.Minute), 10, time.Minute)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	next := now.Add(3 * time.Hour).Truncate(time.Second)
	_, _, err = st.Record(ctx, now, []store.Outcome{{RowID: claimed[0].ID, Lease: claimed[0].LeaseUntil, State: store.StateQueued,
		NextAttemptAt: next, Attempted: true, LastReply: "451 4.3.0 try later"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = st.Accept(ctx, store.Acceptance{
		Message:    store.Message{ID: "QN", MessageID: "QN@example.test", MailboxID: alice.ID, EnvelopeFrom: alice.Address, Blob: "QN", DeliveryBlob: "QN", CreatedAt: now.Add(time.Hour)},
		Recipients: []string{"new@remote.test"},
	})
	if err != nil {
		t.Fatal(err)
	}

	for _, args := range [][]string{{"queue", "list"}, {"queue", "list", "--state", "queued"}} {
		out := run(t, "", append(args, "--config", cfg)...)
		lines := strings.Split(out, "\n")
		var deferred, queued string
		for _, l := range lines {
			switch {
			case strings.HasPrefix(l, "QD "):
				deferred = l
			case strings.HasPrefix(l, "QN "):
				queued = l
			}
		}
		if f := strings.Fields(deferred); len(f) < 5 || f[3] != "deferred" || f[4] != "1" || !strings.Contains(deferred, next.Local().Format("2006-01-02 15:04:05")) || !strings.Contains(deferred, "451 4.3.0 try later") {
			t.Errorf("mailroom %v: deferred row %q in\n%s", args, deferred, out)
		}
		if f := strings.Fields(queued); len(f) < 5 || f[3] != "queued" || f[4] != "0" {
			t.Errorf("mailroom %v: queued row %q in\n%s", args, queued, out)
		}
	}
}
