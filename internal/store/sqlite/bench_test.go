package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"mailroom/internal/store"
)

// BenchmarkAccept measures the durable append of one acceptance (message,
// queue row, two folder entries, submission record, and with body=4096 its
// body inline), alone and with many concurrent callers sharing commits. It
// reports commits per acceptance: each commit is one fsync of the WAL.
func BenchmarkAccept(b *testing.B) {
	for _, c := range []struct{ par, body int }{{1, 0}, {32, 0}, {1, 4096}, {32, 4096}} {
		par := c.par
		body := make([]byte, c.body)
		b.Run(fmt.Sprintf("concurrent=%d/body=%d", par, c.body), func(b *testing.B) {
			ctx := context.Background()
			db, err := Open(ctx, filepath.Join(b.TempDir(), "db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			db.CreateDomain(ctx, "example.com", "")
			m, err := db.CreateMailbox(ctx, store.Mailbox{Address: "a@example.com", Domain: "example.com", SMTPAuth: true, SaveSent: true})
			if err != nil {
				b.Fatal(err)
			}
			var n atomic.Int64
			b.SetParallelism(par)
			c0, a0 := db.AcceptStats()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					id := fmt.Sprintf("m%d", n.Add(1))
					now := time.Now()
					var bodies []store.Body
					if len(body) > 0 {
						bodies = []store.Body{{Key: id, Data: body}}
					}
					err := db.Accept(ctx, store.Acceptance{
						Bodies:     bodies,
						Message:    store.Message{ID: id, MessageID: id + "@x", MailboxID: m.ID, EnvelopeFrom: m.Address, Size: 4096, Blob: id, DeliveryBlob: id, CreatedAt: now},
						Recipients: []string{m.Address},
						Delivered:  map[string]bool{m.Address: true},
						Entries: []store.FolderEntry{
							{MailboxID: m.ID, Folder: store.FolderSent, Blob: id, Size: 4096},
							{MailboxID: m.ID, Folder: store.FolderInbox, Blob: id, Size: 4096},
						},
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			c1, a1 := db.AcceptStats()
			b.ReportMetric(float64(c1-c0)/float64(a1-a0), "commits/accept")
		})
	}
}

// BenchmarkAppendTrace measures the trace writer's inserts: batches of 256
// events like an accepted message's (accepted, Sent Items copy, local
// delivery), reported per event.
func BenchmarkAppendTrace(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(b.TempDir(), "db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	batch := make([]store.TraceEvent, 256)
	b.ResetTimer()
	for i := range b.N {
		for j := range batch {
			id := fmt.Sprintf("%011x%012d", i, j)
			batch[j] = store.TraceEvent{At: time.Now(), Session: "s" + id[:6], QueueID: id, Kind: "accepted", Status: "accepted",
				Mailbox: "user@example.test", Sender: "user@example.test", Recipients: []string{"user@example.test"},
				MessageID: id + "@example.test", Size: 4300, Code: 250, Enhanced: "2.0.0", Text: "OK queued as " + id}
		}
		if err := db.AppendTrace(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/event")
}
