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
// queue row, two folder entries, submission record), alone and with many
// concurrent callers sharing commits. It reports commits per acceptance:
// each commit is one fsync of the WAL.
func BenchmarkAccept(b *testing.B) {
	for _, par := range []int{1, 32} {
		b.Run(fmt.Sprintf("concurrent=%d", par), func(b *testing.B) {
			ctx := context.Background()
			db, err := Open(ctx, filepath.Join(b.TempDir(), "db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			db.CreateDomain(ctx, "example.com")
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
					err := db.Accept(ctx, store.Acceptance{
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
