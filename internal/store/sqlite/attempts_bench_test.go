package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"mailroom/internal/store"
)

// BenchmarkSearchAttempts reads a page of 50 attempts from a trace of
// 100,000 attempts (and 300,000 other events: sessions, AUTHs,
// deliveries) of 1,000 mailboxes, by each kind of filter.
func BenchmarkSearchAttempts(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(b.TempDir(), "db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const attempts = 100_000
	base := time.Now().Add(-24 * time.Hour)
	var batch []store.TraceEvent
	for i := range attempts {
		at := base.Add(time.Duration(i) * 800 * time.Millisecond)
		mb := fmt.Sprintf("user%03d@example.test", i%1000)
		q := fmt.Sprintf("q%08d", i)
		rcpt := fmt.Sprintf("rcpt%05d@remote.test", i%20000)
		st, dst := "accepted", "delivered"
		if i%10 == 0 {
			st = "refused"
		}
		if i%100 == 1 {
			dst = "failed"
		}
		batch = append(batch,
			store.TraceEvent{At: at, Session: q, Kind: "session", Remote: "192.0.2.1:4000"},
			store.TraceEvent{At: at, Session: q, Kind: "auth", Mailbox: mb},
			store.TraceEvent{At: at, Session: q, QueueID: q, Kind: "accepted", Status: st, Attempt: true, Mailbox: mb, Sender: mb,
				Recipients: []string{rcpt}, HeaderFrom: []string{mb}, Subject: fmt.Sprintf("Invoice %d", i), MessageID: q + "@example.test", Size: 4300},
			store.TraceEvent{At: at, QueueID: q, Kind: "delivery", Status: dst, Recipients: []string{rcpt}})
		if len(batch) >= 4000 {
			if err := db.AppendTrace(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := db.AppendTrace(ctx, batch); err != nil {
		b.Fatal(err)
	}
	deep, err := db.SearchAttempts(ctx, store.AttemptFilter{Limit: 1000})
	if err != nil {
		b.Fatal(err)
	}
	last := deep[len(deep)-1]
	for name, f := range map[string]store.AttemptFilter{
		"newest":            {},
		"page 21":           {AfterAt: last.At, AfterID: last.ID},
		"mailbox":           {Mailbox: "user007@example.test"},
		"sender prefix":     {Sender: "user00", SenderPrefix: true},
		"recipient":         {Recipient: "rcpt00042@remote.test"},
		"status refused":    {Status: "refused"},
		"delivered":         {Delivery: "delivered"},
		"failed (1 in 100)": {Delivery: "failed"},
		"message id":        {MessageID: "q00050000@example.test"},
		"subject, 1 match":  {Subject: "invoice 99999"},
		"last hour":         {Since: base.Add(24*time.Hour - time.Hour)},
	} {
		f.Limit = 50
		b.Run(name, func(b *testing.B) {
			for range b.N {
				if _, err := db.SearchAttempts(ctx, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
